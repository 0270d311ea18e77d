/* test_error.c — status codes, kb_strerror and the kb_error helpers. */
#include <string.h>

#include "kb/error.h"
#include "testutil.h"

static void test_set_fills_code_and_message(void **state) {
  (void)state;
  kb_error err = {0};
  int rc = kb_error_set(&err, KB_EIO, "%s:%d: %s", "articles/x.md", 12, "cannot read");
  assert_int_equal(rc, KB_EIO);
  assert_int_equal(err.code, KB_EIO);
  assert_string_equal(err.message, "articles/x.md:12: cannot read");
}

static void test_set_with_null_err_returns_code(void **state) {
  (void)state;
  assert_int_equal(kb_error_set(NULL, KB_EPARSE, "ignored %d", 1), KB_EPARSE);
}

static void test_set_truncates_long_message(void **state) {
  (void)state;
  kb_error err = {0};
  char big[KB_ERROR_MSG_MAX * 2];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  kb_error_set(&err, KB_ETOOBIG, "%s", big);
  assert_int_equal(strlen(err.message), KB_ERROR_MSG_MAX - 1);
}

static void test_prefix_prepends_context(void **state) {
  (void)state;
  kb_error err = {0};
  kb_error_set(&err, KB_EPARSE, "line 3: expected key: value");
  int rc = kb_error_prefix(&err, "%s: ", "articles/db/ora.md");
  assert_int_equal(rc, KB_EPARSE);
  assert_int_equal(err.code, KB_EPARSE);
  assert_string_equal(err.message, "articles/db/ora.md: line 3: expected key: value");
}

static void test_prefix_twice_nests(void **state) {
  (void)state;
  kb_error err = {0};
  kb_error_set(&err, KB_EIO, "c");
  kb_error_prefix(&err, "b: ");
  kb_error_prefix(&err, "a: ");
  assert_string_equal(err.message, "a: b: c");
}

static void test_prefix_null_err_is_ok(void **state) {
  (void)state;
  assert_int_equal(kb_error_prefix(NULL, "ctx %d: ", 1), KB_OK);
}

static void test_prefix_keeps_message_bounded(void **state) {
  (void)state;
  kb_error err = {0};
  char big[KB_ERROR_MSG_MAX];
  memset(big, 'm', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  kb_error_set(&err, KB_EIO, "%s", big);
  kb_error_prefix(&err, "prefix: ");
  assert_int_equal(strlen(err.message), KB_ERROR_MSG_MAX - 1);
  assert_memory_equal(err.message, "prefix: mmm", 11);
}

static void test_clear_resets(void **state) {
  (void)state;
  kb_error err = {0};
  kb_error_set(&err, KB_ENOENT, "gone");
  kb_error_clear(&err);
  assert_int_equal(err.code, KB_OK);
  assert_string_equal(err.message, "");
  kb_error_clear(NULL); /* must not crash */
}

static void test_strerror_every_code_non_empty(void **state) {
  (void)state;
  static const int codes[] = {
#define CODE(name, value, text) KB_##name,
      KB_ERRNO_MAP(CODE)
#undef CODE
  };
  const char *unknown = kb_strerror(-1000);
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    const char *s = kb_strerror(codes[i]);
    assert_non_null(s);
    assert_true(strlen(s) > 0);
    assert_string_not_equal(s, unknown);
    /* every message is distinct */
    for (size_t k = 0; k < i; k++) assert_string_not_equal(s, kb_strerror(codes[k]));
  }
}

static void test_strerror_matches_map(void **state) {
  (void)state;
  assert_true(tu_contains(kb_strerror(KB_OK), "success"));
  assert_true(tu_contains(kb_strerror(KB_ENOENT), "not found"));
  assert_true(tu_contains(kb_strerror(KB_ELOCKED), "locked"));
  assert_true(tu_contains(kb_strerror(KB_EENCODING), "encoding"));
}

static void test_strerror_unknown_code(void **state) {
  (void)state;
  const char *s = kb_strerror(-1000);
  assert_non_null(s);
  assert_true(tu_contains(s, "unknown"));
  assert_string_equal(kb_strerror(42), s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_set_fills_code_and_message),
      cmocka_unit_test(test_set_with_null_err_returns_code),
      cmocka_unit_test(test_set_truncates_long_message),
      cmocka_unit_test(test_prefix_prepends_context),
      cmocka_unit_test(test_prefix_twice_nests),
      cmocka_unit_test(test_prefix_null_err_is_ok),
      cmocka_unit_test(test_prefix_keeps_message_bounded),
      cmocka_unit_test(test_clear_resets),
      cmocka_unit_test(test_strerror_every_code_non_empty),
      cmocka_unit_test(test_strerror_matches_map),
      cmocka_unit_test(test_strerror_unknown_code),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
