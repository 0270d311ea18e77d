/* test_doc.c — the document model: fields, segments, field names, language
 * guess and the content hash. */
#include <stdio.h>
#include <string.h>

#include "kb/doc.h"
#include "testutil.h"

static void test_fields_set_get_clear(void **state) {
  (void)state;
  kb_doc *d = kb_doc_new();
  assert_non_null(d);
  for (int f = 0; f < KB_FIELD_COUNT; f++) assert_null(kb_doc_get(d, (kb_field)f));
  assert_int_equal(kb_doc_set_str(d, KB_FIELD_TITLE, "打印机脱机"), KB_OK);
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "打印机脱机");
  /* kb_doc_set copies exactly len bytes */
  assert_int_equal(kb_doc_set(d, KB_FIELD_PRODUCT, "database-extra", 8), KB_OK);
  assert_string_equal(kb_doc_get(d, KB_FIELD_PRODUCT), "database");
  /* replacing */
  assert_int_equal(kb_doc_set_str(d, KB_FIELD_TITLE, "new"), KB_OK);
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "new");
  /* the value is a copy */
  char buf[] = "mutable";
  kb_doc_set_str(d, KB_FIELD_CATEGORY, buf);
  buf[0] = 'X';
  assert_string_equal(kb_doc_get(d, KB_FIELD_CATEGORY), "mutable");
  /* NULL clears */
  assert_int_equal(kb_doc_set_str(d, KB_FIELD_TITLE, NULL), KB_OK);
  assert_null(kb_doc_get(d, KB_FIELD_TITLE));
  assert_int_equal(kb_doc_set(d, KB_FIELD_PRODUCT, NULL, 0), KB_OK);
  assert_null(kb_doc_get(d, KB_FIELD_PRODUCT));
  /* an empty value is set, not cleared */
  kb_doc_set_str(d, KB_FIELD_TAGS, "");
  assert_non_null(kb_doc_get(d, KB_FIELD_TAGS));
  assert_string_equal(kb_doc_get(d, KB_FIELD_TAGS), "");
  /* the other fields were never touched */
  assert_null(kb_doc_get(d, KB_FIELD_ID));
  kb_doc_free(d);
}

static void test_segments(void **state) {
  (void)state;
  kb_doc *d = kb_doc_new();
  assert_int_equal(kb_doc_segment_count(d), 0);
  assert_null(kb_doc_segment(d, 0));
  assert_int_equal(kb_doc_add_segment(d, KB_SEG_BODY, false, "body text", 4), KB_OK);
  assert_int_equal(kb_doc_add_segment(d, KB_SEG_CODE, true, "ls -l", 5), KB_OK);
  assert_int_equal(kb_doc_add_segment(d, KB_SEG_HEADING, false, "ignored", 0), KB_OK);
  assert_int_equal(kb_doc_segment_count(d), 2); /* empty text is ignored */
  const kb_segment *s = kb_doc_segment(d, 0);
  assert_int_equal(s->kind, KB_SEG_BODY);
  assert_false(s->internal);
  assert_int_equal(s->len, 4);
  assert_string_equal(s->text, "body"); /* copied and NUL-terminated */
  s = kb_doc_segment(d, 1);
  assert_int_equal(s->kind, KB_SEG_CODE);
  assert_true(s->internal);
  assert_string_equal(s->text, "ls -l");
  assert_null(kb_doc_segment(d, 2));
  kb_doc_free(d);
}

static void test_many_segments(void **state) {
  (void)state;
  kb_doc *d = kb_doc_new();
  char text[32];
  for (int i = 0; i < 100; i++) {
    int n = snprintf(text, sizeof text, "segment %d", i);
    assert_int_equal(kb_doc_add_segment(d, KB_SEG_BODY, i % 2, text, (size_t)n), KB_OK);
  }
  assert_int_equal(kb_doc_segment_count(d), 100);
  assert_string_equal(kb_doc_segment(d, 0)->text, "segment 0");
  assert_string_equal(kb_doc_segment(d, 99)->text, "segment 99");
  assert_true(kb_doc_segment(d, 99)->internal);
  assert_false(kb_doc_segment(d, 98)->internal);
  kb_doc_free(d);
}

static void test_field_names_round_trip(void **state) {
  (void)state;
  for (int f = 0; f < KB_FIELD_COUNT; f++) {
    const char *name = kb_field_name((kb_field)f);
    assert_non_null(name);
    assert_true(strlen(name) > 0);
    assert_int_equal(kb_field_from_name(name), f);
  }
  assert_string_equal(kb_field_name(KB_FIELD_ID), "id");
  assert_string_equal(kb_field_name(KB_FIELD_TITLE), "title");
  assert_string_equal(kb_field_name(KB_FIELD_UPDATED), "updated");
  assert_int_equal(kb_field_from_name("product"), KB_FIELD_PRODUCT);
  assert_int_equal(kb_field_from_name("no-such-field"), -1);
  assert_int_equal(kb_field_from_name(""), -1);
  assert_int_equal(kb_field_from_name("Title"), -1); /* exact keys */
}

