/* text.h — UTF-8 handling, normalisation, and a growable byte buffer.
 *
 * All text inside kb is UTF-8. Normalisation is ICU's NFKC with case folding
 * (NFKC_Casefold): full-width letters and digits fold to ASCII, letters fold
 * to lower case. The analyzer applies it to every token of documents and
 * queries alike. Traditional → simplified folding is the tokenizer's
 * (OpenCC, tokenize.h); pinyin readings have their own module (pinyin.h).
 */
#ifndef KB_TEXT_H
#define KB_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kb/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ## Growable buffer
 *
 * A NUL-terminated byte string that grows as needed. Zero-initialise it
 * (`kb_buf b = {0};`) and release it with kb_buf_free(). */
typedef struct kb_buf {
  char *data; /* NUL-terminated when len > 0 or after any append */
  size_t len;
  size_t cap;
} kb_buf;

int kb_buf_reserve(kb_buf *b, size_t extra);
int kb_buf_append(kb_buf *b, const char *s, size_t len);
int kb_buf_puts(kb_buf *b, const char *s);
int kb_buf_putc(kb_buf *b, char c);
int kb_buf_printf(kb_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void kb_buf_reset(kb_buf *b); /* len = 0, keeps memory */
void kb_buf_free(kb_buf *b);
/* Returns b's string and leaves b empty; the caller frees it with free().
 * Never NULL unless out of memory. */
char *kb_buf_detach(kb_buf *b);

/* Makes room in a growable array: *arrayp (a pointer to the array's
 * pointer) holds at least need elements of elem bytes afterwards, *cap
 * doubling from 16. KB_OK or KB_ENOMEM (the array is then unchanged). */
int kb_grow(void *arrayp, size_t *cap, size_t need, size_t elem);

/* Appends the whole file at path to b. max (bytes, 0 = no limit) bounds
 * it: a bigger file is KB_ETOOBIG. Errors name the file. */
int kb_buf_read_file(kb_buf *b, const char *path, size_t max, kb_error *err);

/* ## UTF-8 */

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates).
 * On false, *bad_offset (if not NULL) is the byte offset of the first bad
 * sequence. */
bool kb_utf8_valid(const char *s, size_t len, size_t *bad_offset);

/* Decodes the code point at s[*i], advancing *i past it. Returns -1 (and
 * advances one byte) on an invalid sequence. */
int32_t kb_utf8_next(const char *s, size_t len, size_t *i);

/* Writes cp as UTF-8 into out (at least 4 bytes); returns the byte count. */
size_t kb_utf8_put(int32_t cp, char *out);

/* Keeps the well-formed characters of s[0..len) in place (a text cut inside
 * a character, or bytes of no encoding, become valid UTF-8) and ends it
 * with a NUL at the returned length; s needs room for it. */
size_t kb_utf8_drop_invalid(char *s, size_t len);

/* 1-based line number of byte offset off in s. */
size_t kb_text_line_of(const char *s, size_t off);

/* True for Han ideographs (CJK unified, extension A, compatibility). */
bool kb_is_han(int32_t cp);

/* True for a punctuation character (ICU's u_ispunct: '，', '`', '。'). */
bool kb_is_punct(int32_t c);

/* The next list separator in s (',' '，' '、' ';' '；'), or the end of s;
 * *sep_len is its length in bytes (0 at the end). */
const char *kb_list_next_sep(const char *s, size_t *sep_len);

/* Calls fn for each member of a synonyms text (lib/data/synonyms.txt's
 * format): lines "a = b = c", one group a line, '#' starting a comment
 * line. Groups are numbered from *groups on, which is left one past the
 * last. Stops at fn's first non-zero value and returns it. */
typedef int (*kb_synonym_fn)(const char *member, size_t len, size_t group, void *ctx);
int kb_synonyms_each(const char *text, size_t len, size_t *groups, kb_synonym_fn fn, void *ctx);

/* True for a real calendar date written YYYY-MM-DD (1970–2999). */
bool kb_text_is_date(const char *s);

/* 64-bit FNV-1a of data[0..len). */
uint64_t kb_fnv1a(const void *data, size_t len);

/* ## Normalisation */

/* Appends NFKC_Casefold(s[0..len)) to out. s must be valid UTF-8. */
int kb_text_fold(const char *s, size_t len, kb_buf *out, kb_error *err);

#ifdef __cplusplus
}
#endif

#endif
