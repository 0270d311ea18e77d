/* fuzz_snippet.c — fuzz target: snippets. The input's first line is the
 * query, the rest the document text (made valid UTF-8, as stored text is).
 * In every style the passage is one line of whole characters, at most the
 * style's length; in HTML, the only markup is the style's own marks, every
 * other < > & " ' escaped; in the terminal's, no control byte but the
 * style's own, C0, DEL or C1 (a ticket's text must not move the
 * engineer's cursor). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kb/query.h"
#include "kb/snippet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s[0..len) without every occurrence of mark. */
static void drop(kb_buf *s, const char *mark) {
  size_t m = strlen(mark), o = 0;
  for (size_t i = 0; i < s->len;) {
    if (s->len - i >= m && !memcmp(s->data + i, mark, m)) {
      i += m;
      continue;
    }
    s->data[o++] = s->data[i++];
  }
  s->len = o;
  if (s->data) s->data[o] = '\0';
}

static void check(const kb_snippet_style *st, kb_buf *out) {
  if (out->len && !kb_utf8_valid(out->data, out->len, NULL)) abort();
  drop(out, st->open);
  drop(out, st->close);
  size_t chars = 0;
  for (size_t i = 0; i < out->len; chars++) {
    unsigned char c = (unsigned char)out->data[i];
    if (c < 0x20 || c == 0x7f) {
      /* HTML may keep a control character as text; nothing else may */
      if (!st->html_escape || c == '\n' || c == '\r') abort();
    }
    /* nor a C1 control (U+0080–U+009F) on a terminal */
    if (!st->html_escape && c == 0xC2 && i + 1 < out->len &&
        (unsigned char)out->data[i + 1] <= 0x9F)
      abort();
    if (st->html_escape && (c == '<' || c == '>' || c == '"' || c == '\'')) abort();
    if (st->html_escape && c == '&') {
      static const char *const ent[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
      size_t k = 0;
      while (k < 5 && strncmp(out->data + i, ent[k], strlen(ent[k]))) k++;
      if (k == 5) abort();
      i += strlen(ent[k]);
      continue;
    }
    kb_utf8_next(out->data, out->len, &i);
  }
  /* the passage, and an ellipsis either side */
  if (chars > st->max_chars + 2) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static kb_lexicon *lex, *stop;
  static kb_tokenizer *tok;
  if (!tok && (kb_lexicon_new_builtin("lexicon", &lex, NULL) != KB_OK ||
               kb_lexicon_new_builtin("stopwords", &stop, NULL) != KB_OK ||
               kb_tokenizer_new(lex, &tok, NULL) != KB_OK))
    abort();
  const char *s = (const char *)data, *nl = memchr(s, '\n', size);
  size_t qlen = nl ? (size_t)(nl - s) : size;
  kb_query_opts o = {.stopwords = stop};
  kb_query *q = NULL;
  if (kb_query_parse(tok, s, qlen, &o, &q, NULL) != KB_OK) abort();
  kb_buf text = {0};
  kb_buf_append(&text, nl ? nl + 1 : "", nl ? size - qlen - 1 : 0);
  text.len = kb_utf8_drop_invalid(text.data, text.len);
  const kb_snippet_style *styles[] = {&KB_SNIPPET_HTML, &KB_SNIPPET_TERMINAL, &KB_SNIPPET_PLAIN};
  for (size_t i = 0; i < 3; i++) {
    kb_buf out = {0};
    if (kb_snippet_make(tok, kb_query_highlights(q), text.data, text.len, styles[i], &out, NULL) !=
        KB_OK)
      abort();
    check(styles[i], &out);
    kb_buf_free(&out);
  }
  kb_buf_free(&text);
  kb_query_free(q);
  return 0;
}
