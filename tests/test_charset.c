/* test_charset.c — an input's charset judged over all its lines, and
 * conversion to UTF-8 that never replaces a bad sequence. */
#include <stdlib.h>
#include <string.h>
#include <unicode/ucnv.h>

#include "kb/charset.h"
#include "testutil.h"

/* Scans text fed in pieces of step bytes (0 = at once) and decides. */
static int decide(const char *text, size_t len, size_t step, kb_charset_choice *c, kb_error *err) {
  kb_charset_scan *s = NULL;
  assert_int_equal(kb_charset_scan_new(0, &s), KB_OK);
  for (size_t i = 0; i < len; i += step ? step : len)
    assert_int_equal(kb_charset_scan_feed(s, text + i, step && len - i > step ? step : len - i),
                     KB_OK);
  int rc = kb_charset_scan_decide(s, "in.jsonl", c, err);
  kb_charset_scan_free(s);
  return rc;
}

static void put_gbk(kb_buf *b, const char *utf8) {
  UErrorCode st = U_ZERO_ERROR;
  char out[4096];
  int32_t n = ucnv_convert("GBK", "UTF-8", out, sizeof out, utf8, -1, &st);
  assert_true(U_SUCCESS(st));
  kb_buf_append(b, out, (size_t)n);
}

static void test_valid_utf8_is_certain(void **state) {
  (void)state;
  const char *t = "{\"id\":\"1\",\"title\":\"打印机脱机\"}\nascii only\n{\"title\":\"数据库\"}";
  kb_charset_choice c;
  /* whole, and a byte at a time: a character split between feeds is whole */
  for (size_t step = 0; step <= 1; step++) {
    assert_int_equal(decide(t, strlen(t), step, &c, NULL), KB_OK);
    assert_string_equal(c.name, "UTF-8");
    assert_int_equal(c.origin, KB_CHARSET_UTF8);
    assert_int_equal(c.lines, 3);
    assert_int_equal(c.utf8_lines, 2);
    assert_int_equal(c.bad_lines, 0);
  }
}

/* The defect this module was written for: ASCII, one line typed in Word
 * (Windows-1252 quotes), then Chinese in UTF-8. The file is UTF-8; the
 * one line is bad, and nothing is read as Latin-1. */
static void test_one_windows_line_in_utf8_is_a_bad_line(void **state) {
  (void)state;
  kb_buf b = {0};
  for (int i = 0; i < 100; i++) kb_buf_printf(&b, "{\"id\":\"en%d\",\"title\":\"printer offline\"}\n", i);
  kb_buf_puts(&b, "{\"id\":\"w\",\"title\":\"\x93it broke\x94\"}\n");
  for (int i = 0; i < 5; i++) kb_buf_printf(&b, "{\"id\":\"zh%d\",\"title\":\"数据库连接失败\"}\n", i);
  kb_charset_choice c;
  for (size_t step = 0; step <= 7; step += 7) {
    assert_int_equal(decide(b.data, b.len, step, &c, NULL), KB_OK);
    assert_string_equal(c.name, "UTF-8");
    assert_int_equal(c.origin, KB_CHARSET_UTF8_MOSTLY);
    assert_int_equal(c.bad_lines, 1);
    assert_int_equal(c.utf8_lines, 5);
  }
  kb_buf_free(&b);
}

static void test_gbk_is_guessed(void **state) {
  (void)state;
  kb_buf b = {0};
  for (int i = 0; i < 20; i++)
    put_gbk(&b, "{\"工单号\":\"G1\",\"主题\":\"服务器无法启动\",\"问题描述\":\"客户反映服务器开机后卡在自检界面，"
                "更换内存条后恢复正常\"}\n");
  kb_charset_choice c;
  assert_int_equal(decide(b.data, b.len, 0, &c, NULL), KB_OK);
  if (strncasecmp(c.name, "GB", 2) != 0) fail_msg("guessed '%s', expected a GB charset", c.name);
  assert_int_equal(c.origin, KB_CHARSET_GUESSED);
  assert_true(c.confidence >= KB_CHARSET_MIN_CONFIDENCE);
  char how[320];
  kb_charset_describe(&c, how, sizeof how);
  assert_true(tu_contains(how, "guessed"));
  kb_buf_free(&b);
}

static void test_low_confidence_asks_for_encoding(void **state) {
  (void)state;
  const char t[] = "{\"id\":\"1\"}\n\x80\x81\xFD\xFC\x9F\n";
  kb_charset_choice c;
  kb_error err = {0};
  assert_int_equal(decide(t, sizeof t - 1, 0, &c, &err), KB_EENCODING);
  assert_true(tu_contains(err.message, "in.jsonl"));
  assert_true(tu_contains(err.message, "--encoding"));
  /* UTF-16 cannot be read line by line: said so, not guessed at */
  const char u16[] = "\xFF\xFE{\0\"\0i\0d\0\"\0:\0\"\0\x53\x62\"\0}\0\n\0";
  assert_int_equal(decide(u16, sizeof u16 - 1, 0, &c, &err), KB_EENCODING);
  assert_true(tu_contains(err.message, "UTF-16"));
}

static void test_long_line_judged_on_its_start(void **state) {
  (void)state;
  kb_charset_scan *s = NULL;
  assert_int_equal(kb_charset_scan_new(8, &s), KB_OK);
  /* cut after 8 bytes, inside 机 (bytes 7..9): not a fault of the input */
  const char *t = "打印机脱机\nok\n";
  assert_int_equal(kb_charset_scan_feed(s, t, strlen(t)), KB_OK);
  kb_charset_choice c;
  assert_int_equal(kb_charset_scan_decide(s, "x", &c, NULL), KB_OK);
  assert_int_equal(c.origin, KB_CHARSET_UTF8);
  assert_int_equal(c.lines, 2);
  kb_charset_scan_free(s);
  kb_charset_scan_free(NULL);
}

static void test_conversion_never_replaces(void **state) {
  (void)state;
  kb_charset_conv *c = NULL;
  kb_buf out = {0};
  assert_int_equal(kb_charset_conv_new("GB18030", &c, NULL), KB_OK);
  kb_buf in = {0};
  put_gbk(&in, "打印机");
  assert_true(kb_charset_conv_to_utf8(c, in.data, in.len, &out));
  assert_string_equal(out.data, "打印机");
  assert_false(kb_charset_conv_to_utf8(c, "a\x81\x20", 3, &out));
  kb_charset_conv_free(c);
  assert_int_equal(kb_charset_conv_new("utf-8", &c, NULL), KB_OK);
  assert_true(kb_charset_conv_to_utf8(c, "数据库", strlen("数据库"), &out));
  assert_false(kb_charset_conv_to_utf8(c, "\x93it\x94", 4, &out));
  kb_charset_conv_free(c);
  kb_error err = {0};
  assert_int_equal(kb_charset_conv_new("no-such-charset", &c, &err), KB_EINVAL);
  assert_null(c);
  assert_true(tu_contains(err.message, "no-such-charset"));
  kb_charset_conv_free(NULL);
  kb_buf_free(&in);
  kb_buf_free(&out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_utf8_is_certain),
      cmocka_unit_test(test_one_windows_line_in_utf8_is_a_bad_line),
      cmocka_unit_test(test_gbk_is_guessed),
      cmocka_unit_test(test_low_confidence_asks_for_encoding),
      cmocka_unit_test(test_long_line_judged_on_its_start),
      cmocka_unit_test(test_conversion_never_replaces),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
