/* server.h — kb-serve's shared state and helpers, private to server/. */
#ifndef KB_SERVER_H
#define KB_SERVER_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "kb/search.h"
#include "kb/text.h"
#include "cache.h"
#include "conns.h"
#include "gaps.h"
#include "tokens.h"

/* Endpoints, for metrics labels. */
#define KB_ENDPOINTS(X)                                                            \
  X(SEARCH, "search") X(DOCS, "docs") X(SIMILAR, "similar") X(SUGGEST, "suggest") \
  X(TICKETS, "tickets") \
  X(GAPS, "gaps") X(HEALTHZ, "healthz") X(METRICS, "metrics") X(PAGE_HOME, "page_home") \
  X(PAGE_SEARCH, "page_search") X(PAGE_DOC, "page_doc") X(OTHER, "other")

typedef enum endpoint {
#define KB_EP_ENUM(name, label) EP_##name,
  KB_ENDPOINTS(KB_EP_ENUM)
#undef KB_EP_ENUM
  EP_COUNT
} endpoint;

#define KB_STATUSES(X) \
  X(200) X(400) X(401) X(403) X(404) X(405) X(409) X(413) X(414) X(429) X(500) X(503)
enum { STATUS_COUNT = 12 };
#define LATENCY_BUCKETS 12
/* the histogram's upper bounds, in seconds (the last bucket is +Inf) */
extern const double kb_latency_le[LATENCY_BUCKETS];

typedef struct metrics {
  atomic_ullong requests[EP_COUNT][STATUS_COUNT];
  atomic_ullong latency_bucket[LATENCY_BUCKETS + 1]; /* last: +Inf */
  atomic_ullong latency_sum_us;
  atomic_ullong latency_count;
  atomic_ullong search_us; /* inside kb_search, for /api/search answers not cached */
  /* reopens that moved a reader, by its audience: each audience's count
   * is of its own database's commits (the public's /metrics must not count
   * the commits of internal documents) */
  atomic_ullong reloads[KB_AUDIENCE_COUNT];
  atomic_ullong rejected;
} metrics;

typedef struct server {
  const char *db;
  const char *tokens_path;
  const char *access_log_path;
  struct MHD_Daemon *daemon;
  pthread_key_t worker; /* this thread's kb_searcher */
  pthread_rwlock_t tokens_lock;
  token_entry *tokens;
  size_t ntokens;
  pthread_mutex_t log_lock;
  FILE *access_log;
  /* libmicrohttpd's messages this second, and those left out */
  pthread_mutex_t mhd_log_lock;
  time_t mhd_log_second;
  unsigned long mhd_log_count, mhd_log_dropped;
  kb_gaps *gaps; /* DB.gaps.tsv */
  kb_cache *cache; /* answers to recent searches */
  kb_conns *conns; /* request deadlines, room for new clients */
  unsigned request_timeout_ms;
  metrics m;
  size_t max_body;
  /* requests per second per client address (0 = no limit): token buckets */
  double rate_limit;
  pthread_mutex_t rate_lock;
  struct rate_bucket *buckets;
  size_t nbuckets;
} server;

/* One client address's allowance: tokens refill at rate_limit a second up
 * to twice that (a burst). */
typedef struct rate_bucket {
  char addr[48];
  double tokens;
  double last; /* seconds, monotonic */
} rate_bucket;

#define RATE_BUCKETS 4096

/* Per-request state, freed in the completion callback. */
typedef struct request {
  server *srv;
  struct timespec start;
  kb_buf body;
  bool too_big;
  bool out_of_memory; /* the body could not be kept whole: 500 */
  bool limited; /* over the client's request rate: 429 */
  role role;
  endpoint ep;
  unsigned status;
  size_t bytes;
  char method[8];
  char path[256];
} request;

/* Responses: body is taken (freed by libmicrohttpd). */
enum MHD_Result kb_respond(struct MHD_Connection *c, request *r, unsigned status,
                           const char *content_type, char *body, size_t len);
enum MHD_Result kb_respond_error(struct MHD_Connection *c, request *r, unsigned status,
                                 const char *code, const char *message);

/* A search through the answer cache, for the endpoints that answer one
 * (kind "api" or "page"): kb_search_recall() gives the text kept for the
 * same search on the index the searcher sees (malloc'ed, *len its length)
 * or NULL; on NULL the endpoint searches and hands its text to
 * kb_search_remember(). Both tell the gap report of the search. cs holds
 * what the two share; kb_search_remember() (or kb_search_forget() when the
 * search failed) frees it. */
typedef struct cached_search {
  char *key; /* who may see what, and every parameter */
  uint64_t version; /* of the index; 0 = not cacheable */
} cached_search;
char *kb_search_recall(request *r, kb_searcher *ks, const char *kind,
                       const kb_search_request *req, cached_search *cs, size_t *len);
void kb_search_remember(request *r, const kb_search_request *req, cached_search *cs,
                        const char *text, size_t len, uint32_t total);
void kb_search_forget(cached_search *cs);

/* The audience whose database answers a reader: the public's for
 * unauthenticated requests, the engineers' (every document) for tokens. */
kb_audience kb_role_audience(role r);
/* This thread's searcher of the reader's audience (opened on first use),
 * reopened to the latest commit. */
kb_searcher *kb_worker_searcher(server *s, role reader, kb_error *err);


/* ## Handlers (api.c, pages.c) */
enum MHD_Result kb_api_search(struct MHD_Connection *c, request *r);
enum MHD_Result kb_api_doc(struct MHD_Connection *c, request *r, const char *id);
enum MHD_Result kb_api_similar(struct MHD_Connection *c, request *r);
enum MHD_Result kb_api_suggest(struct MHD_Connection *c, request *r);
enum MHD_Result kb_api_tickets(struct MHD_Connection *c, request *r);
enum MHD_Result kb_api_gaps(struct MHD_Connection *c, request *r);
enum MHD_Result kb_api_healthz(struct MHD_Connection *c, request *r);
enum MHD_Result kb_api_metrics(struct MHD_Connection *c, request *r);
enum MHD_Result kb_page_home(struct MHD_Connection *c, request *r);
enum MHD_Result kb_page_search(struct MHD_Connection *c, request *r);
enum MHD_Result kb_page_doc(struct MHD_Connection *c, request *r, const char *id);

/* ## Request parameters */

/* Parses the common search parameters into req; on a bad one, fills
 * *bad_param and *why and returns false. Strings borrow from the connection. */
bool kb_parse_search_params(struct MHD_Connection *c, kb_search_request *req,
                            const char **bad_param, const char **why);

#endif
