/* test_tokenize.c — the tokenizer (technical tokens, stemming, Chinese words
 * and bigrams, positions and offsets) and the lexicon. Table-driven cases
 * live in tests/data/unit/tokens.tsv. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/tokenize.h"
#include "testutil.h"

#define TOKENS_TSV "tests/data/unit/tokens.tsv"

/* ------------------------------------------------------------- collecting */

typedef struct tok {
  char *term;
  char *surface;
  kb_token_kind kind;
  bool alt;
  uint32_t pos;
  size_t start, end;
} tok;

typedef struct toks {
  tok *v;
  size_t n, cap;
  int stop_after; /* > 0: return stop_code after this many tokens */
  int stop_code;
} toks;

static char *dup_n(const char *s, size_t n) {
  char *p = malloc(n + 1);
  assert_non_null(p);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

static int collect(const kb_token *t, void *ctx) {
  toks *l = ctx;
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 16;
    l->v = realloc(l->v, l->cap * sizeof *l->v);
    assert_non_null(l->v);
  }
  /* the term is NUL-terminated at term_len */
  assert_int_equal(t->term[t->term_len], '\0');
  l->v[l->n++] = (tok){dup_n(t->term, t->term_len), dup_n(t->surface, t->surface_len), t->kind,
                       t->alt, t->pos, t->start, t->end};
  if (l->stop_after > 0 && (int)l->n == l->stop_after) return l->stop_code;
  return 0;
}

static void toks_free(toks *l) {
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].term);
    free(l->v[i].surface);
  }
  free(l->v);
  *l = (toks){0};
}

typedef struct fixture {
  kb_lexicon *lex;
  kb_tokenizer *tk;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  kb_error err = {0};
  if (!f || kb_lexicon_new_builtin("lexicon", &f->lex, &err) != KB_OK ||
      kb_tokenizer_new(f->lex, &f->tk, &err) != KB_OK) {
    fprintf(stderr, "setup: %s\n", err.message);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  kb_tokenizer_free(f->tk);
  kb_lexicon_free(f->lex);
  free(f);
  return 0;
}

/* Tokenizes text from position 1 into l; returns kb_tokenizer_run's value. */
static int run(kb_tokenizer *tk, const char *text, toks *l) {
  uint32_t pos = 1;
  kb_error err = {0};
  return kb_tokenizer_run(tk, text, strlen(text), &pos, collect, l, &err);
}

/* Index of the first token with this term (and alt flag, unless -1). */
static long find(const toks *l, const char *term, int alt) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i].term, term) == 0 && (alt < 0 || l->v[i].alt == (alt != 0)))
      return (long)i;
  return -1;
}

/* The primary terms joined by spaces (caller frees). */
static char *primaries(const toks *l) {
  kb_buf b = {0};
  for (size_t i = 0; i < l->n; i++) {
    if (l->v[i].alt) continue;
    if (b.len) kb_buf_putc(&b, ' ');
    kb_buf_puts(&b, l->v[i].term);
  }
  return kb_buf_detach(&b);
}

/* Checks the invariants every tokenization must keep. */
static void check_invariants(const toks *l, const char *text, size_t len, uint32_t first,
                             uint32_t end_pos) {
  uint32_t last = 0;
  bool any = false;
  for (size_t i = 0; i < l->n; i++) {
    const tok *t = &l->v[i];
    assert_true(strlen(t->term) > 0);
    assert_true(strlen(t->term) <= KB_TERM_MAX);
    assert_true(kb_utf8_valid(t->term, strlen(t->term), NULL));
    assert_true(t->start < t->end);
    assert_true(t->end <= len);
    /* the range never cuts a UTF-8 sequence */
    assert_true(kb_utf8_valid(text + t->start, t->end - t->start, NULL));
    assert_true(t->pos >= first);
    assert_true(t->pos < end_pos);
    if (!t->alt) {
      if (any) assert_true(t->pos > last);
      last = t->pos;
      any = true;
    }
    if (t->kind == KB_TOKEN_TECH || t->kind == KB_TOKEN_BIGRAM || t->kind == KB_TOKEN_COMPOUND ||
        t->kind == KB_TOKEN_PAIR)
      assert_true(t->alt);
  }
}

/* --------------------------------------------------------- table of cases */

/* Splits s (modified in place) on spaces; calls fn per word. */
static void each_word(char *s, void (*fn)(const char *w, void *ctx), void *ctx) {
  if (strcmp(s, "-") == 0) return;
  for (char *w = strtok(s, " "); w; w = strtok(NULL, " ")) fn(w, ctx);
}

typedef struct case_ctx {
  const toks *l;
  const char *input;
} case_ctx;

static void expect_alt(const char *w, void *vctx) {
  case_ctx *c = vctx;
  if (find(c->l, w, 1) < 0) fail_msg("%s: alternative '%s' missing", c->input, w);
}

static void expect_absent(const char *w, void *vctx) {
  case_ctx *c = vctx;
  if (find(c->l, w, -1) >= 0) fail_msg("%s: term '%s' should not appear", c->input, w);
}

