/* fuzz_markdown.c — fuzz target: a whole article (front matter + cmark)
 * into a kb_doc, and the analysis of that document. Every segment is text
 * the analyzer takes: valid UTF-8 without NUL. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kb/analyze.h"
#include "kb/markdown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static kb_lexicon *lex;
  static kb_tokenizer *tok;
  if (!tok && (kb_lexicon_new_builtin("lexicon", &lex, NULL) != KB_OK ||
               kb_tokenizer_new(lex, &tok, NULL) != KB_OK))
    abort();
  kb_doc *doc = NULL;
  kb_error err = {0};
  if (kb_markdown_parse((const char *)data, size, "fuzz.md", &doc, &err) == KB_OK) {
    for (size_t i = 0; i < kb_doc_segment_count(doc); i++) {
      const kb_segment *s = kb_doc_segment(doc, i);
      if (!s->len || !kb_utf8_valid(s->text, s->len, NULL) || memchr(s->text, '\0', s->len))
        abort();
    }
    const char *body = kb_doc_get(doc, KB_FIELD_BODY);
    if (!body || strlen(body) > size) abort();
    kb_doc_set_str(doc, KB_FIELD_ID, "a/fuzz");
    kb_xdoc *xd = NULL;
    if (kb_analyze_doc(tok, doc, &xd, &err) != KB_OK) abort();
    kb_xdoc_free(xd);
  }
  kb_doc_free(doc);
  return 0;
}
