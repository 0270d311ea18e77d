/* analyze.h — a kb_doc into what the index stores: weighted terms with
 * positions, filter terms, value slots and the stored data.
 *
 * Term spaces (prefixes) are fixed here and shared with the query module:
 *   ""  public words          "B" public CJK bigrams
 *   "I" internal words        "J" internal CJK bigrams
 *   "S" title words (for title: and the exact-title boost)
 *   "W" public Latin words as written, unstemmed (completions)
 *   "Q" the document id (unique)
 *   "XT" type  "XP" product  "XC" category  "XR" priority
 *   "XV" visibility  "XG" tag  "XL" language
 * The stored data is the document's fields as a JSON object, except the
 * long ones (body, resolution), which are kept in value slots with the plain
 * text snippets are cut from.
 * Field weights: title 5, headings and tags 3, problem 2, body, code and
 * resolution 1, applied as within-document frequency.
 */
#ifndef KB_ANALYZE_H
#define KB_ANALYZE_H

#include <stdbool.h>

#include "kb/doc.h"
#include "kb/error.h"
#include "kb/index.h"
#include "kb/text.h"
#include "kb/tokenize.h"

#define KB_PREFIX_INTERNAL "I"
#define KB_PREFIX_BIGRAM "B"
#define KB_PREFIX_INTERNAL_BIGRAM "J"
#define KB_PREFIX_TITLE "S"
#define KB_PREFIX_SURFACE "W"
#define KB_PREFIX_ID "Q"
#define KB_PREFIX_TYPE "XT"
#define KB_PREFIX_PRODUCT "XP"
#define KB_PREFIX_CATEGORY "XC"
#define KB_PREFIX_PRIORITY "XR"
#define KB_PREFIX_VISIBILITY "XV"
#define KB_PREFIX_TAG "XG"
#define KB_PREFIX_LANGUAGE "XL"
#define KB_PREFIX_FIX "XF" /* a ticket's has_fix: XFyes, XFno (not used in ranking) */
#define KB_PREFIX_EXACT_TITLE "E" /* one term for a whole title: kb_exact_title_term_of */
/* the tokenizer's compounds (KB_TOKEN_COMPOUND), without positions */
#define KB_PREFIX_COMPOUND "Y"
#define KB_PREFIX_INTERNAL_COMPOUND "IY"
/* the tokenizer's part pairs (KB_TOKEN_PAIR), with positions */
#define KB_PREFIX_PAIR "K"
#define KB_PREFIX_INTERNAL_PAIR "IK"

/* Value slots. */
enum {
  KB_SLOT_UPDATED = 0, /* YYYY-MM-DD, sorts by date */
  KB_SLOT_TYPE = 1,
  KB_SLOT_PRODUCT = 2,
  KB_SLOT_CATEGORY = 3,
  KB_SLOT_PRIORITY = 4,
  KB_SLOT_VISIBILITY = 5,
  KB_SLOT_HASH = 6,   /* content hash: unchanged input is skipped */
  KB_SLOT_SOURCE = 7, /* source file of an article (sync) */
  KB_SLOT_TEXT = 8,   /* public plain text, for snippets; absent when it is
                         BODY + "\n" + RESOLUTION (tickets) */
  KB_SLOT_ITEXT = 9,  /* internal plain text, for engineers' snippets */
  KB_SLOT_BODY = 10,  /* the Markdown source (article) or problem (ticket) */
  KB_SLOT_RESOLUTION = 11,
  KB_SLOT_FACETS = 12, /* TYPE, PRODUCT, CATEGORY and PRIORITY's values joined
                          by KB_FACET_SEP: counting facets reads one value a
                          document instead of four */
};

/* Between the values of KB_SLOT_FACETS (a value's own is made a space). */
#define KB_FACET_SEP '\x1f'

/* Index metadata: the user's extra lexicon words (kb-index --lexicon), which
 * every reader adds to the built-in lexicon so that queries are segmented as
 * the documents were. */
#define KB_META_LEXICON "kb:lexicon"
/* the user's synonyms file (kb-index --synonyms), applied at query time */
#define KB_META_SYNONYMS "kb:synonyms"

/* Changes whenever analysis changes, so that re-indexing redoes everything
 * (it is part of every content hash). */
#define KB_ANALYZER_VERSION "kb-analyzer-13"
/* Every document analysed with compound terms and part pairs (analyzer 7
 * on) has this term (wdf 0): when all have it, queries ask for those. It
 * names what queries rely on, not the version: analyzer 8 (letters and
 * digits as two parts, the digits of 0x...) asks documents for nothing new,
 * so an index of analyzer 7 keeps its speed until it is re-imported. */
#define KB_TERM_ANALYZED "XAkb-analyzer-7"

/* Appends the filter term of a field value: prefix + value, trimmed and
 * case-folded ("XPdatabase"). */
int kb_filter_term(const char *prefix, const char *value, kb_buf *out);

/* Builds the stored form of doc with tokenizer t. Caller frees *out with
 * kb_xdoc_free(). The doc must have an id and a type. */
int kb_analyze_doc(kb_tokenizer *t, const kb_doc *doc, kb_xdoc **out, kb_error *err);

/* Appends the exact-title term of a text: KB_PREFIX_EXACT_TITLE and a hash
 * of key, the text's primary terms in order, each appended with
 * kb_exact_title_key_add (terms as the tokenizer makes them, so case,
 * width, punctuation and traditional characters do not matter: "需要帮助?"
 * and "需要幫助？" are the same). Each document has the one of its title; a
 * query's free words ask for theirs, so a question typed as an article's
 * title finds that article first. Appends nothing for an empty key. */
int kb_exact_title_term_of(const char *key, size_t len, kb_buf *out);
/* Appends the next primary term to an exact-title key. */
int kb_exact_title_key_add(kb_buf *key, const char *term, size_t len);

/* The id term of a document id ("Q" + id). */
int kb_id_term(const char *id, kb_buf *out);

#endif