static void test_cases_from_table(void **state) {
  fixture *f = *state;
  FILE *fp = fopen(TOKENS_TSV, "r");
  if (!fp) fail_msg("cannot open %s (run from the source root)", TOKENS_TSV);
  char line[4096];
  int cases = 0;
  while (fgets(line, sizeof line, fp)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0] || line[0] == '#') continue;
    char *cols[4] = {0};
    char *p = line;
    for (int k = 0; k < 4; k++) {
      cols[k] = p;
      p = p ? strchr(p, '\t') : NULL;
      if (p) *p++ = '\0';
    }
    if (!cols[1] || !cols[2] || !cols[3]) fail_msg("%s: bad line: %s", TOKENS_TSV, line);
    toks l = {0};
    assert_int_equal(run(f->tk, cols[0], &l), KB_OK);
    char *prim = primaries(&l);
    if (strcmp(prim, cols[1]) != 0)
      fail_msg("%s: primaries '%s', expected '%s'", cols[0], prim, cols[1]);
    free(prim);
    case_ctx c = {&l, cols[0]};
    each_word(cols[2], expect_alt, &c);
    each_word(cols[3], expect_absent, &c);
    check_invariants(&l, cols[0], strlen(cols[0]), 1, 1000);
    toks_free(&l);
    cases++;
  }
  fclose(fp);
  assert_true(cases >= 20);
}

/* ----------------------------------------------------- technical tokens */

static void test_ora_error_whole_and_parts(void **state) {
  fixture *f = *state;
  toks l = {0};
  uint32_t pos = 10;
  const char *text = "see ORA-12170";
  assert_int_equal(kb_tokenizer_run(f->tk, text, strlen(text), &pos, collect, &l, NULL), KB_OK);
  long ora = find(&l, "ora", 0), num = find(&l, "12170", 0), whole = find(&l, "ora-12170", 1);
  assert_true(ora >= 0 && num >= 0 && whole >= 0);
  assert_int_equal(l.v[ora].kind, KB_TOKEN_WORD);
  assert_int_equal(l.v[num].kind, KB_TOKEN_NUMBER);
  assert_int_equal(l.v[whole].kind, KB_TOKEN_TECH);
  assert_int_equal(l.v[ora].pos, 11); /* "see" took 10 */
  assert_int_equal(l.v[num].pos, 12);
  assert_int_equal(l.v[whole].pos, l.v[ora].pos);
  /* offsets point at the source text */
  assert_int_equal(l.v[ora].start, 4);
  assert_int_equal(l.v[ora].end, 7);
  assert_int_equal(l.v[num].start, 8);
  assert_int_equal(l.v[num].end, 13);
  assert_int_equal(l.v[whole].start, 4);
  assert_int_equal(l.v[whole].end, 13);
  assert_int_equal(pos, 13);
  toks_free(&l);
}

static void test_hex_code_is_one_number_also_without_0x(void **state) {
  fixture *f = *state;
  toks l = {0};
  assert_int_equal(run(f->tk, "0x80070005", &l), KB_OK);
  assert_int_equal(l.n, 2);
  assert_string_equal(l.v[0].term, "0x80070005");
  assert_int_equal(l.v[0].kind, KB_TOKEN_NUMBER);
  assert_false(l.v[0].alt);
  /* the digits alone, as people write them, at the same position */
  assert_string_equal(l.v[1].term, "80070005");
  assert_int_equal(l.v[1].kind, KB_TOKEN_VARIANT);
  assert_true(l.v[1].alt);
  assert_int_equal(l.v[1].pos, l.v[0].pos);
  assert_int_equal(l.v[1].start, 0);
  assert_int_equal(l.v[1].end, strlen("0x80070005"));
  toks_free(&l);
  /* not hex after 0x: no variant */
  assert_int_equal(run(f->tk, "0xyz", &l), KB_OK);
  assert_int_equal(find(&l, "yz", -1), -1);
  toks_free(&l);
}

static void test_letters_then_digits_are_two_parts(void **state) {
  fixture *f = *state;
  toks l = {0};
  assert_int_equal(run(f->tk, "E1001", &l), KB_OK);
  long e = find(&l, "e", 0), n = find(&l, "1001", 0), pair = find(&l, "e 1001", 1),
       whole = find(&l, "e1001", 1);
  assert_true(e >= 0 && n >= 0 && pair >= 0 && whole >= 0);
  assert_int_equal(l.v[n].pos, l.v[e].pos + 1);
  assert_int_equal(l.v[pair].kind, KB_TOKEN_PAIR);
  assert_int_equal(l.v[whole].kind, KB_TOKEN_TECH);
  assert_int_equal(l.v[whole].pos, l.v[e].pos);
  assert_int_equal(l.v[n].start, 1);
  toks_free(&l);
  /* a run that turns twice or more (a hash, an id) stays one number */
  assert_int_equal(run(f->tk, "a1b2", &l), KB_OK);
  assert_int_equal(l.n, 1);
  assert_string_equal(l.v[0].term, "a1b2");
  assert_int_equal(l.v[0].kind, KB_TOKEN_NUMBER);
  toks_free(&l);
}

static void test_version_gives_both_wholes_at_first_position(void **state) {
  fixture *f = *state;
  toks l = {0};
  assert_int_equal(run(f->tk, "v2.4.1", &l), KB_OK);
  long a = find(&l, "v2.4.1", 1), b = find(&l, "2.4.1", 1), v = find(&l, "v", 0);
  assert_true(a >= 0 && b >= 0 && v >= 0);
  assert_int_equal(l.v[a].pos, l.v[v].pos);
  assert_int_equal(l.v[b].pos, l.v[v].pos);
  assert_int_equal(l.v[a].kind, KB_TOKEN_TECH);
  assert_int_equal(l.v[b].kind, KB_TOKEN_TECH);
  toks_free(&l);
}