static void test_is_internal(void **state) {
  (void)state;
  kb_doc *d = kb_doc_new();
  assert_false(kb_doc_is_internal(d));
  kb_doc_set_str(d, KB_FIELD_VISIBILITY, "public");
  assert_false(kb_doc_is_internal(d));
  kb_doc_set_str(d, KB_FIELD_VISIBILITY, "internal");
  assert_true(kb_doc_is_internal(d));
  kb_doc_free(d);
}

static const char *guess(const char *text) {
  static char lang[8];
  kb_doc *d = kb_doc_new();
  kb_doc_add_segment(d, KB_SEG_BODY, false, text, strlen(text));
  snprintf(lang, sizeof lang, "%s", kb_doc_guess_language(d));
  kb_doc_free(d);
  return lang;
}

static void test_guess_language(void **state) {
  (void)state;
  assert_string_equal(guess("打印机脱机怎么办，请检查驱动程序和连接线"), "zh");
  assert_string_equal(guess("The printer is offline. Check the driver and the cable."), "en");
  /* Chinese prose with technical tokens is still Chinese */
  assert_string_equal(guess("连接数据库时出现 ORA-12170 错误，检查监听和防火墙设置"), "zh");
  /* English prose with one Chinese word is English */
  assert_string_equal(guess("Restart the service when the printer shows 脱机 status again"),
                      "en");
}

static void test_guess_language_over_segments(void **state) {
  (void)state;
  kb_doc *d = kb_doc_new();
  kb_doc_add_segment(d, KB_SEG_TITLE, false, "Printer", 7);
  kb_doc_add_segment(d, KB_SEG_BODY, false, "打印机脱机怎么办", strlen("打印机脱机怎么办"));
  assert_string_equal(kb_doc_guess_language(d), "zh");
  kb_doc_free(d);
}

static void test_hash_hex(void **state) {
  (void)state;
  char a[17], b[17], c[17], e[17];
  kb_hash_hex("hello", 5, a);
  kb_hash_hex("hello", 5, b);
  kb_hash_hex("hellp", 5, c);
  assert_int_equal(strlen(a), 16);
  assert_int_equal(strspn(a, "0123456789abcdef"), 16);
  assert_string_equal(a, b); /* stable */
  assert_string_not_equal(a, c);
  kb_hash_hex("", 0, e);
  assert_int_equal(strlen(e), 16);
  assert_string_not_equal(e, a);
  /* only len bytes count */
  kb_hash_hex("hello world", 5, b);
  assert_string_equal(a, b);
}

/* kb_hash_hex is 64-bit FNV-1a (offset basis 0xcbf29ce484222325): the
 * hash of "" is cbf29ce484222325. */
static void test_hash_hex_is_fnv1a(void **state) {
  (void)state;
  char e[17];
  kb_hash_hex("", 0, e);
  assert_string_equal(e, "cbf29ce484222325");
  kb_hash_hex("a", 1, e);
  assert_string_equal(e, "af63dc4c8601ec8c");
  kb_hash_hex("foobar", 6, e);
  assert_string_equal(e, "85944171f73967e8");
}

static void test_free_null(void **state) {
  (void)state;
  kb_doc_free(NULL);
}

static void test_id_problems(void **state) {
  (void)state;
  static const char *bad[] = {"", "t/..", "a/./x", "a/%2e%2E/b", "t/%2e", "t/x\ty", "t/x\x7f",
                              "t/x\xC2\x85", "t/\xE2\x80\xAE" "cod.exe", "t/\xE2\x81\xA6x",
                              "t/\xE2\x80\x8Ex", "t/\xD8\x9Cx", "t/x\xEF\xBB\xBF", "t/\xFFx"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (!kb_doc_id_problem(bad[i])) fail_msg("id '%s' accepted", bad[i]);
  static const char *good[] = {"t/INC 12", "a/a..b/c", "a/...x", "t/打印机-1", "t/50%", "a/x.y"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    if (kb_doc_id_problem(good[i])) fail_msg("id '%s' refused: %s", good[i], kb_doc_id_problem(good[i]));
}

static void test_id_url(void **state) {
  (void)state;
  kb_buf u = {0};
  assert_int_equal(kb_doc_id_url("t/INC 12%#?&\"<3>", &u), KB_OK);
  assert_string_equal(u.data, "/t/INC%2012%25%23%3F%26%22%3C3%3E");
  kb_buf_reset(&u);
  kb_doc_id_url("a/printing/打印-x_y.z~", &u);
  assert_string_equal(u.data, "/a/printing/%E6%89%93%E5%8D%B0-x_y.z~");
  kb_buf_free(&u);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fields_set_get_clear),
      cmocka_unit_test(test_id_problems),
      cmocka_unit_test(test_id_url),
      cmocka_unit_test(test_segments),
      cmocka_unit_test(test_many_segments),
      cmocka_unit_test(test_field_names_round_trip),
      cmocka_unit_test(test_is_internal),
      cmocka_unit_test(test_guess_language),
      cmocka_unit_test(test_guess_language_over_segments),
      cmocka_unit_test(test_hash_hex),
      cmocka_unit_test(test_hash_hex_is_fnv1a),
      cmocka_unit_test(test_free_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
