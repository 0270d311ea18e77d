/* test_fuzz.c — a short, bounded run of the fuzz targets (fuzz/), one test
 * case per target: each seed of fuzz/corpus/NAME/, then deterministic
 * mutations of them. The long runs are `make fuzz` (libFuzzer); this keeps
 * the targets building and catches regressions under `make check
 * SANITIZE=1`. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

int kb_fuzz_front_matter(const uint8_t *data, size_t size);
int kb_fuzz_markdown(const uint8_t *data, size_t size);
int kb_fuzz_html(const uint8_t *data, size_t size);
int kb_fuzz_jsonl(const uint8_t *data, size_t size);
int kb_fuzz_csv(const uint8_t *data, size_t size);
int kb_fuzz_charset(const uint8_t *data, size_t size);
int kb_fuzz_query(const uint8_t *data, size_t size);
int kb_fuzz_tokenize(const uint8_t *data, size_t size);
int kb_fuzz_snippet(const uint8_t *data, size_t size);
int kb_fuzz_pinyin(const uint8_t *data, size_t size);
int kb_fuzz_search(const uint8_t *data, size_t size);
int kb_fuzz_params(const uint8_t *data, size_t size);
int kb_fuzz_tokens(const uint8_t *data, size_t size);
int kb_fuzz_gaps(const uint8_t *data, size_t size);
int kb_fuzz_html_text(const uint8_t *data, size_t size);

#define MUTATIONS 400

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint32_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)rng;
}

/* Flips, inserts and deletes bytes, and splices in pieces of UTF-8 and syntax. */
static void mutate(kb_buf *b) {
  static const char *pieces[] = {"\"", "-", "OR", ":", "---\n", "{internal}", "打印机",
                                 "\xe6", "\n", "```", "ORA-", "product:", "　", "\xef\xbc\x9a"};
  int n = 1 + (int)(next_rand() % 8);
  for (int i = 0; i < n; i++) {
    size_t at = b->len ? next_rand() % b->len : 0;
    switch (next_rand() % 4) {
      case 0:
        if (b->len) b->data[at] = (char)next_rand();
        break;
      case 1:
        if (b->len) {
          memmove(b->data + at, b->data + at + 1, b->len - at - 1);
          b->len--;
        }
        break;
      default: {
        const char *p = pieces[next_rand() % (sizeof pieces / sizeof pieces[0])];
        size_t pl = strlen(p);
        kb_buf_reserve(b, pl);
        memmove(b->data + at + pl, b->data + at, b->len - at);
        memcpy(b->data + at, p, pl);
        b->len += pl;
      }
    }
  }
}

static void run_corpus(const char *dir, int (*target)(const uint8_t *, size_t)) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  size_t seeds = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    kb_buf seed = {0};
    assert_int_equal(tu_read_file(path, &seed), 0);
    target((const uint8_t *)seed.data, seed.len);
    for (int m = 0; m < MUTATIONS; m++) {
      kb_buf b = {0};
      kb_buf_append(&b, seed.data, seed.len);
      mutate(&b);
      target((const uint8_t *)b.data, b.len);
      kb_buf_free(&b);
    }
    kb_buf_free(&seed);
    seeds++;
  }
  closedir(d);
  assert_true(seeds > 0);
  target((const uint8_t *)"", 0);
}

static void test_fuzz_front_matter(void **state) {
  (void)state;
  run_corpus("fuzz/corpus/front_matter", kb_fuzz_front_matter);
}

static void test_fuzz_markdown(void **state) {
  (void)state;
  run_corpus("fuzz/corpus/markdown", kb_fuzz_markdown);
}

static void test_fuzz_html(void **state) {
  (void)state;
  run_corpus("fuzz/corpus/html", kb_fuzz_html);
}

static void test_fuzz_jsonl(void **state) {
  (void)state;
  run_corpus("fuzz/corpus/jsonl", kb_fuzz_jsonl);
}

static void test_fuzz_csv(void **state) {
  (void)state;
  run_corpus("fuzz/corpus/csv", kb_fuzz_csv);
}

static void test_fuzz_charset(void **state) {
  (void)state;
  run_corpus("fuzz/corpus/charset", kb_fuzz_charset);
}

static void test_fuzz_query(void **state) {
  (void)state;
  run_corpus("fuzz/corpus/query", kb_fuzz_query);
}

static void test_fuzz_tokenize(void **state) {
  (void)state;
  run_corpus("fuzz/corpus/tokenize", kb_fuzz_tokenize);
}

static void test_fuzz_snippet(void **state) {
  (void)state;
  run_corpus("fuzz/corpus/snippet", kb_fuzz_snippet);
}

static void test_fuzz_pinyin(void **state) {
  (void)state;
  run_corpus("fuzz/corpus/pinyin", kb_fuzz_pinyin);
}

static void test_fuzz_search(void **state) {
  (void)state;
  run_corpus("fuzz/corpus/search", kb_fuzz_search);
}

static void test_fuzz_params(void **state) {
  (void)state;
  run_corpus("fuzz/corpus/params", kb_fuzz_params);
}

static void test_fuzz_tokens(void **state) {
  (void)state;
  run_corpus("fuzz/corpus/tokens", kb_fuzz_tokens);
}

static void test_fuzz_gaps(void **state) {
  (void)state;
  run_corpus("fuzz/corpus/gaps", kb_fuzz_gaps);
}

static void test_fuzz_html_text(void **state) {
  (void)state;
  run_corpus("fuzz/corpus/html_text", kb_fuzz_html_text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fuzz_front_matter),
      cmocka_unit_test(test_fuzz_markdown),
      cmocka_unit_test(test_fuzz_html),
      cmocka_unit_test(test_fuzz_jsonl),
      cmocka_unit_test(test_fuzz_csv),
      cmocka_unit_test(test_fuzz_charset),
      cmocka_unit_test(test_fuzz_query),
      cmocka_unit_test(test_fuzz_tokenize),
      cmocka_unit_test(test_fuzz_snippet),
      cmocka_unit_test(test_fuzz_pinyin),
      cmocka_unit_test(test_fuzz_search),
      cmocka_unit_test(test_fuzz_params),
      cmocka_unit_test(test_fuzz_tokens),
      cmocka_unit_test(test_fuzz_gaps),
      cmocka_unit_test(test_fuzz_html_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