static void test_path_whole_and_stemmed_parts(void **state) {
  fixture *f = *state;
  toks l = {0};
  assert_int_equal(run(f->tk, "/var/log/messages", &l), KB_OK);
  long whole = find(&l, "/var/log/messages", 1), msg = find(&l, "messag", 0);
  assert_true(whole >= 0 && msg >= 0);
  assert_string_equal(l.v[msg].surface, "messages"); /* surface is unstemmed */
  assert_int_equal(l.v[whole].start, 0);
  assert_int_equal(l.v[whole].end, strlen("/var/log/messages"));
  assert_int_equal(l.v[msg].start, 9);
  toks_free(&l);
}

static void test_flag_keeps_dashes(void **state) {
  fixture *f = *state;
  toks l = {0};
  assert_int_equal(run(f->tk, "rm --force", &l), KB_OK);
  long whole = find(&l, "--force", 1), part = find(&l, "forc", 0);
  assert_true(whole >= 0 && part >= 0);
  assert_int_equal(l.v[whole].pos, l.v[part].pos);
  assert_int_equal(l.v[whole].start, 3);
  toks_free(&l);
}

static void test_trailing_punctuation_trimmed(void **state) {
  fixture *f = *state;
  toks l = {0};
  const char *text = "edit nginx.conf.";
  assert_int_equal(run(f->tk, text, &l), KB_OK);
  long whole = find(&l, "nginx.conf", 1);
  assert_true(whole >= 0);
  assert_int_equal(l.v[whole].end, strlen(text) - 1);
  assert_int_equal(find(&l, "nginx.conf.", -1), -1);
  toks_free(&l);
}

static void test_cplusplus_keeps_signs(void **state) {
  fixture *f = *state;
  toks l = {0};
  assert_int_equal(run(f->tk, "C++ compiler", &l), KB_OK);
  assert_true(find(&l, "c++", 1) >= 0);
  assert_true(find(&l, "c", 0) >= 0);
  toks_free(&l);
}

static void test_english_stemming_keeps_surface(void **state) {
  fixture *f = *state;
  toks l = {0};
  assert_int_equal(run(f->tk, "Running connections", &l), KB_OK);
  assert_int_equal(l.n, 2);
  assert_string_equal(l.v[0].term, "run");
  assert_string_equal(l.v[0].surface, "running");
  assert_int_equal(l.v[0].kind, KB_TOKEN_WORD);
  assert_string_equal(l.v[1].term, "connect");
  assert_string_equal(l.v[1].surface, "connections");
  toks_free(&l);
}

/* Sorted "term/alt/pos" lines of a tokenization, to compare two of them. */
static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *signature(const toks *l) {
  char **lines = calloc(l->n ? l->n : 1, sizeof *lines);
  assert_non_null(lines);
  for (size_t i = 0; i < l->n; i++) {
    kb_buf b = {0};
    kb_buf_printf(&b, "%s/%d/%u/%d", l->v[i].term, l->v[i].alt, l->v[i].pos, l->v[i].kind);
    lines[i] = kb_buf_detach(&b);
  }
  qsort(lines, l->n, sizeof *lines, cmp_str);
  kb_buf out = {0};
  for (size_t i = 0; i < l->n; i++) {
    kb_buf_puts(&out, lines[i]);
    kb_buf_putc(&out, '\n');
    free(lines[i]);
  }
  free(lines);
  return kb_buf_detach(&out);
}

static void test_full_width_same_terms_as_ascii(void **state) {
  fixture *f = *state;
  static const char *pairs[][2] = {
      {"ＯＲＡ－１２１７０", "ORA-12170"},
      {"Ｅ１００１ ｅｒｒｏｒ", "E1001 error"},
      {"ｎｇｉｎｘ．ｃｏｎｆ", "nginx.conf"},
  };
  for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
    toks wide = {0}, ascii = {0};
    assert_int_equal(run(f->tk, pairs[k][0], &wide), KB_OK);
    assert_int_equal(run(f->tk, pairs[k][1], &ascii), KB_OK);
    char *a = signature(&wide), *b = signature(&ascii);
    assert_true(strlen(b) > 0);
    assert_string_equal(a, b);
    free(a);
    free(b);
    toks_free(&wide);
    toks_free(&ascii);
  }
}

/* ------------------------------------------------ positions and offsets */

static void test_positions_start_at_pos_and_increase(void **state) {
  fixture *f = *state;
  const char *text = "打印机脱机 ORA-12170 after v2.4.1, 数据库连接超时 /var/log/messages ok";
  toks l = {0};
  uint32_t pos = 100;
  assert_int_equal(kb_tokenizer_run(f->tk, text, strlen(text), &pos, collect, &l, NULL), KB_OK);
  assert_true(l.n > 10);
  /* the first primary takes exactly the passed position */
  size_t first = 0;
  while (l.v[first].alt) first++;
  assert_int_equal(l.v[first].pos, 100);
  uint32_t primaries_seen = 0, last = 0;
  for (size_t i = 0; i < l.n; i++) {
    if (l.v[i].alt) continue;
    if (primaries_seen) assert_true(l.v[i].pos > last);
    last = l.v[i].pos;
    primaries_seen++;
  }
  assert_true(primaries_seen > 10);
  /* *pos is left one past the last primary */
  assert_int_equal(pos, last + 1);
  check_invariants(&l, text, strlen(text), 100, pos);
  toks_free(&l);
}

