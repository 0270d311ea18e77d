/* snippet.h — a short passage of a document around the query's words, with
 * the matched words marked; correct for Chinese (cut on characters, marks on
 * whole words or bigrams), HTML-safe when asked. */
#ifndef KB_SNIPPET_H
#define KB_SNIPPET_H

#include <stdbool.h>
#include <stddef.h>

#include "kb/error.h"
#include "kb/text.h"
#include "kb/tokenize.h"

typedef struct kb_snippet_style {
  const char *open;  /* before a matched word, e.g. "<mark>" */
  const char *close; /* after it, e.g. "</mark>" */
  bool html_escape;  /* escape & < > " ' in the text */
  size_t max_chars;  /* length of the passage in characters */
} kb_snippet_style;

extern const kb_snippet_style KB_SNIPPET_HTML;     /* <mark>…</mark>, escaped */
extern const kb_snippet_style KB_SNIPPET_TERMINAL; /* bold */
extern const kb_snippet_style KB_SNIPPET_PLAIN;    /* **word** */

/* Appends to out the best passage of text[0..len) for the terms in
 * highlights (as kb_query_highlights() gives them), on one line. With no
 * match, the start of the text. */
int kb_snippet_make(kb_tokenizer *t, const kb_lexicon *highlights, const char *text, size_t len,
                    const kb_snippet_style *style, kb_buf *out, kb_error *err);

/* Appends s[0..len) with & < > " ' escaped for HTML. */
int kb_html_escape(const char *s, size_t len, kb_buf *out);

#endif
