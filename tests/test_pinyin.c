/* test_pinyin.c — readings (word-level for polyphones, character by
 * character for the rest), syllable splitting, the reading → word map. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "kb/index.h"
#include "kb/pinyin.h"
#include "kb/search.h"
#include "testutil.h"

static void expect_reading(const char *word, const char *reading, const char *initials) {
  kb_buf r = {0}, i = {0};
  assert_true(kb_pinyin_of(word, strlen(word), &r, &i));
  assert_string_equal(r.data, reading);
  assert_string_equal(i.data, initials);
  kb_buf_free(&r);
  kb_buf_free(&i);
}

static void test_word_readings(void **state) {
  (void)state;
  expect_reading("数据库", "shujuku", "sjk");
  expect_reading("服务器", "fuwuqi", "fwq");
  /* polyphones read as the word is said, not character by character */
  expect_reading("银行", "yinhang", "yh");
  expect_reading("重启", "chongqi", "cq");
  expect_reading("执行", "zhixing", "zx");
  /* ü: typed v after n and l, u after j q x y */
  expect_reading("绿色", "lvse", "ls");
  expect_reading("学习", "xuexi", "xx");
  /* a word the table lacks: character by character */
  expect_reading("工单", "gongdan", "gd");
  kb_buf r = {0};
  assert_false(kb_pinyin_of("nginx", 5, &r, NULL));
  assert_false(kb_pinyin_of("打印x", strlen("打印x"), &r, NULL));
  assert_null(r.data);
}

static void test_syllables(void **state) {
  (void)state;
  assert_true(kb_pinyin_is_syllables("shujuku", 7));
  assert_true(kb_pinyin_is_syllables("xian", 4));
  assert_true(kb_pinyin_is_syllables("lianjie", 7));
  assert_false(kb_pinyin_is_syllables("nginx", 5));
  assert_false(kb_pinyin_is_syllables("sjk", 3));
  assert_false(kb_pinyin_is_syllables("", 0));
}

static void test_map_find_and_complete(void **state) {
  (void)state;
  kb_pinyin_map *m = kb_pinyin_map_new();
  assert_non_null(m);
  const char *words[] = {"数据库", "数据", "书架", "事件库", "打印机", "nginx"};
  uint32_t weights[] = {30, 50, 5, 3, 20, 100};
  for (size_t i = 0; i < 6; i++)
    assert_int_equal(kb_pinyin_map_add(m, words[i], strlen(words[i]), weights[i]), KB_OK);
  assert_int_equal(kb_pinyin_map_seal(m), KB_OK);
  const char *out[4];
  assert_int_equal(kb_pinyin_map_find(m, "shujuku", 7, true, out, 4), 1);
  assert_string_equal(out[0], "数据库");
  /* initials when no reading matches: the heaviest first */
  assert_int_equal(kb_pinyin_map_find(m, "sjk", 3, true, out, 4), 2);
  assert_int_equal(kb_pinyin_map_find(m, "sjk", 3, false, out, 4), 0);
  assert_string_equal(out[0], "数据库");
  assert_string_equal(out[1], "事件库");
  assert_int_equal(kb_pinyin_map_find(m, "dayinji", 7, true, out, 4), 1);
  assert_int_equal(kb_pinyin_map_find(m, "nginx", 5, true, out, 4), 0);
  /* completions of a prefix, heaviest first */
  assert_int_equal(kb_pinyin_map_complete(m, "shu", 3, out, 4), 3);
  assert_string_equal(out[0], "数据");
  assert_string_equal(out[1], "数据库");
  assert_string_equal(out[2], "书架");
  assert_int_equal(kb_pinyin_map_complete(m, "shu", 3, out, 1), 1);
  assert_string_equal(out[0], "数据");
  kb_pinyin_map_free(m);
}

/* ------------------------------------------- searching the articles */

static char *g_tmp, g_db[1024];

typedef struct word_df {
  char word[64];
  uint32_t df;
} word_df;

typedef struct word_list {
  word_df *v;
  size_t n, cap;
} word_list;

static int collect(const char *term, size_t len, uint32_t df, void *ctx) {
  word_list *l = ctx;
  if (len < 6 || len >= 64) return 0; /* two characters or more */
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 256;
    l->v = realloc(l->v, l->cap * sizeof *l->v);
  }
  memcpy(l->v[l->n].word, term, len);
  l->v[l->n].word[len] = '\0';
  l->v[l->n++].df = df;
  return 0;
}

static int by_df(const void *a, const void *b) {
  const word_df *x = a, *y = b;
  return (x->df < y->df) - (x->df > y->df);
}