static void test_pos_continues_across_calls(void **state) {
  fixture *f = *state;
  toks l = {0};
  uint32_t pos = 1;
  assert_int_equal(kb_tokenizer_run(f->tk, "alpha beta", 10, &pos, collect, &l, NULL), KB_OK);
  assert_int_equal(pos, 3);
  assert_int_equal(kb_tokenizer_run(f->tk, "gamma", 5, &pos, collect, &l, NULL), KB_OK);
  assert_int_equal(pos, 4);
  assert_int_equal(l.n, 3);
  assert_string_equal(l.v[2].term, "gamma");
  assert_int_equal(l.v[2].pos, 3);
  assert_int_equal(l.v[2].start, 0); /* offsets are relative to each call's text */
  toks_free(&l);
}

static void test_offsets_point_at_source_text(void **state) {
  fixture *f = *state;
  const char *text = "Ｅｒｒｏｒ: 打印机的驱动程序 Connections /etc/hosts 数据库";
  toks l = {0};
  assert_int_equal(run(f->tk, text, &l), KB_OK);
  assert_true(l.n > 5);
  for (size_t i = 0; i < l.n; i++) {
    const tok *t = &l.v[i];
    if (t->kind == KB_TOKEN_PAIR || t->kind == KB_TOKEN_COMPOUND) {
      /* words joined: from the start of the first to the end of the last */
      bool starts = false, ends = false;
      for (size_t k = 0; k < l.n; k++)
        if (!l.v[k].alt) {
          starts |= l.v[k].start == t->start && strncmp(t->term, l.v[k].term, strlen(l.v[k].term)) == 0;
          ends |= l.v[k].end == t->end;
        }
      assert_true(starts && ends);
      continue;
    }
    kb_buf folded = {0};
    assert_int_equal(kb_text_fold(text + t->start, t->end - t->start, &folded, NULL), KB_OK);
    /* the source range folds to the surface (whole tokens and bigrams: the term) */
    const char *want = t->alt ? t->term : t->surface;
    if (strcmp(folded.data, want) != 0)
      fail_msg("token '%s' [%zu,%zu) folds to '%s'", t->term, t->start, t->end, folded.data);
    kb_buf_free(&folded);
  }
  long err = find(&l, "error", 0);
  assert_true(err >= 0);
  assert_int_equal(l.v[err].start, 0);
  assert_int_equal(l.v[err].end, strlen("Ｅｒｒｏｒ"));
  toks_free(&l);
}

/* ---------------------------------------------------------------- Chinese */

static void test_lexicon_merges_icu_split(void **state) {
  fixture *f = *state;
  toks with = {0}, without = {0};
  kb_tokenizer *bare;
  assert_int_equal(kb_tokenizer_new(NULL, &bare, NULL), KB_OK);
  assert_int_equal(run(f->tk, "打印机", &with), KB_OK);
  assert_int_equal(run(bare, "打印机", &without), KB_OK);
  char *p = primaries(&with);
  assert_string_equal(p, "打印机");
  free(p);
  assert_int_equal(with.v[find(&with, "打印机", 0)].kind, KB_TOKEN_CJK);
  /* ICU alone splits it: the lexicon is what makes it one word */
  p = primaries(&without);
  assert_string_equal(p, "打印 机");
  free(p);
  /* the ICU piece stays findable as an alternative */
  long piece = find(&with, "打印", 1);
  assert_true(piece >= 0);
  assert_int_equal(with.v[piece].kind, KB_TOKEN_CJK);
  toks_free(&with);
  toks_free(&without);
  kb_tokenizer_free(bare);
}

/* ICU joins 满 and 忘 to the aspect particle 了 but not 坏: every such
 * word is split, so that the verb is a word of its own either way; 为了 and
 * 不了 (unable) are not the particle and stay whole. */
