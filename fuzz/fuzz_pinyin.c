/* fuzz_pinyin.c — fuzz target: text read as pinyin (its reading, its
 * syllables, a lookup by reading or initials, a completion), as the
 * "did you mean" and completions of a search do with what users type. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kb/pinyin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static kb_pinyin_map *map;
  if (!map) {
    static const char *const words[] = {"数据库", "打印机", "银行", "重启", "服务器"};
    map = kb_pinyin_map_new();
    if (!map) abort();
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
      if (kb_pinyin_map_add(map, words[i], strlen(words[i]), (uint32_t)i + 1) != KB_OK) abort();
    if (kb_pinyin_map_seal(map) != KB_OK) abort();
  }
  const char *s = (const char *)data;
  kb_buf reading = {0}, initials = {0};
  if (kb_pinyin_of(s, size, &reading, &initials)) {
    /* a reading is lowercase ASCII syllables */
    for (size_t i = 0; i < reading.len; i++)
      if (reading.data[i] < 'a' || reading.data[i] > 'z') abort();
    if (initials.len > reading.len) abort();
  }
  kb_pinyin_is_syllables(s, size);
  const char *found[4];
  size_t n = kb_pinyin_map_find(map, s, size, true, found, 4);
  n += kb_pinyin_map_complete(map, s, size, found, 4);
  if (n > 8) abort();
  kb_buf_free(&reading);
  kb_buf_free(&initials);
  return 0;
}