static kb_search_response *search(kb_searcher *s, const char *q, bool internal) {
  kb_search_request req = {.query = q, .query_len = strlen(q), .limit = 10,
                           .include_internal = internal};
  kb_search_response *r = NULL;
  kb_error err = {0};
  assert_int_equal(kb_search(s, &req, &r, &err), KB_OK);
  return r;
}

/* The bar: pinyin for each of the 50 most frequent Chinese words of
 * the articles finds a document holding that word. */
static void test_pinyin_of_frequent_words_finds_them(void **state) {
  (void)state;
  kb_error err = {0};
  kb_searcher *s;
  assert_int_equal(kb_searcher_new(g_db, &s, &err), KB_OK);
  word_list l = {0};
  for (unsigned char lead = 0xE3; lead <= 0xE9; lead++) {
    char prefix[2] = {(char)lead, '\0'};
    assert_int_equal(kb_index_each_term(kb_searcher_index(s), prefix, collect, &l, &err), KB_OK);
  }
  qsort(l.v, l.n, sizeof *l.v, by_df);
  assert_true(l.n >= 50);
  size_t failed = 0;
  for (size_t i = 0; i < 50; i++) {
    kb_buf reading = {0};
    assert_true(kb_pinyin_of(l.v[i].word, strlen(l.v[i].word), &reading, NULL));
    kb_search_response *r = search(s, reading.data, true);
    bool found = false;
    for (size_t h = 0; h < r->nhits && !found; h++) {
      kb_doc *doc = NULL;
      char *html = NULL;
      if (kb_search_fetch(s, r->hits[h].id, true, &doc, &html, &err) == KB_OK)
        found = strstr(html, l.v[i].word) || strstr(r->hits[h].title, l.v[i].word);
      kb_doc_free(doc);
      free(html);
    }
    if (!found) {
      fprintf(stderr, "pinyin %s for %s (df %u): %u hits, suggestion %s\n", reading.data,
              l.v[i].word, l.v[i].df, r->total, r->suggestion ? r->suggestion : "-");
      failed++;
    }
    kb_search_response_free(r);
    kb_buf_free(&reading);
  }
  assert_int_equal(failed, 0);
  free(l.v);
  kb_searcher_free(s);
}

static void test_pinyin_queries(void **state) {
  (void)state;
  kb_error err = {0};
  kb_searcher *s;
  assert_int_equal(kb_searcher_new(g_db, &s, &err), KB_OK);
  const char *spellings[] = {"shujuku", "shu ju ku", "sjk", "ShuJuKu"};
  for (size_t i = 0; i < 4; i++) {
    kb_search_response *r = search(s, spellings[i], false);
    assert_non_null(r->suggestion);
    assert_string_equal(r->suggestion, "数据库");
    assert_true(r->total > 0);
    assert_non_null(strstr(r->hits[0].title, "数据库"));
    kb_search_response_free(r);
  }
  /* mixed with Chinese and with words that match as they are */
  kb_search_response *r = search(s, "dayinji 脱机", false);
  assert_string_equal(r->suggestion, "打印机 脱机");
  assert_string_equal(r->hits[0].id, "a/printing/printer-offline");
  kb_search_response_free(r);
  r = search(s, "nginx 502", false);
  assert_null(r->suggestion);
  kb_search_response_free(r);
  /* the query syntax and stop words are not pinyin */
  r = search(s, "shujuku OR dayinji", false);
  assert_string_equal(r->suggestion, "数据库 OR 打印机");
  assert_true(r->total > 0);
  kb_search_response_free(r);
  r = search(s, "how to zzqqxx", false);
  assert_null(r->suggestion);
  kb_search_response_free(r);
  /* completions of pinyin being typed, after Latin ones */
  char **words;
  size_t n;
  assert_int_equal(kb_search_suggest(s, "dayin", false, 5, &words, &n, &err), KB_OK);
  assert_true(n >= 2);
  bool printer = false;
  for (size_t i = 0; i < n; i++) printer |= strcmp(words[i], "打印机") == 0;
  assert_true(printer);
  kb_search_words_free(words, n);
  kb_searcher_free(s);
}

static int setup(void **state) {
  (void)state;
  g_tmp = tu_tempdir();
  snprintf(g_db, sizeof g_db, "%s/kb.db", g_tmp);
  char bin[1024];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-index"));
  char *argv[] = {bin, "--db", g_db, "sync", "articles", NULL};
  return tu_run(argv, NULL, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  tu_rmtree(g_tmp);
  free(g_tmp);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_word_readings),
      cmocka_unit_test(test_syllables),
      cmocka_unit_test(test_map_find_and_complete),
      cmocka_unit_test(test_pinyin_queries),
      cmocka_unit_test(test_pinyin_of_frequent_words_finds_them),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