static void test_aspect_particle_le_is_split(void **state) {
  fixture *f = *state;
  const char *cases[][2] = {
      {"磁盘空间满了", "磁盘 空间 满 了"}, {"密码忘了", "密码 忘 了"},
      {"硬盘坏了", "硬盘 坏 了"},           {"为了安全", "为了 安全"},
      {"还不了款", "还 不了 款"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    toks l = {0};
    assert_int_equal(run(f->tk, cases[k][0], &l), KB_OK);
    char *p = primaries(&l);
    assert_string_equal(p, cases[k][1]);
    free(p);
    toks_free(&l);
  }
}

static void test_lexicon_mends_wrong_cut(void **state) {
  fixture *f = *state;
  toks l = {0};
  assert_int_equal(run(f->tk, "路由器重启", &l), KB_OK);
  char *p = primaries(&l);
  assert_string_equal(p, "路由器 重启");
  free(p);
  long a = find(&l, "路由器", 0), b = find(&l, "重启", 0);
  assert_int_equal(l.v[a].start, 0);
  assert_int_equal(l.v[a].end, 9);
  assert_int_equal(l.v[b].start, 9);
  assert_int_equal(l.v[b].end, 15);
  assert_int_equal(l.v[b].pos, l.v[a].pos + 1);
  toks_free(&l);
}

static void test_bigrams_of_a_run(void **state) {
  fixture *f = *state;
  toks l = {0};
  assert_int_equal(run(f->tk, "数据库连接", &l), KB_OK);
  static const char *want[] = {"数据", "据库", "库连", "连接"};
  size_t k = 0;
  for (size_t i = 0; i < l.n; i++) {
    if (l.v[i].kind != KB_TOKEN_BIGRAM) continue;
    assert_true(k < 4);
    assert_string_equal(l.v[i].term, want[k]);
    assert_true(l.v[i].alt);
    assert_int_equal(l.v[i].start, 3 * k);
    assert_int_equal(l.v[i].end, 3 * k + 6);
    k++;
  }
  assert_int_equal(k, 4);
  toks_free(&l);
}

static void test_single_han_char_has_no_bigram(void **state) {
  fixture *f = *state;
  toks l = {0};
  assert_int_equal(run(f->tk, "打 ok 机", &l), KB_OK);
  for (size_t i = 0; i < l.n; i++) assert_int_not_equal(l.v[i].kind, KB_TOKEN_BIGRAM);
  assert_true(find(&l, "打", 0) >= 0);
  assert_true(find(&l, "机", 0) >= 0);
  toks_free(&l);
}

static void test_bigrams_do_not_cross_latin(void **state) {
  fixture *f = *state;
  toks l = {0};
  assert_int_equal(run(f->tk, "中文English混合", &l), KB_OK);
  assert_int_equal(find(&l, "文混", -1), -1);
  assert_true(find(&l, "中文", 1) >= 0);
  assert_true(find(&l, "混合", 1) >= 0);
  toks_free(&l);
}

static void test_query_and_text_share_terms(void **state) {
  fixture *f = *state;
  toks q = {0}, d = {0};
  assert_int_equal(run(f->tk, "打印机驱动", &q), KB_OK);
  assert_int_equal(run(f->tk, "打印机的驱动程序", &d), KB_OK);
  assert_true(find(&q, "打印机", 0) >= 0);
  assert_true(find(&d, "打印机", 0) >= 0);
  assert_true(find(&q, "驱动", 0) >= 0);
  assert_true(find(&d, "驱动", 1) >= 0); /* inside 驱动程序 */
  assert_true(find(&d, "驱动程序", 0) >= 0);
  toks_free(&q);
  toks_free(&d);
}

/* A ligature inside a word (ﬁle, text copied from PDFs) folds with the
 * word: one term "file", not "fi" and "le". */
static void test_ligature_inside_word_stays_one_word(void **state) {
  fixture *f = *state;
  toks l = {0};
  assert_int_equal(run(f->tk, "ﬁle", &l), KB_OK);
  char *p = primaries(&l);
  char got[128]; /* copied, so that a failure leaks nothing */
  snprintf(got, sizeof got, "%s", p);
  free(p);
  toks_free(&l);
  assert_string_equal(got, "file");
}

static void test_kana_words_are_cjk(void **state) {
  fixture *f = *state;
  toks l = {0};
  assert_int_equal(run(f->tk, "テキスト", &l), KB_OK);
  long k = find(&l, "テキスト", 0);
  assert_true(k >= 0);
  assert_int_equal(l.v[k].kind, KB_TOKEN_CJK);
  toks_free(&l);
}

static void test_without_lexicon_still_works(void **state) {
  (void)state;
  kb_tokenizer *tk;
  kb_error err = {0};
  assert_int_equal(kb_tokenizer_new(NULL, &tk, &err), KB_OK);
  const char *text = "路由器重启 ORA-12170 running";
  toks l = {0};
  uint32_t pos = 1;
  assert_int_equal(kb_tokenizer_run(tk, text, strlen(text), &pos, collect, &l, &err), KB_OK);
  assert_true(find(&l, "ora-12170", 1) >= 0);
  assert_true(find(&l, "run", 0) >= 0);
  assert_true(find(&l, "路由", 1) >= 0); /* the bigrams still cover the Chinese */
  assert_true(find(&l, "重启", 1) >= 0);
  check_invariants(&l, text, strlen(text), 1, pos);
  toks_free(&l);
  kb_tokenizer_free(tk);
  kb_tokenizer_free(NULL);
}

/* ----------------------------------------------------------------- lexicon */

static void test_lexicon_add_contains(void **state) {
  (void)state;
  kb_lexicon *lex = kb_lexicon_new();
  assert_non_null(lex);
  assert_int_equal(kb_lexicon_size(lex), 0);
  assert_false(kb_lexicon_contains(lex, "转圈", strlen("转圈")));
  assert_int_equal(kb_lexicon_add(lex, "转圈", strlen("转圈")), KB_OK);
  assert_int_equal(kb_lexicon_add(lex, "转圈", strlen("转圈")), KB_OK); /* duplicate */
  assert_int_equal(kb_lexicon_size(lex), 1);
  assert_true(kb_lexicon_contains(lex, "转圈", strlen("转圈")));
  assert_false(kb_lexicon_contains(lex, "转", strlen("转")));   /* a prefix */
  assert_false(kb_lexicon_contains(lex, "转圈了", strlen("转圈了"))); /* longer */
  /* len bounds the word: "转圈xyz" with len of 转圈 matches */
  assert_true(kb_lexicon_contains(lex, "转圈xyz", strlen("转圈")));
  assert_int_equal(kb_lexicon_add(lex, "", 0), KB_EINVAL);
  char big[KB_TERM_MAX + 2];
  memset(big, 'x', sizeof big);
  assert_int_equal(kb_lexicon_add(lex, big, sizeof big), KB_EINVAL);
  assert_int_equal(kb_lexicon_size(lex), 1);
  kb_lexicon_free(lex);
  kb_lexicon_free(NULL);
  assert_false(kb_lexicon_contains(NULL, "x", 1));
  assert_int_equal(kb_lexicon_size(NULL), 0);
}

static void test_lexicon_grows(void **state) {
  (void)state;
  kb_lexicon *lex = kb_lexicon_new();
  char w[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(w, sizeof w, "word%d", i);
    assert_int_equal(kb_lexicon_add(lex, w, strlen(w)), KB_OK);
  }
  assert_int_equal(kb_lexicon_size(lex), 5000);
  for (int i = 0; i < 5000; i += 7) {
    snprintf(w, sizeof w, "word%d", i);
    assert_true(kb_lexicon_contains(lex, w, strlen(w)));
  }
  assert_false(kb_lexicon_contains(lex, "word5000", 8));
  kb_lexicon_free(lex);
}

static void test_lexicon_add_text_format(void **state) {
  (void)state;
  kb_lexicon *lex = kb_lexicon_new();
  const char *text = "# a comment line\n转圈\n  缩进词\t注释\n\n卡顿 after space\r\nlast";
  assert_int_equal(kb_lexicon_add_text(lex, text, strlen(text)), KB_OK);
  assert_int_equal(kb_lexicon_size(lex), 4);
  assert_true(kb_lexicon_contains(lex, "转圈", strlen("转圈")));
  assert_true(kb_lexicon_contains(lex, "缩进词", strlen("缩进词")));
  assert_true(kb_lexicon_contains(lex, "卡顿", strlen("卡顿")));
  assert_true(kb_lexicon_contains(lex, "last", 4));
  assert_false(kb_lexicon_contains(lex, "#", 1));
  assert_false(kb_lexicon_contains(lex, "注释", strlen("注释")));
  kb_lexicon_free(lex);
}

typedef struct each_ctx {
  kb_lexicon *copy;
  int calls, stop_at;
} each_ctx;

static int on_word(const char *w, size_t len, void *vctx) {
  each_ctx *c = vctx;
  assert_int_equal(w[len], '\0');
  kb_lexicon_add(c->copy, w, len);
  return ++c->calls == c->stop_at ? 5 : 0;
}

static void test_lexicon_each(void **state) {
  (void)state;
  kb_lexicon *lex = kb_lexicon_new();
  const char *words = "转圈\n卡顿\nnginx\n";
  kb_lexicon_add_text(lex, words, strlen(words));
  each_ctx c = {.copy = kb_lexicon_new()};
  assert_int_equal(kb_lexicon_each(lex, on_word, &c), 0);
  assert_int_equal(c.calls, 3);
  assert_int_equal(kb_lexicon_size(c.copy), 3);
  assert_true(kb_lexicon_contains(c.copy, "卡顿", strlen("卡顿")));
  assert_true(kb_lexicon_contains(c.copy, "nginx", 5));
  /* a non-zero return stops and is returned */
  each_ctx stop = {.copy = kb_lexicon_new(), .stop_at = 2};
  assert_int_equal(kb_lexicon_each(lex, on_word, &stop), 5);
  assert_int_equal(stop.calls, 2);
  /* an empty set calls nothing */
  each_ctx none = {.copy = c.copy};
  kb_lexicon *empty = kb_lexicon_new();
  assert_int_equal(kb_lexicon_each(empty, on_word, &none), 0);
  assert_int_equal(none.calls, 0);
  kb_lexicon_free(empty);
  kb_lexicon_free(stop.copy);
  kb_lexicon_free(c.copy);
  kb_lexicon_free(lex);
}

static void test_lexicon_add_file(void **state) {
  (void)state;
  char *dir = tu_tempdir();
  kb_buf path = {0};
  kb_buf_printf(&path, "%s/words.txt", dir);
  tu_write_str(path.data, "# extra words\n转圈\n卡顿\n");
  kb_lexicon *lex = kb_lexicon_new();
  kb_error err = {0};
  assert_int_equal(kb_lexicon_add_file(lex, path.data, &err), KB_OK);
  assert_int_equal(kb_lexicon_size(lex), 2);
  assert_true(kb_lexicon_contains(lex, "卡顿", strlen("卡顿")));

  /* invalid UTF-8: KB_EENCODING naming the file and line */
  kb_buf bad = {0};
  kb_buf_printf(&bad, "%s/bad.txt", dir);
  tu_write_str(bad.data, "ok\nfine\nbro\xC0\xAFken\n");
  assert_int_equal(kb_lexicon_add_file(lex, bad.data, &err), KB_EENCODING);
  assert_int_equal(err.code, KB_EENCODING);
  kb_buf want = {0};
  kb_buf_printf(&want, "%s:3:", bad.data);
  assert_true(tu_contains(err.message, want.data));

  /* a missing file: KB_EIO naming it */
  kb_buf missing = {0};
  kb_buf_printf(&missing, "%s/missing.txt", dir);
  kb_error_clear(&err);
  assert_int_equal(kb_lexicon_add_file(lex, missing.data, &err), KB_EIO);
  assert_true(tu_contains(err.message, missing.data));

  kb_lexicon_free(lex);
  kb_buf_free(&path);
  kb_buf_free(&bad);
  kb_buf_free(&want);
  kb_buf_free(&missing);
  tu_rmtree(dir);
  free(dir);
}

static void test_lexicon_builtin(void **state) {
  (void)state;
  kb_lexicon *lex = NULL, *stop = NULL;
  kb_error err = {0};
  assert_int_equal(kb_lexicon_new_builtin("lexicon", &lex, &err), KB_OK);
  assert_true(kb_lexicon_size(lex) > 50);
  assert_true(kb_lexicon_contains(lex, "打印机", strlen("打印机")));
  assert_true(kb_lexicon_contains(lex, "路由器", strlen("路由器")));
  assert_false(kb_lexicon_contains(lex, "#", 1));
  assert_int_equal(kb_lexicon_new_builtin("stopwords", &stop, &err), KB_OK);
  assert_true(kb_lexicon_contains(stop, "的", strlen("的")));
  assert_true(kb_lexicon_contains(stop, "the", 3));
  assert_false(kb_lexicon_contains(stop, "打印机", strlen("打印机")));
  kb_lexicon *none = NULL;
  assert_int_equal(kb_lexicon_new_builtin("nope", &none, &err), KB_EINVAL);
  assert_null(none);
  assert_true(tu_contains(err.message, "nope"));
  kb_lexicon_free(lex);
  kb_lexicon_free(stop);
}

static void test_added_word_changes_segmentation(void **state) {
  (void)state;
  kb_lexicon *lex = kb_lexicon_new();
  kb_tokenizer *tk;
  assert_int_equal(kb_tokenizer_new(lex, &tk, NULL), KB_OK);
  toks before = {0}, after = {0};
  assert_int_equal(run(tk, "一直转圈", &before), KB_OK);
  assert_int_equal(find(&before, "转圈", 0), -1);
  /* the lexicon is borrowed: words added later are seen */
  assert_int_equal(kb_lexicon_add(lex, "转圈", strlen("转圈")), KB_OK);
  assert_int_equal(run(tk, "一直转圈", &after), KB_OK);
  assert_true(find(&after, "转圈", 0) >= 0);
  toks_free(&before);
  toks_free(&after);
  kb_tokenizer_free(tk);
  kb_lexicon_free(lex);
}

/* ------------------------------------------------------- stop and garbage */

static void test_callback_stops_run(void **state) {
  fixture *f = *state;
  static const char *texts[] = {"alpha beta gamma delta", "打印机驱动 数据库连接 路由器重启",
                                "ORA-12170 v2.4.1 /var/log/messages"};
  for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
    toks l = {.stop_after = 2, .stop_code = 7};
    assert_int_equal(run(f->tk, texts[k], &l), 7);
    assert_int_equal(l.n, 2); /* not called again after the stop */
    toks_free(&l);
    /* the tokenizer is usable after a stopped run */
    toks all = {0};
    assert_int_equal(run(f->tk, texts[k], &all), KB_OK);
    assert_true(all.n > 2);
    toks_free(&all);
  }
}

