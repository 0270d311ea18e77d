/* test_tokens.c — the tokens file's parser (server/tokens.c): roles,
 * comments and blank lines, a bad line refusing the whole file, and lines
 * of any length read whole. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "tokens.h"

/* Parses text as a tokens file: its status, *v and *n. */
static int parse(const char *text, token_entry **v, size_t *n) {
  FILE *f = fmemopen((void *)text, strlen(text), "r");
  assert_non_null(f);
  *v = NULL;
  *n = 0;
  int rc = kb_tokens_read(f, "test.tokens", NULL, v, n);
  fclose(f);
  return rc;
}

static void test_roles_comments_and_blanks(void **state) {
  (void)state;
  token_entry *v;
  size_t n;
  assert_int_equal(parse("# engineers\n\nabcdefghijklmnop engineer\n"
                         "  0123456789abcdef0123\tadmin  words after\r\n",
                         &v, &n),
                   0);
  assert_int_equal(n, 2);
  assert_string_equal(v[0].token, "abcdefghijklmnop");
  assert_int_equal(v[0].role, ROLE_ENGINEER);
  assert_string_equal(v[1].token, "0123456789abcdef0123");
  assert_int_equal(v[1].role, ROLE_ADMIN);
  kb_tokens_free(v, n);
}

static void test_a_bad_line_refuses_the_file(void **state) {
  (void)state;
  static const char *const bad[] = {"short engineer\n", "abcdefghijklmnop root\n",
                                    "abcdefghijklmnop\n"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    kb_buf text = {0};
    kb_buf_printf(&text, "0123456789abcdef0123 admin\n%s", bad[i]);
    token_entry *v;
    size_t n;
    assert_int_equal(parse(text.data, &v, &n), -1);
    assert_null(v);
    kb_buf_free(&text);
  }
}

/* found by fuzz/fuzz_tokens.c: lines were read 1,023 bytes at a time, so
 * the tail of a long comment was a line of its own, and a token was cut at
 * 511 bytes, its next bytes taken for the role; and an indented "#" line
 * was a token "#…" (now a comment, as the fuzz target expects) */
static void test_long_lines_are_read_whole(void **state) {
  (void)state;
  kb_buf text = {0};
  kb_buf_putc(&text, '#');
  for (int i = 0; i < 1022; i++) kb_buf_putc(&text, 'x'); /* the first read ends here */
  kb_buf_puts(&text, " abcdefghijklmnopq engineer\n0123456789abcdef0123 admin\n");
  token_entry *v;
  size_t n;
  assert_int_equal(parse(text.data, &v, &n), 0);
  assert_int_equal(n, 1); /* the comment is a comment, however long */
  assert_string_equal(v[0].token, "0123456789abcdef0123");
  kb_tokens_free(v, n);
  kb_buf_reset(&text);
  for (int i = 0; i < 511; i++) kb_buf_putc(&text, 'a');
  kb_buf_puts(&text, "engineer admin\n");
  assert_int_equal(parse(text.data, &v, &n), -1); /* not 511 a's as an engineer */
  assert_int_equal(parse("   #indented-comment-over-16 engineer\n", &v, &n), 0);
  assert_int_equal(n, 0);
  kb_buf_free(&text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roles_comments_and_blanks),
      cmocka_unit_test(test_a_bad_line_refuses_the_file),
      cmocka_unit_test(test_long_lines_are_read_whole),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
