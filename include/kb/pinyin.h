/* pinyin.h — queries typed in pinyin ("shujuku", "shu ju ku", the initials
 * "sjk") find the Chinese words they spell.
 *
 * Readings are word-level where the pinyin-database package (the phrase
 * table of ibus-pinyin, extracted at build time) has the word, so that
 * polyphones read as they are said (银行 yinhang, 重启 chongqi), and
 * character by character (the character's most frequent reading) for the
 * rest. Tones are dropped; ü is typed v (绿 lv), üe ue (略 lue).
 */
#ifndef KB_PINYIN_H
#define KB_PINYIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kb/text.h"

/* Appends word's reading, syllables joined ("shujuku"), to reading and its
 * initials ("sjk") to initials (either may be NULL). False when some
 * character of word has no reading (then nothing is appended). */
bool kb_pinyin_of(const char *word, size_t len, kb_buf *reading, kb_buf *initials);

/* Whether s (lowercase ASCII) is a sequence of pinyin syllables. */
bool kb_pinyin_is_syllables(const char *s, size_t len);

/* Chinese words by reading: what a searcher builds from an index's words. */
typedef struct kb_pinyin_map kb_pinyin_map;

kb_pinyin_map *kb_pinyin_map_new(void);
void kb_pinyin_map_free(kb_pinyin_map *m);
/* Adds word (UTF-8, every character with a reading, else skipped) with a
 * weight (its document frequency). KB_OK or KB_ENOMEM. */
int kb_pinyin_map_add(kb_pinyin_map *m, const char *word, size_t len, uint32_t weight);
/* Sorts what was added; lookups before this find nothing. */
int kb_pinyin_map_seal(kb_pinyin_map *m);
/* Up to n words whose reading is key, heaviest first; if none and
 * initials_too, the words whose initials are key. Returns how many; the
 * words are borrowed. */
size_t kb_pinyin_map_find(const kb_pinyin_map *m, const char *key, size_t len,
                          bool initials_too, const char **out, size_t n);
/* Up to n words whose reading starts with prefix, heaviest first. */
size_t kb_pinyin_map_complete(const kb_pinyin_map *m, const char *prefix, size_t len,
                              const char **out, size_t n);

#endif
