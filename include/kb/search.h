/* search.h — one search from request to ranked hits with snippets: what the
 * terminal tool and the server share.
 *
 * A kb_searcher holds an index reader, a tokenizer and the word lists; it
 * belongs to one thread (give each worker its own).
 */
#ifndef KB_SEARCH_H
#define KB_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kb/doc.h"
#include "kb/error.h"
#include "kb/index.h"
#include "kb/snippet.h"
#include "kb/tokenize.h"

typedef struct kb_searcher kb_searcher;

/* Opens the database of audience at db_path for reading: every answer
 * (hits, scores, counts, facets, suggestions, corrections) is of what that
 * audience may see. Caller frees. */
int kb_searcher_new_for(const char *db_path, kb_audience audience, kb_searcher **out,
                        kb_error *err);
/* The engineers' searcher: kb_searcher_new_for(db_path, KB_AUDIENCE_INTERNAL). */
int kb_searcher_new(const char *db_path, kb_searcher **out, kb_error *err);
void kb_searcher_free(kb_searcher *s);

/* Borrowed parts, valid as long as the searcher. */
kb_index *kb_searcher_index(kb_searcher *s);
kb_tokenizer *kb_searcher_tokenizer(kb_searcher *s);

typedef struct kb_search_request {
  const char *query; /* user text, any bytes */
  size_t query_len;
  const char *type, *product, *category, *priority; /* filters; NULL = any */
  const char *date_from, *date_to; /* updated between, YYYY-MM-DD; NULL = open */
  bool include_internal; /* engineers; false = the public */
  size_t offset, limit;
  bool sort_by_date;
  bool facets; /* count type, product, category, priority over all matches */
  bool explain; /* fill the response's explain (costs an index lookup a word) */
  const kb_snippet_style *snippet; /* NULL = KB_SNIPPET_HTML */
} kb_search_request;

typedef struct kb_search_hit {
  char *id, *type, *title, *snippet, *product, *category, *priority, *updated;
  char *has_fix; /* a ticket's "yes" or "no" (NULL: an article, or a ticket stored before) */
  double score;
} kb_search_hit;

typedef struct kb_search_response {
  kb_search_hit *hits;
  size_t nhits;
  uint32_t total;
  bool total_exact;
  kb_results *raw; /* facets: raw->facets in order type, product, category, priority */
  char *explain;   /* how the query was analysed, and the words nothing matched;
                      NULL unless the request asked */
  char *suggestion; /* "did you mean": the query with misspelt words corrected, or NULL */
  bool corrected;   /* the hits are suggestion's: the query as typed found nothing, or
                       its pinyin spelled Chinese */
  double took_ms;
} kb_search_response;

/* Runs a search; *out is caller-freed with kb_search_response_free(). */
int kb_search(kb_searcher *s, const kb_search_request *req, kb_search_response **out,
              kb_error *err);
void kb_search_response_free(kb_search_response *r);

/* Documents most like the document id (relevance feedback over its terms),
 * under the request's filters and visibility; req->query is ignored. An
 * unknown or invisible id gives KB_ENOENT. */
int kb_search_similar(kb_searcher *s, const char *id, const kb_search_request *req,
                      kb_search_response **out, kb_error *err);

/* The document id as its reader may see it: *doc its fields (caller frees
 * with kb_doc_free), *html its body (and a ticket's resolution) rendered by
 * cmark in safe mode, without internal sections unless include_internal
 * (caller frees). KB_ENOENT when absent, or internal and !include_internal. */
int kb_search_fetch(kb_searcher *s, const char *id, bool include_internal, kb_doc **doc,
                    char **html, kb_error *err);

/* Completions of the last word of text (Chinese or Latin), most frequent
 * first, only words found in documents the reader may see. *words is an
 * array of *n malloc'ed strings; free with kb_search_words_free(). On
 * error *words is NULL and *n 0. The last word follows the last space,
 * tab or ideographic space; one that folds to nothing completes nothing. */
int kb_search_suggest(kb_searcher *s, const char *text, bool include_internal, size_t limit,
                      char ***words, size_t *n, kb_error *err);
void kb_search_words_free(char **words, size_t n);

/* What to call r->suggestion before showing it (a static string): "showing
 * results for" when the hits are the suggestion's, else "did you mean". */
const char *kb_search_suggestion_label(const kb_search_response *r);

struct json_t; /* jansson's */

/* The response as a JSON object, the answer of kb-serve's /api/search:
 * {"query","total","exact","hits":[{"id","type","title","snippet","score",
 * "product","category","priority","updated","url"}],"facets":{"type":{},
 * "product":{},"category":{},"priority":{}},"suggestion","corrected"}. url is
 * the document's page on kb-serve ("/" and its id); facets are empty unless
 * counted. NULL when out of memory; caller json_decref()s. */
struct json_t *kb_search_response_object(const kb_search_response *r, const char *query);
/* The same object as compact JSON text; caller frees with free(). */
char *kb_search_response_json(const kb_search_response *r, const char *query);

#endif