static void test_empty_and_blank_input(void **state) {
  fixture *f = *state;
  static const char *texts[] = {"", "   ", "，。！？", "---", "... /// ::", "\n\t\r"};
  for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
    toks l = {0};
    uint32_t pos = 5;
    assert_int_equal(
        kb_tokenizer_run(f->tk, texts[k], strlen(texts[k]), &pos, collect, &l, NULL), KB_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(pos, 5);
    toks_free(&l);
  }
}

static void test_overlong_token_not_emitted(void **state) {
  fixture *f = *state;
  char text[200];
  memset(text, 'a', 150);
  strcpy(text + 150, " short");
  toks l = {0};
  assert_int_equal(run(f->tk, text, &l), KB_OK);
  assert_true(find(&l, "short", 0) >= 0);
  for (size_t i = 0; i < l.n; i++) assert_true(strlen(l.v[i].term) <= KB_TERM_MAX);
  toks_free(&l);
}

/* A random code point: mostly ASCII, Han, punctuation, full-width. */
static int32_t random_cp(unsigned *seed) {
  int r = rand_r(seed) % 10;
  switch (r) {
    case 0: case 1: case 2: return 0x20 + rand_r(seed) % 0x5F;
    case 3: case 4: return 0x4E00 + rand_r(seed) % 0x5200;
    case 5: return 0xFF01 + rand_r(seed) % 0x5E;
    case 6: return 0x3000 + rand_r(seed) % 0x100;
    case 7: return "-./:_+#@\\~%"[rand_r(seed) % 11];
    case 8: return 0x80 + rand_r(seed) % 0x700;
    default: {
      int32_t c = rand_r(seed) % 0x110000;
      if (c >= 0xD800 && c <= 0xDFFF) c = 'x';
      return c ? c : 'y';
    }
  }
}

