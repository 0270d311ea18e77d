/* test_cache.c — the server's answer cache: hits and misses, versions,
 * least-recently-used eviction by count and by bytes, replacement, and
 * threads sharing it. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "testutil.h"

/* The body for key at version, or NULL; *total gets what was stored. */
static char *get(kb_cache *c, const char *key, uint64_t version, uint32_t *total) {
  size_t len = 0;
  uint32_t t = 0;
  char *body = kb_cache_get(c, key, version, &len, &t);
  if (body) assert_int_equal(len, strlen(body));
  if (total) *total = t;
  return body;
}

static void assert_get(kb_cache *c, const char *key, uint64_t version, const char *want) {
  char *body = get(c, key, version, NULL);
  if (!want) {
    assert_null(body);
    return;
  }
  assert_non_null(body);
  assert_string_equal(body, want);
  free(body);
}

static void put(kb_cache *c, const char *key, uint64_t version, const char *body) {
  kb_cache_put(c, key, version, body, strlen(body), 7);
}

static void test_hit_and_miss(void **state) {
  (void)state;
  kb_cache *c = kb_cache_new(10, 1 << 20);
  assert_non_null(c);
  assert_get(c, "q", 1, NULL);
  put(c, "q", 1, "{\"total\":7}");
  uint32_t total = 0;
  char *body = get(c, "q", 1, &total);
  assert_string_equal(body, "{\"total\":7}");
  assert_int_equal(total, 7);
  free(body);
  assert_get(c, "other", 1, NULL);
  uint64_t hits, misses;
  kb_cache_stats(c, &hits, &misses);
  assert_int_equal(hits, 1);
  assert_int_equal(misses, 2);
  kb_cache_free(c);
}

/* An answer belongs to the index version it was computed on. */
static void test_other_version_misses(void **state) {
  (void)state;
  kb_cache *c = kb_cache_new(10, 1 << 20);
  put(c, "q", 1, "old");
  assert_get(c, "q", 2, NULL);
  put(c, "q", 2, "new");
  assert_get(c, "q", 2, "new");
  assert_get(c, "q", 1, NULL);
  kb_cache_free(c);
}

static void test_least_recently_used_goes(void **state) {
  (void)state;
  kb_cache *c = kb_cache_new(3, 1 << 20);
  put(c, "a", 1, "A");
  put(c, "b", 1, "B");
  put(c, "c", 1, "C");
  assert_get(c, "a", 1, "A"); /* a is now the most recent: b goes next */
  put(c, "d", 1, "D");
  assert_get(c, "b", 1, NULL);
  assert_get(c, "a", 1, "A");
  assert_get(c, "c", 1, "C");
  assert_get(c, "d", 1, "D");
  kb_cache_free(c);
}

static void test_byte_limit(void **state) {
  (void)state;
  char big[600];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  /* room for one such body with its bookkeeping, not two */
  kb_cache *c = kb_cache_new(100, 1000);
  put(c, "a", 1, big);
  put(c, "b", 1, big);
  assert_get(c, "a", 1, NULL);
  assert_get(c, "b", 1, big);
  char huge[2000];
  memset(huge, 'y', sizeof huge - 1);
  huge[sizeof huge - 1] = '\0';
  put(c, "h", 1, huge); /* bigger than the whole cache: not kept, nothing lost */
  assert_get(c, "h", 1, NULL);
  assert_get(c, "b", 1, big);
  kb_cache_free(c);
}

static void test_replace_and_off(void **state) {
  (void)state;
  kb_cache *c = kb_cache_new(2, 1 << 20);
  put(c, "a", 1, "first");
  put(c, "a", 1, "second");
  put(c, "b", 1, "B"); /* two entries, not three: a was replaced in place */
  assert_get(c, "a", 1, "second");
  assert_get(c, "b", 1, "B");
  kb_cache_free(c);
  kb_cache *off = kb_cache_new(0, 1 << 20);
  put(off, "a", 1, "A");
  assert_get(off, "a", 1, NULL);
  kb_cache_free(off);
}

static void *hammer(void *arg) {
  kb_cache *c = arg;
  char key[32], body[32];
  unsigned seed = (unsigned)(uintptr_t)&key;
  for (int i = 0; i < 20000; i++) {
    int k = rand_r(&seed) % 200;
    snprintf(key, sizeof key, "k%d", k);
    snprintf(body, sizeof body, "body of %d", k);
    size_t len;
    uint32_t total;
    char *got = kb_cache_get(c, key, 1, &len, &total);
    if (got) {
      if (strcmp(got, body) != 0) abort();
      free(got);
    } else {
      kb_cache_put(c, key, 1, body, strlen(body), (uint32_t)k);
    }
  }
  return NULL;
}

/* Four threads on one small cache: every answer read is the one stored for
 * its key (checked inside), nothing crashes (and ThreadSanitizer or
 * AddressSanitizer builds find nothing). */
static void test_threads_share_it(void **state) {
  (void)state;
  kb_cache *c = kb_cache_new(50, 1 << 20);
  pthread_t t[4];
  for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&t[i], NULL, hammer, c), 0);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  uint64_t hits, misses;
  kb_cache_stats(c, &hits, &misses);
  assert_int_equal(hits + misses, 80000);
  assert_true(hits > 0);
  kb_cache_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hit_and_miss),
      cmocka_unit_test(test_other_version_misses),
      cmocka_unit_test(test_least_recently_used_goes),
      cmocka_unit_test(test_byte_limit),
      cmocka_unit_test(test_replace_and_off),
      cmocka_unit_test(test_threads_share_it),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
