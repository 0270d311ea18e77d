/* test_english.c — the English word list "did you mean" consults. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kb/english.h"

static bool word(const char *w) { return kb_english_word(w, strlen(w)); }

static void test_words_and_non_words(void **state) {
  (void)state;
  const char *words[] = {"a", "exit", "frozen", "printer", "zoom", "meeting", "working", "zygote"};
  for (size_t i = 0; i < sizeof words / sizeof *words; i++)
    if (!word(words[i])) fail_msg("'%s' should be a word", words[i]);
  /* typos, product names, names (the list's capitalised entries) */
  const char *others[] = {"prnter", "nginx", "ngnix", "pinter", "bluescreen", "exi", "exitt", "",
                          "Exit", "zzzzzz"};
  for (size_t i = 0; i < sizeof others / sizeof *others; i++)
    if (word(others[i])) fail_msg("'%s' should not be a word", others[i]);
}

static void test_length_is_respected(void **state) {
  (void)state;
  /* a prefix of a longer text is looked up by its length alone */
  assert_true(kb_english_word("exited", 4));
  assert_false(kb_english_word("exi", 3));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_words_and_non_words),
      cmocka_unit_test(test_length_is_respected),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
