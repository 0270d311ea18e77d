/* test_text.c — UTF-8 validation and decoding, NFKC_Casefold, list
 * separators, line numbers and the growable buffer. */
#include <stdlib.h>
#include <string.h>

#include "kb/text.h"
#include "testutil.h"

/* ----------------------------------------------------------------- UTF-8 */

static void test_utf8_valid_accepts_ascii_and_chinese(void **state) {
  (void)state;
  const char *s = "hello 打印机脱机 ORA-12170 😀";
  size_t bad = 999;
  assert_true(kb_utf8_valid(s, strlen(s), &bad));
  assert_int_equal(bad, 999); /* untouched on success */
  assert_true(kb_utf8_valid("", 0, NULL));
}

static void test_utf8_valid_rejects_overlong(void **state) {
  (void)state;
  size_t bad = 999;
  assert_false(kb_utf8_valid("\xC0\xAF", 2, &bad));
  assert_int_equal(bad, 0);
  /* overlong three-byte form of '/' */
  assert_false(kb_utf8_valid("ab\xE0\x80\xAF", 5, &bad));
  assert_int_equal(bad, 2);
  /* overlong four-byte form */
  assert_false(kb_utf8_valid("\xF0\x80\x80\xAF", 4, &bad));
  assert_int_equal(bad, 0);
}

static void test_utf8_drop_invalid_keeps_whole_characters(void **state) {
  (void)state;
  /* 优先级 cut inside its last character, a stray byte in the middle */
  char s[] = "a\xFF优先\xE7\xBA";
  size_t n = kb_utf8_drop_invalid(s, strlen(s));
  assert_string_equal(s, "a优先");
  assert_int_equal(n, strlen("a优先"));
  char ok[] = "打印机 ok";
  assert_int_equal(kb_utf8_drop_invalid(ok, strlen(ok)), strlen("打印机 ok"));
  assert_string_equal(ok, "打印机 ok");
}

static void test_utf8_valid_rejects_surrogate(void **state) {
  (void)state;
  size_t bad = 999;
  assert_false(kb_utf8_valid("\xED\xA0\x80", 3, &bad));
  assert_int_equal(bad, 0);
  assert_false(kb_utf8_valid("x\xED\xBF\xBF", 4, &bad));
  assert_int_equal(bad, 1);
}

static void test_utf8_valid_rejects_truncated(void **state) {
  (void)state;
  size_t bad = 999;
  const char *s = "打印\xE6\x9C"; /* 机 without its last byte */
  assert_false(kb_utf8_valid(s, strlen(s), &bad));
  assert_int_equal(bad, 6);
  /* lead byte followed by ASCII instead of a continuation byte */
  assert_false(kb_utf8_valid("ab\xE6z", 4, &bad));
  assert_int_equal(bad, 2);
}

static void test_utf8_valid_rejects_stray_bytes(void **state) {
  (void)state;
  size_t bad = 999;
  assert_false(kb_utf8_valid("abc\x80", 4, &bad)); /* lone continuation */
  assert_int_equal(bad, 3);
  assert_false(kb_utf8_valid("\xFF", 1, &bad));
  assert_int_equal(bad, 0);
  assert_false(kb_utf8_valid("\xF4\x90\x80\x80", 4, &bad)); /* > U+10FFFF */
  assert_int_equal(bad, 0);
}

static void test_utf8_valid_respects_len(void **state) {
  (void)state;
  /* the bad byte lies beyond len: not looked at */
  assert_true(kb_utf8_valid("ok\xFF", 2, NULL));
  /* a valid sequence cut by len is truncated */
  size_t bad;
  assert_false(kb_utf8_valid("机", 2, &bad));
  assert_int_equal(bad, 0);
}

