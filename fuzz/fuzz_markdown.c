/* fuzz_markdown.c — fuzz target: front matter + Markdown parsing, the
 * analysis of the parsed document, and safe HTML rendering. */
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
    kb_doc_set_str(doc, KB_FIELD_ID, "a/fuzz");
    kb_xdoc *xd = NULL;
    if (kb_analyze_doc(tok, doc, &xd, &err) != KB_OK) abort();
    kb_xdoc_free(xd);
    const char *md = kb_doc_get(doc, KB_FIELD_BODY);
    kb_buf html = {0};
    kb_markdown_to_html(md, strlen(md), size & 1, &html, &err);
    kb_buf_free(&html);
  }
  kb_doc_free(doc);
  return 0;
}