static void test_random_valid_utf8_never_breaks(void **state) {
  fixture *f = *state;
  unsigned seed = 12345;
  for (int round = 0; round < 200; round++) {
    kb_buf text = {0};
    int n = rand_r(&seed) % 300;
    for (int i = 0; i < n; i++) {
      char u[4];
      kb_buf_append(&text, u, kb_utf8_put(random_cp(&seed), u));
    }
    if (!text.data) kb_buf_append(&text, "", 0);
    assert_true(kb_utf8_valid(text.data, text.len, NULL));
    toks l = {0};
    uint32_t pos = 1;
    kb_error err = {0};
    int rc = kb_tokenizer_run(f->tk, text.data, text.len, &pos, collect, &l, &err);
    if (rc != KB_OK) fail_msg("round %d: rc %d (%s)", round, rc, err.message);
    check_invariants(&l, text.data, text.len, 1, pos);
    toks_free(&l);
    kb_buf_free(&text);
  }
}

/* A built-in synonym of several words (登录 = log in, 打印机 = 打印設備)
 * is one compound where its words follow each other, and only there. */
static void test_compound_of_a_synonym(void **state) {
  fixture *f = *state;
  toks l = {0};
  const char *text = "please log in now";
  assert_int_equal(run(f->tk, text, &l), KB_OK);
  long c = find(&l, "log in", 1);
  assert_true(c >= 0);
  assert_int_equal(l.v[c].kind, KB_TOKEN_COMPOUND);
  assert_int_equal(l.v[c].pos, l.v[find(&l, "log", 0)].pos);
  assert_int_equal(l.v[c].start, 7);
  assert_int_equal(l.v[c].end, 13);
  check_invariants(&l, text, strlen(text), 1, 5);
  toks_free(&l);

  /* folded like the words: traditional 設備 is 设备 */
  assert_int_equal(run(f->tk, "网络打印設備故障", &l), KB_OK);
  assert_true(find(&l, "打印 设备", 1) >= 0);
  toks_free(&l);

  /* words apart, or in two runs (segments), are no compound */
  assert_int_equal(run(f->tk, "log, then in", &l), KB_OK);
  assert_true(find(&l, "log in", -1) < 0);
  toks_free(&l);
  uint32_t pos = 1;
  assert_int_equal(kb_tokenizer_run(f->tk, "log", 3, &pos, collect, &l, NULL), KB_OK);
  assert_int_equal(kb_tokenizer_run(f->tk, "in", 2, &pos, collect, &l, NULL), KB_OK);
  assert_true(find(&l, "log in", -1) < 0);
  toks_free(&l);
}