static void test_utf8_next_decodes(void **state) {
  (void)state;
  const char *s = "a机😀";
  size_t len = strlen(s), i = 0;
  assert_int_equal(kb_utf8_next(s, len, &i), 'a');
  assert_int_equal(i, 1);
  assert_int_equal(kb_utf8_next(s, len, &i), 0x673A);
  assert_int_equal(i, 4);
  assert_int_equal(kb_utf8_next(s, len, &i), 0x1F600);
  assert_int_equal(i, 8);
  assert_int_equal(i, len);
}

static void test_utf8_next_invalid_advances_one_byte(void **state) {
  (void)state;
  const char *s = "\xC0\xAFx";
  size_t i = 0;
  assert_int_equal(kb_utf8_next(s, 3, &i), -1);
  assert_int_equal(i, 1);
  assert_int_equal(kb_utf8_next(s, 3, &i), -1);
  assert_int_equal(i, 2);
  assert_int_equal(kb_utf8_next(s, 3, &i), 'x');
  assert_int_equal(i, 3);
}

static void test_utf8_put_next_round_trip(void **state) {
  (void)state;
  static const int32_t cps[] = {0x00, 0x41, 0x7F, 0x80, 0x7FF, 0x800, 0x673A, 0xD7FF, 0xE000,
                                0xFF10, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF};
  static const size_t sizes[] = {1, 1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4};
  for (size_t k = 0; k < sizeof cps / sizeof cps[0]; k++) {
    char buf[4];
    size_t n = kb_utf8_put(cps[k], buf);
    assert_int_equal(n, sizes[k]);
    assert_true(kb_utf8_valid(buf, n, NULL));
    size_t i = 0;
    assert_int_equal(kb_utf8_next(buf, n, &i), cps[k]);
    assert_int_equal(i, n);
  }
  char buf[4];
  assert_int_equal(kb_utf8_put(0x673A, buf), 3);
  assert_memory_equal(buf, "机", 3);
}

static void test_is_han(void **state) {
  (void)state;
  assert_true(kb_is_han(0x673A));  /* 机 */
  assert_true(kb_is_han(0x3400));  /* extension A */
  assert_true(kb_is_han(0xF900));  /* compatibility */
  assert_true(kb_is_han(0x20000)); /* extension B */
  assert_false(kb_is_han('A'));
  assert_false(kb_is_han(0x3042)); /* あ */
  assert_false(kb_is_han(0x3002)); /* 。 */
  assert_false(kb_is_han(-1));
}

/* --------------------------------------------------------- normalisation */

static void assert_fold(const char *in, const char *expected) {
  kb_buf out = {0};
  kb_error err = {0};
  assert_int_equal(kb_text_fold(in, strlen(in), &out, &err), KB_OK);
  assert_non_null(out.data);
  assert_string_equal(out.data, expected);
  assert_int_equal(out.len, strlen(expected));
  kb_buf_free(&out);
}

static void test_fold_full_width(void **state) {
  (void)state;
  assert_fold("ＡＢＣ１２３", "abc123");
  assert_fold("Ｅｒｒｏｒ", "error");
  assert_fold("ＯＲＡ－１２１７０", "ora-12170");
}

static void test_fold_ascii_case(void **state) {
  (void)state;
  assert_fold("HeLLo", "hello");
  assert_fold("ORA-12170 /Var/LOG", "ora-12170 /var/log");
}

static void test_fold_compatibility_forms(void **state) {
  (void)state;
  assert_fold("ﬁ", "fi");
  assert_fold("ﬁle", "file");
  assert_fold("Straße", "strasse");
  assert_fold("ÉCOLE", "école");
}

static void test_fold_chinese_unchanged(void **state) {
  (void)state;
  assert_fold("打印机脱机", "打印机脱机");
  assert_fold("数据库连接超时", "数据库连接超时");
}

