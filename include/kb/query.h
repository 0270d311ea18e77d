/* query.h — user query text into an engine query.
 *
 * The syntax, which never fails on any input (whatever does not parse is
 * taken as plain words):
 *   words              any of them, documents matching more ranked first
 *   "a phrase"         these words in this order (also “…” and 「…」); required
 *   -word  -"phrase"   exclude documents containing it (-field:value: with it)
 *   "a" OR "b"         either phrase
 *   field:value        filter: type, product, category, priority, tag
 *                      (also 类型 产品 分类 优先级 标签); values of one field
 *                      are alternatives, different fields all apply;
 *                      title:word searches titles
 * Query words go through the same tokenizer as documents. Stop words (的,
 * 怎么, how, the…) are dropped from the word list, unless the query has
 * nothing else, but kept inside phrases.
 */
#ifndef KB_QUERY_H
#define KB_QUERY_H

#include <stdbool.h>

#include "kb/error.h"
#include "kb/index.h"
#include "kb/text.h"
#include "kb/tokenize.h"

/* ## Query tree nodes (the kb_qnode of index.h) */

/* A new node; term (may be NULL) is copied. NULL when out of memory. */
kb_qnode *kb_qnode_new(kb_qop op, const char *term, size_t len);
/* Appends kid to parent, which takes ownership; frees kid on failure. */
int kb_qnode_add(kb_qnode *parent, kb_qnode *kid);
void kb_qnode_free(kb_qnode *n);

/* ## Synonyms
 *
 * Groups of words a query may find each other by (lib/data/synonyms.txt:
 * "打印机 = printer = 打印設備"), analysed with the tokenizer so that they
 * meet query terms as the analyzer makes them. Immutable once built. */
typedef struct kb_synonyms kb_synonyms;

/* The built-in groups, analysed with t, and the groups of extra (the
 * user's synonyms file: the same format; NULL = none). Caller frees. */
int kb_synonyms_new_builtin(kb_tokenizer *t, const char *extra, kb_synonyms **out,
                            kb_error *err);
void kb_synonyms_free(kb_synonyms *s);
/* Number of groups. */
size_t kb_synonyms_count(const kb_synonyms *s);

/* ## Queries */

typedef struct kb_query kb_query;

typedef struct kb_query_opts {
  bool include_internal; /* engineers: internal documents and sections too */
  const kb_lexicon *stopwords; /* borrowed; NULL = none */
  const kb_synonyms *synonyms; /* borrowed; NULL = none */
  /* every document of the index was analysed by this version
   * (KB_TERM_ANALYZED): a synonym of several words is matched on its
   * compound and a technical token's parts on their pairs, not phrases */
  bool current_analysis;
} kb_query_opts;

/* Parses text (any bytes; invalid UTF-8 is skipped). t is used during the
 * call only. Caller frees *out with kb_query_free(). */
int kb_query_parse(kb_tokenizer *t, const char *text, size_t len, const kb_query_opts *opts,
                   kb_query **out, kb_error *err);
void kb_query_free(kb_query *q);

/* Restricts the query to documents with this field value (prefix is one of
 * the KB_PREFIX_X… filter prefixes of analyze.h). Values of the same prefix
 * are alternatives; different prefixes all apply. */
int kb_query_add_filter(kb_query *q, const char *prefix, const char *value);

/* Restricts the query to documents whose value slot lies in [from, to]
 * (strings compared bytewise; NULL = open end). */
int kb_query_add_range(kb_query *q, unsigned slot, const char *from, const char *to);

/* The filters alone (visibility, fields, ranges) as a tree, for searches
 * that make their own query (similar documents). Caller frees with
 * kb_qnode_free(); NULL when out of memory. */
kb_qnode *kb_query_filters(const kb_query *q);

/* The engine query. Borrowed until the query changes or is freed. */
const kb_qnode *kb_query_tree(kb_query *q);

/* The terms to highlight in snippets: word terms as the tokenizer gives
 * them, bigrams with KB_PREFIX_BIGRAM. Borrowed from q. */
const kb_lexicon *kb_query_highlights(const kb_query *q);

/* Appends a readable account of how the query was analysed
 * ("打印机驱动 → 打印机 | 驱动  [bigrams: 打印 印机 机驱 驱动]"). */
int kb_query_explain(const kb_query *q, kb_buf *out);

/* Number of word units, phrases and filters the query holds (0 = empty). */
size_t kb_query_size(const kb_query *q);

/* What "matching" means for q: documents scoring below this fraction of
 * the best match are not matches (not counted, faceted or shown); 0 when
 * every document the tree matches is one. Free words (two or more, nothing
 * required) get a fraction: a document that shares one stray word or one
 * character bigram with "打印机 脱机 怎么办" is not an answer to it. One
 * word, a phrase or a filter finds every document that holds it. */
double kb_query_match_fraction(const kb_query *q);

/* The query's exact-title term (a bonus for a document whose title is the
 * free words), which the match fraction is taken without, or NULL.
 * Borrowed from q. */
const char *kb_query_title_term(const kb_query *q);

#endif