/* Each two adjacent parts of a technical token are a pair, at the first's
 * position; a word of one part has none, nor do parts of two tokens. */
static void test_pairs_of_technical_parts(void **state) {
  fixture *f = *state;
  toks l = {0};
  const char *text = "ip=192.168.1.10, then hx-migrate and nginx 1.2";
  assert_int_equal(run(f->tk, text, &l), KB_OK);
  check_invariants(&l, text, strlen(text), 1, 100);
  const char *pairs[] = {"ip 192", "192 168", "168 1", "1 10", "hx migrat", "1 2"};
  for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
    long p = find(&l, pairs[i], 1);
    if (p < 0) fail_msg("pair '%s' missing", pairs[i]);
    assert_int_equal(l.v[p].kind, KB_TOKEN_PAIR);
  }
  long p = find(&l, "192 168", 1);
  assert_int_equal(l.v[p].pos, l.v[find(&l, "192", 0)].pos);
  assert_int_equal(l.v[p].start, strlen("ip="));
  assert_int_equal(l.v[p].end, strlen("ip=192.168"));
  assert_true(find(&l, "10 then", -1) < 0);
  assert_true(find(&l, "nginx 1", -1) < 0);
  size_t n = 0;
  for (size_t i = 0; i < l.n; i++) n += l.v[i].kind == KB_TOKEN_PAIR;
  assert_int_equal(n, sizeof pairs / sizeof *pairs);
  toks_free(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cases_from_table),
      cmocka_unit_test(test_ora_error_whole_and_parts),
      cmocka_unit_test(test_hex_code_is_one_number_also_without_0x),
      cmocka_unit_test(test_letters_then_digits_are_two_parts),
      cmocka_unit_test(test_version_gives_both_wholes_at_first_position),
      cmocka_unit_test(test_path_whole_and_stemmed_parts),
      cmocka_unit_test(test_flag_keeps_dashes),
      cmocka_unit_test(test_trailing_punctuation_trimmed),
      cmocka_unit_test(test_cplusplus_keeps_signs),
      cmocka_unit_test(test_english_stemming_keeps_surface),
      cmocka_unit_test(test_full_width_same_terms_as_ascii),
      cmocka_unit_test(test_positions_start_at_pos_and_increase),
      cmocka_unit_test(test_pos_continues_across_calls),
      cmocka_unit_test(test_offsets_point_at_source_text),
      cmocka_unit_test(test_lexicon_merges_icu_split),
      cmocka_unit_test(test_aspect_particle_le_is_split),
      cmocka_unit_test(test_lexicon_mends_wrong_cut),
      cmocka_unit_test(test_bigrams_of_a_run),
      cmocka_unit_test(test_single_han_char_has_no_bigram),
      cmocka_unit_test(test_bigrams_do_not_cross_latin),
      cmocka_unit_test(test_query_and_text_share_terms),
      cmocka_unit_test(test_ligature_inside_word_stays_one_word),
      cmocka_unit_test(test_kana_words_are_cjk),
      cmocka_unit_test(test_without_lexicon_still_works),
      cmocka_unit_test(test_lexicon_add_contains),
      cmocka_unit_test(test_lexicon_grows),
      cmocka_unit_test(test_lexicon_add_text_format),
      cmocka_unit_test(test_lexicon_each),
      cmocka_unit_test(test_lexicon_add_file),
      cmocka_unit_test(test_lexicon_builtin),
      cmocka_unit_test(test_added_word_changes_segmentation),
      cmocka_unit_test(test_callback_stops_run),
      cmocka_unit_test(test_empty_and_blank_input),
      cmocka_unit_test(test_overlong_token_not_emitted),
      cmocka_unit_test(test_random_valid_utf8_never_breaks),
      cmocka_unit_test(test_compound_of_a_synonym),
      cmocka_unit_test(test_pairs_of_technical_parts),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