static void test_fold_appends(void **state) {
  (void)state;
  kb_buf out = {0};
  kb_buf_puts(&out, "XP");
  assert_int_equal(kb_text_fold("Ｄａｔａｂａｓｅ", strlen("Ｄａｔａｂａｓｅ"), &out, NULL), KB_OK);
  assert_string_equal(out.data, "XPdatabase");
  assert_int_equal(kb_text_fold("", 0, &out, NULL), KB_OK);
  assert_string_equal(out.data, "XPdatabase");
  kb_buf_free(&out);
}

static void test_fold_long_text(void **state) {
  (void)state;
  /* longer than the on-stack buffers of the implementation */
  kb_buf in = {0}, expected = {0}, out = {0};
  for (int i = 0; i < 400; i++) {
    kb_buf_puts(&in, "Ａ机");
    kb_buf_puts(&expected, "a机");
  }
  assert_int_equal(kb_text_fold(in.data, in.len, &out, NULL), KB_OK);
  assert_string_equal(out.data, expected.data);
  kb_buf_free(&in);
  kb_buf_free(&expected);
  kb_buf_free(&out);
}

/* ------------------------------------------------------------ small text */

static void test_line_of(void **state) {
  (void)state;
  const char *s = "one\ntwo\n\nfour";
  assert_int_equal(kb_text_line_of(s, 0), 1);
  assert_int_equal(kb_text_line_of(s, 3), 1); /* the newline itself */
  assert_int_equal(kb_text_line_of(s, 4), 2);
  assert_int_equal(kb_text_line_of(s, 8), 3);
  assert_int_equal(kb_text_line_of(s, 9), 4);
  assert_int_equal(kb_text_line_of(s, strlen(s)), 4);
}

static void test_list_next_sep(void **state) {
  (void)state;
  const char *s = "a，b、c,d";
  size_t n = 99;
  const char *e = kb_list_next_sep(s, &n);
  assert_int_equal(e - s, 1);
  assert_int_equal(n, 3); /* '，' */
  s = e + n;
  assert_int_equal(*s, 'b');
  e = kb_list_next_sep(s, &n);
  assert_int_equal(e - s, 1);
  assert_int_equal(n, 3); /* '、' */
  s = e + n;
  assert_int_equal(*s, 'c');
  e = kb_list_next_sep(s, &n);
  assert_int_equal(e - s, 1);
  assert_int_equal(n, 1); /* ',' */
  s = e + n;
  assert_string_equal(s, "d");
  e = kb_list_next_sep(s, &n);
  assert_int_equal(n, 0);
  assert_int_equal(*e, '\0');
  assert_ptr_equal(e, s + 1);
}

static void test_list_next_sep_semicolons(void **state) {
  (void)state;
  size_t n;
  const char *s = "数据库；网络;x";
  const char *e = kb_list_next_sep(s, &n);
  assert_int_equal(e - s, strlen("数据库"));
  assert_int_equal(n, 3);
  e = kb_list_next_sep(e + n, &n);
  assert_int_equal(*e, ';');
  assert_int_equal(n, 1);
  e = kb_list_next_sep("", &n);
  assert_int_equal(n, 0);
  assert_int_equal(*e, '\0');
}

/* ---------------------------------------------------------------- buffer */

static void test_buf_append_and_puts(void **state) {
  (void)state;
  kb_buf b = {0};
  assert_int_equal(kb_buf_append(&b, "abcdef", 3), KB_OK);
  assert_int_equal(b.len, 3);
  assert_string_equal(b.data, "abc");
  assert_int_equal(kb_buf_puts(&b, "打印"), KB_OK);
  assert_int_equal(kb_buf_putc(&b, '!'), KB_OK);
  assert_string_equal(b.data, "abc打印!");
  assert_int_equal(b.len, strlen("abc打印!"));
  assert_true(b.cap > b.len);
  kb_buf_free(&b);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.cap, 0);
}

static void test_buf_append_empty_terminates(void **state) {
  (void)state;
  kb_buf b = {0};
  assert_int_equal(kb_buf_append(&b, "", 0), KB_OK);
  assert_non_null(b.data);
  assert_string_equal(b.data, "");
  kb_buf_free(&b);
}

