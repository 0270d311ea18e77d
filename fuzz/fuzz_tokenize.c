/* fuzz_tokenize.c — fuzz target: the tokenizer on arbitrary bytes, and on
 * the same bytes made valid UTF-8 (as analysed text is). Tokens lie inside
 * the text, primaries' positions strictly increase, alternatives share a
 * primary's position, terms are non-empty, bounded and (for valid input)
 * UTF-8; and a second run gives the same tokens (no state kept between
 * texts). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kb/text.h"
#include "kb/tokenize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct run {
  size_t len;
  bool valid;
  bool any_primary;
  uint32_t first, last; /* the positions of the first and last primary */
  bool any_alt;
  uint32_t alt_min, alt_max;
  uint64_t hash;        /* of every token's term, kind, position and range */
} run;

static int check_token(const kb_token *t, void *ctx) {
  run *r = ctx;
  if (t->start > t->end || t->end > r->len) abort();
  if (!t->term_len || strlen(t->term) != t->term_len) abort();
  if (r->valid && !kb_utf8_valid(t->term, t->term_len, NULL)) abort();
  if (t->alt) {
    if (!r->any_alt || t->pos < r->alt_min) r->alt_min = t->pos;
    if (!r->any_alt || t->pos > r->alt_max) r->alt_max = t->pos;
    r->any_alt = true;
  } else {
    if (r->any_primary && t->pos <= r->last) abort();
    if (!r->any_primary) r->first = t->pos;
    r->any_primary = true;
    r->last = t->pos;
  }
  uint64_t v[4] = {kb_fnv1a(t->term, t->term_len), (uint64_t)t->kind << 32 | t->pos, t->start,
                   t->end};
  r->hash = kb_fnv1a(v, sizeof v) ^ (r->hash * 0x100000001b3ULL);
  return 0;
}

static void tokenize(kb_tokenizer *tok, const char *text, size_t len, bool valid) {
  run a = {.len = len, .valid = valid}, b = a;
  uint32_t pos = 5;
  if (kb_tokenizer_run(tok, text, len, &pos, check_token, &a, NULL) != KB_OK) abort();
  /* a word too long to index keeps its position, without a token */
  if (a.any_primary && (a.first < 5 || pos <= a.last)) abort();
  if (pos < 5) abort();
  if (a.any_alt && (!a.any_primary || a.alt_min < a.first || a.alt_max > a.last)) abort();
  pos = 5;
  if (kb_tokenizer_run(tok, text, len, &pos, check_token, &b, NULL) != KB_OK) abort();
  if (a.hash != b.hash) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static kb_lexicon *lex;
  static kb_tokenizer *tok;
  if (!tok && (kb_lexicon_new_builtin("lexicon", &lex, NULL) != KB_OK ||
               kb_tokenizer_new(lex, &tok, NULL) != KB_OK))
    abort();
  tokenize(tok, (const char *)data, size, kb_utf8_valid((const char *)data, size, NULL));
  kb_buf clean = {0};
  kb_buf_append(&clean, (const char *)data, size);
  clean.len = kb_utf8_drop_invalid(clean.data, clean.len);
  tokenize(tok, clean.data, clean.len, true);
  kb_buf_free(&clean);
  return 0;
}
