/* markdown.h — solution articles: front matter + Markdown (cmark) into a
 * kb_doc, and Markdown into safe HTML for display.
 *
 * Front matter is an optional block at the top of the file between two
 * `---` lines, holding `key: value` lines: id, title, product, category,
 * tags (comma-separated), visibility (public|internal), updated
 * (YYYY-MM-DD). A section whose heading ends with `{internal}` is internal
 * up to the next heading of the same or a higher level.
 */
#ifndef KB_MARKDOWN_H
#define KB_MARKDOWN_H

#include <stdbool.h>
#include <stddef.h>

#include "kb/doc.h"
#include "kb/error.h"
#include "kb/text.h"

/* Parses an article. path names the file in error messages ("path:line:
 * reason") and gives the fallback title. On success *out (caller frees) has
 * type "article", the front matter fields, BODY = the Markdown after the
 * front matter, and the text segments; ID is set only when the front matter
 * sets it (as "a/" + id). Returns KB_EPARSE or KB_EENCODING for a malformed
 * file. */
int kb_markdown_parse(const char *src, size_t len, const char *path, kb_doc **out,
                      kb_error *err);

/* Appends the id of the article at rel_path (relative to the folder given to
 * add or sync): "a/" + rel_path without ".md". */
int kb_markdown_article_id(const char *rel_path, kb_buf *out);

/* Calls fn for every Markdown file (*.md) under dir, recursively, in name
 * order, skipping hidden files and folders: path is dir + rel, rel the path
 * relative to dir. why is NULL, or says why the folder path could not be
 * read (then rel is that folder). A non-zero return stops the walk and is
 * returned. */
typedef int (*kb_markdown_file_fn)(const char *path, const char *rel, const char *why, void *ctx);
int kb_markdown_each_file(const char *dir, kb_markdown_file_fn fn, void *ctx);

/* Appends md rendered by cmark in safe mode (raw HTML and javascript: links
 * removed), without internal sections unless include_internal. */
int kb_markdown_to_html(const char *md, size_t len, bool include_internal, kb_buf *out,
                        kb_error *err);

/* Appends md without its internal sections: the source lines of their
 * blocks left out, so that it shows what kb_markdown_to_html(md, false)
 * does (a link defined in an internal section is no longer defined). The
 * public's copy of an article's Markdown. */
int kb_markdown_public(const char *md, size_t len, kb_buf *out);

#endif
