/* test_pinyin.c — readings (word-level for polyphones, character by
 * character for the rest), syllable splitting, the reading → word map. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kb/pinyin.h"

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
  assert_int_equal(kb_pinyin_map_find(m, "shujuku", 7, out, 4), 1);
  assert_string_equal(out[0], "数据库");
  /* initials when no reading matches: the heaviest first */
  assert_int_equal(kb_pinyin_map_find(m, "sjk", 3, out, 4), 2);
  assert_string_equal(out[0], "数据库");
  assert_string_equal(out[1], "事件库");
  assert_int_equal(kb_pinyin_map_find(m, "dayinji", 7, out, 4), 1);
  assert_int_equal(kb_pinyin_map_find(m, "nginx", 5, out, 4), 0);
  /* completions of a prefix, heaviest first */
  assert_int_equal(kb_pinyin_map_complete(m, "shu", 3, out, 4), 3);
  assert_string_equal(out[0], "数据");
  assert_string_equal(out[1], "数据库");
  assert_string_equal(out[2], "书架");
  assert_int_equal(kb_pinyin_map_complete(m, "shu", 3, out, 1), 1);
  assert_string_equal(out[0], "数据");
  kb_pinyin_map_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_word_readings),
      cmocka_unit_test(test_syllables),
      cmocka_unit_test(test_map_find_and_complete),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
