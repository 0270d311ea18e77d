/* params.h — request parameters of kb-serve: checked, bounded, and turned
 * into a kb_search_request. */
#ifndef KB_PARAMS_H
#define KB_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "kb/search.h"

#define KB_Q_MAX_CHARS 1000
/* the text POST /api/similar takes: what a caller said, not a document */
#define KB_SIMILAR_MAX_CHARS 4000
#define KB_LIMIT_MAX 100
#define KB_OFFSET_MAX 10000

/* Looks a parameter up by name: its value (borrowed), or NULL. */
typedef const char *(*kb_param_fn)(void *ctx, const char *name);

/* Why the query text q is bad (invalid UTF-8, over KB_Q_MAX_CHARS
 * characters), or NULL when it is fine. */
const char *kb_params_q_invalid(const char *q);

/* Fills req from q, limit, offset, type, product, category, priority,
 * from, to, sort. On a bad one, *bad_param names it, *why says why, and it
 * returns false. Strings in req are borrowed from the lookup. */
bool kb_params_search(kb_param_fn get, void *ctx, kb_search_request *req, const char **bad_param,
                      const char **why);

/* An unsigned integer of at most max; NULL (absent) leaves *out alone. */
bool kb_params_uint(const char *s, size_t max, size_t *out);

/* Characters in a UTF-8 string. */
size_t kb_params_chars(const char *s);
/* Characters in s[0..len), NUL bytes included. */
size_t kb_params_chars_n(const char *s, size_t len);

#endif
