/* data.h — data files built into the library (lib/data/, linked by ld -b binary). */
#ifndef KB_DATA_H
#define KB_DATA_H

#include <stddef.h>

extern const char _binary_lexicon_txt_start[], _binary_lexicon_txt_end[];
extern const char _binary_stopwords_txt_start[], _binary_stopwords_txt_end[];
extern const char _binary_variants_txt_start[], _binary_variants_txt_end[];
extern const char _binary_synonyms_txt_start[], _binary_synonyms_txt_end[];
extern const char _binary_particle_words_txt_start[], _binary_particle_words_txt_end[];

#define KB_DATA(name) _binary_##name##_txt_start
#define KB_DATA_LEN(name) ((size_t)(_binary_##name##_txt_end - _binary_##name##_txt_start))

#endif
