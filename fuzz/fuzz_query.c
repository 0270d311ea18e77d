/* fuzz_query.c — fuzz target: the query syntax and the engine query built
 * from it, for the public and for engineers, a snippet of the input cut
 * with the query's own highlights, and the input read as pinyin (its
 * reading, its syllables, a lookup and a completion). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kb/pinyin.h"
#include "kb/query.h"
#include "kb/snippet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static kb_lexicon *lex, *stop;
  static kb_tokenizer *tok;
  if (!tok && (kb_lexicon_new_builtin("lexicon", &lex, NULL) != KB_OK ||
               kb_lexicon_new_builtin("stopwords", &stop, NULL) != KB_OK ||
               kb_tokenizer_new(lex, &tok, NULL) != KB_OK))
    abort();
  for (int internal = 0; internal < 2; internal++) {
    kb_query_opts o = {.include_internal = internal, .stopwords = stop};
    kb_query *q = NULL;
    /* user text is never an error */
    if (kb_query_parse(tok, (const char *)data, size, &o, &q, NULL) != KB_OK) abort();
    kb_query_add_filter(q, "XP", "database");
    if (!kb_query_tree(q)) abort();
    kb_buf b = {0};
    kb_query_explain(q, &b);
    if (kb_utf8_valid((const char *)data, size, NULL))
      kb_snippet_make(tok, kb_query_highlights(q), (const char *)data, size, &KB_SNIPPET_HTML, &b,
                      NULL);
    kb_buf_free(&b);
    kb_query_free(q);
  }
  static kb_pinyin_map *map;
  if (!map) {
    map = kb_pinyin_map_new();
    if (!map || kb_pinyin_map_add(map, "数据库", strlen("数据库"), 3) != KB_OK ||
        kb_pinyin_map_seal(map) != KB_OK)
      abort();
  }
  kb_buf reading = {0}, initials = {0};
  kb_pinyin_of((const char *)data, size, &reading, &initials);
  kb_pinyin_is_syllables((const char *)data, size);
  const char *words[4];
  kb_pinyin_map_find(map, (const char *)data, size, true, words, 4);
  kb_pinyin_map_complete(map, (const char *)data, size, words, 4);
  kb_buf_free(&reading);
  kb_buf_free(&initials);
  return 0;
}
