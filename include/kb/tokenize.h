/* tokenize.h — text into index terms: ICU word segmentation, technical
 * tokens, a domain lexicon, CJK bigrams.
 *
 * The same tokenizer runs over documents and queries, so that whatever was
 * indexed can be found. For each piece of text it produces:
 *
 * - primary tokens, one per position, in order: Latin words (case-folded,
 *   NFKC, stemmed with Xapian's English stemmer), numbers, Chinese words
 *   (ICU's dictionary segmentation re-merged with the domain lexicon), and
 *   the parts of technical tokens (`ORA-12170` gives `ora`, `12170`; so do
 *   `ora12170`, letters then digits in one run);
 * - alternative tokens, sharing the position of a primary and never part of
 *   a phrase chain: the whole technical token (`ora-12170`, `ora12170`,
 *   `192.168.1.10`, `/var/log/messages`, `--force`), pairs of its parts, the
 *   digits of a hex number (`80070005` of `0x80070005`), and the character
 *   bigrams of every Chinese run (a fallback that survives any segmentation
 *   mismatch between a query and a text).
 */
#ifndef KB_TOKENIZE_H
#define KB_TOKENIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kb/error.h"

/* ## Lexicon
 *
 * A set of words (the domain lexicon) that ICU's dictionary splits badly:
 * 打印机, 服务器, 工单. Immutable once built, so one lexicon may be shared by
 * any number of tokenizers on any threads. */
typedef struct kb_lexicon kb_lexicon;

/* A word list shipped with kb and built into the library: "lexicon" (the
 * domain lexicon, lib/data/lexicon.txt) or "stopwords" (lib/data/
 * stopwords.txt; the query module uses a kb_lexicon as its stop set).
 * Caller frees with kb_lexicon_free(). */
int kb_lexicon_new_builtin(const char *name, kb_lexicon **out, kb_error *err);

/* An empty word set. NULL when out of memory. */
kb_lexicon *kb_lexicon_new(void);

/* Adds the words of a file (one word per line; text after whitespace and
 * lines starting with '#' are ignored). */
int kb_lexicon_add_file(kb_lexicon *lex, const char *path, kb_error *err);

/* Adds the words of a word-list text (same format as a file). */
int kb_lexicon_add_text(kb_lexicon *lex, const char *text, size_t len);

/* Adds one word (UTF-8). */
int kb_lexicon_add(kb_lexicon *lex, const char *word, size_t len);

/* Calls fn for every word (in no particular order); a non-zero return stops
 * and is returned. */
typedef int (*kb_lexicon_fn)(const char *word, size_t len, void *ctx);
int kb_lexicon_each(const kb_lexicon *lex, kb_lexicon_fn fn, void *ctx);

bool kb_lexicon_contains(const kb_lexicon *lex, const char *word, size_t len);
size_t kb_lexicon_size(const kb_lexicon *lex);
void kb_lexicon_free(kb_lexicon *lex);

/* ## Tokens */

typedef enum kb_token_kind {
  KB_TOKEN_WORD,   /* a word of an alphabetic script, stemmed */
  KB_TOKEN_NUMBER, /* digits, or letters mixed with digits (0x80070005) */
  KB_TOKEN_CJK,    /* a Chinese (or Japanese) word */
  KB_TOKEN_TECH,   /* a whole technical token (alternative) */
  KB_TOKEN_BIGRAM, /* two adjacent Han characters (alternative) */
  KB_TOKEN_COMPOUND, /* the words of a built-in synonym of several words,
                        one after another: their terms joined by spaces
                        (alternative, at the first word's position) */
  KB_TOKEN_PAIR,     /* two adjacent parts of a technical token, joined by a
                        space (alternative, at the first part's position) */
  KB_TOKEN_VARIANT,  /* another spelling of a part, searched for as a word:
                        the digits of 0x80070005 (alternative, at its
                        position) */
} kb_token_kind;

typedef struct kb_token {
  const char *term;  /* the index term, NUL-terminated; borrowed for the callback */
  size_t term_len;
  const char *surface; /* folded but unstemmed form (== term when not stemmed) */
  size_t surface_len;
  kb_token_kind kind;
  bool alt;      /* an alternative: shares pos with a primary, not in phrases */
  uint32_t pos;  /* position; primaries strictly increase */
  size_t start;  /* byte range in the input text */
  size_t end;
} kb_token;

/* Called for each token; return non-zero to stop tokenizing (that value is
 * returned by kb_tokenizer_run). */
typedef int (*kb_token_fn)(const kb_token *tok, void *ctx);

/* ## Tokenizer
 *
 * Holds an ICU break iterator and a stemmer: one per thread. */
typedef struct kb_tokenizer kb_tokenizer;

/* lex is borrowed and must outlive the tokenizer; NULL means no lexicon. */
int kb_tokenizer_new(const kb_lexicon *lex, kb_tokenizer **out, kb_error *err);
void kb_tokenizer_free(kb_tokenizer *t);

/* Tokenizes text[0..len) (valid UTF-8), numbering primaries from *pos and
 * leaving *pos one past the last primary. Returns KB_OK, a negative error,
 * or the callback's non-zero value. */
int kb_tokenizer_run(kb_tokenizer *t, const char *text, size_t len, uint32_t *pos,
                     kb_token_fn fn, void *ctx, kb_error *err);

/* Terms longer than this are not indexed (Xapian's limit is 245 bytes). */
#define KB_TERM_MAX 64

#endif
