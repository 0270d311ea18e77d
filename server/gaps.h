/* gaps.h — the knowledge-base gap report: queries that found nothing, and
 * queries whose results nobody opened, normalised (folded, spaces
 * collapsed), counted, bounded, kept in a small file beside the index. */
#ifndef KB_SERVER_GAPS_H
#define KB_SERVER_GAPS_H

#include <jansson.h>
#include <stdbool.h>

typedef struct kb_gaps kb_gaps;

/* Loads path (may be absent; NULL keeps nothing on disk). NULL when out of
 * memory. */
kb_gaps *kb_gaps_new(const char *path);
/* Saves what is not saved yet. NULL does nothing. */
void kb_gaps_free(kb_gaps *g);

/* A search (first page) for query: found says whether it had any hit. */
void kb_gaps_search(kb_gaps *g, const char *query, bool found);
/* A result of query was opened. */
void kb_gaps_click(kb_gaps *g, const char *query);
/* {"gaps":[{"query","reason":"no_results"|"no_click","count","searches",
 * "clicks","last_seen"}]}, the most frequent first. */
json_t *kb_gaps_report(kb_gaps *g);

#endif