static void test_buf_printf(void **state) {
  (void)state;
  kb_buf b = {0};
  assert_int_equal(kb_buf_printf(&b, "%s:%d:", "a.md", 7), KB_OK);
  assert_int_equal(kb_buf_printf(&b, " %05.1f %zu", 2.5, (size_t)12), KB_OK);
  assert_string_equal(b.data, "a.md:7: 002.5 12");
  assert_int_equal(b.len, strlen("a.md:7: 002.5 12"));
  kb_buf_free(&b);
}

static void test_buf_grows(void **state) {
  (void)state;
  kb_buf b = {0};
  for (int i = 0; i < 10000; i++) assert_int_equal(kb_buf_printf(&b, "%04d", i % 10000), KB_OK);
  assert_int_equal(b.len, 40000);
  assert_memory_equal(b.data + 39996, "9999", 4);
  assert_int_equal(b.data[b.len], '\0');
  assert_int_equal(kb_buf_reserve(&b, 100000), KB_OK);
  assert_true(b.cap >= b.len + 100000 + 1);
  kb_buf_free(&b);
}

static void test_buf_reset_keeps_memory(void **state) {
  (void)state;
  kb_buf b = {0};
  kb_buf_puts(&b, "something long enough");
  char *mem = b.data;
  size_t cap = b.cap;
  kb_buf_reset(&b);
  assert_int_equal(b.len, 0);
  assert_ptr_equal(b.data, mem);
  assert_int_equal(b.cap, cap);
  assert_string_equal(b.data, "");
  kb_buf_puts(&b, "x");
  assert_string_equal(b.data, "x");
  kb_buf_free(&b);
  kb_buf empty = {0};
  kb_buf_reset(&empty); /* no memory yet: must not crash */
  assert_int_equal(empty.len, 0);
}

static void test_buf_detach(void **state) {
  (void)state;
  kb_buf b = {0};
  kb_buf_puts(&b, "owned");
  char *s = kb_buf_detach(&b);
  assert_string_equal(s, "owned");
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.cap, 0);
  free(s);
  /* an empty buffer detaches to "" (never NULL) */
  s = kb_buf_detach(&b);
  assert_non_null(s);
  assert_string_equal(s, "");
  free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_utf8_valid_accepts_ascii_and_chinese),
      cmocka_unit_test(test_utf8_valid_rejects_overlong),
      cmocka_unit_test(test_utf8_valid_rejects_surrogate),
      cmocka_unit_test(test_utf8_drop_invalid_keeps_whole_characters),
      cmocka_unit_test(test_utf8_valid_rejects_truncated),
      cmocka_unit_test(test_utf8_valid_rejects_stray_bytes),
      cmocka_unit_test(test_utf8_valid_respects_len),
      cmocka_unit_test(test_utf8_next_decodes),
      cmocka_unit_test(test_utf8_next_invalid_advances_one_byte),
      cmocka_unit_test(test_utf8_put_next_round_trip),
      cmocka_unit_test(test_is_han),
      cmocka_unit_test(test_fold_full_width),
      cmocka_unit_test(test_fold_ascii_case),
      cmocka_unit_test(test_fold_compatibility_forms),
      cmocka_unit_test(test_fold_chinese_unchanged),
      cmocka_unit_test(test_fold_appends),
      cmocka_unit_test(test_fold_long_text),
      cmocka_unit_test(test_line_of),
      cmocka_unit_test(test_list_next_sep),
      cmocka_unit_test(test_list_next_sep_semicolons),
      cmocka_unit_test(test_buf_append_and_puts),
      cmocka_unit_test(test_buf_append_empty_terminates),
      cmocka_unit_test(test_buf_printf),
      cmocka_unit_test(test_buf_grows),
      cmocka_unit_test(test_buf_reset_keeps_memory),
      cmocka_unit_test(test_buf_detach),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
