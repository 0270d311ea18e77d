/* richtext.h — the rich text of ticket exports made plain, readable text:
 * HTML (Zendesk html_body, ServiceNow and ZenTao rich-text fields) and Jira
 * wiki markup.
 *
 * HTML: tags are dropped, entities decoded, block elements (p, div, br, li,
 * tr, h1–h6, pre, …) become line breaks, a list item starts with "- ", and
 * the content of script, style, head, template and comments is dropped, so
 * nothing of a page's code reaches the index or a snippet. Text whitespace
 * collapses as a browser would, except inside pre. Output is at most the
 * input's length plus a few bytes per block element, and valid UTF-8
 * whenever the input is (a numeric entity naming no character becomes
 * U+FFFD).
 *
 * Jira wiki markup stays what it is, readable text, with the pieces that
 * read badly made Markdown: "h2. X" → "## X", {code}/{noformat} → ```,
 * [text|url] → "text (url)", [~user] → "@user", {{mono}} → `mono`,
 * "bq. " → "> ", {quote}, {panel}, {color} tokens dropped.
 */
#ifndef KB_RICHTEXT_H
#define KB_RICHTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "kb/text.h"

/* Appends the text of HTML s[0..len) to out. Returns KB_OK or KB_ENOMEM. */
int kb_richtext_html(const char *s, size_t len, kb_buf *out);

/* Whether s looks like HTML rather than plain text that happens to hold a
 * '<' ("a < b", "<none>"): a closing tag, a self-closing tag, <br>, <p>,
 * <div> or an entity such as &nbsp;. */
bool kb_richtext_looks_html(const char *s, size_t len);

/* Appends Jira wiki markup s[0..len) as readable text to out. KB_OK or
 * KB_ENOMEM. */
int kb_richtext_jira(const char *s, size_t len, kb_buf *out);

#endif
