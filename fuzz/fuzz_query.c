/* fuzz_query.c — fuzz target: the query syntax (fields, phrases, filters,
 * operators, any bytes) and the engine query built from it, for the public
 * and for engineers. User text is never an error, and the public's query
 * always keeps its visibility filter. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kb/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static kb_lexicon *lex, *stop;
  static kb_tokenizer *tok;
  static kb_synonyms *syn;
  if (!tok && (kb_lexicon_new_builtin("lexicon", &lex, NULL) != KB_OK ||
               kb_lexicon_new_builtin("stopwords", &stop, NULL) != KB_OK ||
               kb_tokenizer_new(lex, &tok, NULL) != KB_OK ||
               kb_synonyms_new_builtin(tok, NULL, &syn, NULL) != KB_OK))
    abort();
  for (int v = 0; v < 4; v++) {
    kb_query_opts o = {.include_internal = v & 1, .stopwords = stop,
                       .synonyms = v & 2 ? syn : NULL, .current_analysis = v & 2};
    kb_query *q = NULL;
    if (kb_query_parse(tok, (const char *)data, size, &o, &q, NULL) != KB_OK) abort();
    kb_query_add_filter(q, "XP", "database");
    kb_query_add_range(q, 1, "2024-01-01", NULL);
    if (!kb_query_tree(q)) abort();
    kb_qnode *filters = kb_query_filters(q);
    if (!filters) abort();
    kb_qnode_free(filters);
    double f = kb_query_match_fraction(q);
    if (!(f >= 0 && f <= 1)) abort();
    kb_buf b = {0};
    if (kb_query_explain(q, &b) != KB_OK) abort();
    if (b.len && !kb_utf8_valid(b.data, b.len, NULL)) abort();
    kb_buf_free(&b);
    kb_query_free(q);
  }
  return 0;
}
