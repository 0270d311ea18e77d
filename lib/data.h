/* data.h — data files built into the library (lib/data/, linked by ld -b binary). */
#ifndef KB_DATA_H
#define KB_DATA_H

#include <stddef.h>

extern const char _binary_lexicon_txt_start[], _binary_lexicon_txt_end[];
extern const char _binary_stopwords_txt_start[], _binary_stopwords_txt_end[];

#define KB_DATA(name) _binary_##name##_txt_start
#define KB_DATA_LEN(name) ((size_t)(_binary_##name##_txt_end - _binary_##name##_txt_start))

/* Calls fn for every word of a word-list text: one entry per line, text after
 * the first whitespace ignored, '#' comment lines and blank lines skipped. */
typedef int (*kb_word_fn)(const char *word, size_t len, void *ctx);
int kb_data_each_word(const char *text, size_t len, kb_word_fn fn, void *ctx);

#endif
