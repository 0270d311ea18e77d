/* seg_f1.c — word segmentation F1 of kb's tokenizer against SIGHAN 2005
 * gold files (space-separated words, one sentence a line).
 *
 *   seg_f1 GOLD [LINES] [--lexicon FILE] [--no-lexicon]
 *
 * Our words are the tokenizer's primaries; text between them (punctuation)
 * counts one word per character, as the gold has it. A word is right when
 * its byte span is a gold word's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/text.h"
#include "kb/tokenize.h"

typedef struct spans {
  size_t (*v)[2];
  size_t n, cap;
} spans;

static void add(spans *s, size_t a, size_t b) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 256;
    s->v = realloc(s->v, s->cap * sizeof *s->v);
  }
  s->v[s->n][0] = a;
  s->v[s->n][1] = b;
  s->n++;
}

static int on_token(const kb_token *t, void *ctx) {
  if (!t->alt) add(ctx, t->start, t->end);
  return 0;
}

/* Fills the gaps between our words with one word per character. */
static void fill_gaps(const char *text, size_t len, spans *ours, spans *out) {
  size_t at = 0;
  for (size_t i = 0; i <= ours->n; i++) {
    size_t next = i < ours->n ? ours->v[i][0] : len;
    while (at < next) {
      size_t s = at;
      kb_utf8_next(text, len, &at);
      add(out, s, at);
    }
    if (i < ours->n) {
      add(out, ours->v[i][0], ours->v[i][1]);
      at = ours->v[i][1];
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: seg_f1 GOLD [LINES] [--lexicon FILE] [--no-lexicon]\n");
    return 2;
  }
  long max_lines = 3000;
  const char *extra = NULL;
  bool no_lex = false;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--lexicon") && i + 1 < argc) extra = argv[++i];
    else if (!strcmp(argv[i], "--no-lexicon")) no_lex = true;
    else max_lines = atol(argv[i]);
  }
  kb_error err = {0};
  kb_lexicon *lex = NULL;
  if (!no_lex && kb_lexicon_new_builtin("lexicon", &lex, &err) != KB_OK) return 1;
  if (extra && kb_lexicon_add_file(lex, extra, &err) != KB_OK) {
    fprintf(stderr, "seg_f1: %s\n", err.message);
    return 1;
  }
  kb_tokenizer *tok;
  if (kb_tokenizer_new(lex, &tok, &err) != KB_OK) return 1;
  FILE *f = fopen(argv[1], "r");
  if (!f) return 1;
  char *line = NULL;
  size_t cap = 0, right = 0, ours_n = 0, gold_n = 0;
  long lines = 0;
  ssize_t n;
  kb_buf text = {0};
  while (lines < max_lines && (n = getline(&line, &cap, f)) > 0) {
    spans gold = {0}, ours = {0}, words = {0};
    kb_buf_reset(&text);
    /* the gold words, separated by (ASCII or ideographic) spaces */
    for (size_t i = 0; i < (size_t)n;) {
      while (i < (size_t)n && (line[i] == ' ' || line[i] == '\n' || line[i] == '\r' ||
                               !strncmp(line + i, "\xE3\x80\x80", 3)))
        i += line[i] == '\xE3' ? 3 : 1;
      size_t s = i;
      while (i < (size_t)n && line[i] != ' ' && line[i] != '\n' && line[i] != '\r' &&
             strncmp(line + i, "\xE3\x80\x80", 3))
        i++;
      if (i > s) {
        add(&gold, text.len, text.len + (i - s));
        kb_buf_append(&text, line + s, i - s);
      }
    }
    if (!gold.n) continue;
    lines++;
    uint32_t pos = 1;
    kb_tokenizer_run(tok, text.data, text.len, &pos, on_token, &ours, &err);
    fill_gaps(text.data, text.len, &ours, &words);
    size_t g = 0;
    for (size_t k = 0; k < words.n; k++) {
      while (g < gold.n && gold.v[g][0] < words.v[k][0]) g++;
      if (g < gold.n && gold.v[g][0] == words.v[k][0] && gold.v[g][1] == words.v[k][1]) right++;
    }
    ours_n += words.n;
    gold_n += gold.n;
    free(gold.v);
    free(ours.v);
    free(words.v);
  }
  double p = (double)right / (double)ours_n, r = (double)right / (double)gold_n;
  printf("lines=%ld precision=%.4f recall=%.4f f1=%.4f\n", lines, p, r, 2 * p * r / (p + r));
  free(line);
  fclose(f);
  kb_buf_free(&text);
  kb_tokenizer_free(tok);
  kb_lexicon_free(lex);
  return 0;
}
