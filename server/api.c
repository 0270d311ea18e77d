/* api.c — the JSON endpoints of kb-serve. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kb/analyze.h"
#include "kb/import.h"
#include "params.h"
#include "server.h"

static enum MHD_Result send_json(struct MHD_Connection *c, request *r, unsigned status, json_t *o) {
  char *body = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  if (!body) return kb_respond_error(c, r, 500, "internal", "out of memory");
  return kb_respond(c, r, status, "application/json; charset=utf-8", body, strlen(body));
}

static enum MHD_Result index_error(struct MHD_Connection *c, request *r, const kb_error *err) {
  fprintf(stderr, "kb-serve: %s\n", err->message);
  return kb_respond_error(c, r, 500, "index_error", "索引错误 (index error)");
}

/* ------------------------------------------------------------ params */

static const char *mhd_arg(void *ctx, const char *name) {
  return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

static const char *arg(struct MHD_Connection *c, const char *name) {
  const char *v = mhd_arg(c, name);
  return v && *v ? v : NULL;
}

bool kb_parse_search_params(struct MHD_Connection *c, kb_search_request *req,
                            const char **bad_param, const char **why) {
  return kb_params_search(mhd_arg, c, req, bad_param, why);
}

static enum MHD_Result bad_param(struct MHD_Connection *c, request *r, const char *name,
                                 const char *why) {
  char msg[256];
  snprintf(msg, sizeof msg, "参数 %s 无效 (invalid parameter %s): %s", name, name, why);
  return kb_respond_error(c, r, 400, "bad_parameter", msg);
}

/* ------------------------------------------------------------- search */

/* A search's identity: what answers it, who may see what, and every
 * parameter, each value after its length (a value may hold any byte: a
 * separator alone would let `product=%1F...` stand for another search and
 * fill the cache with its answer). An absent value is "-", an empty one
 * "0:". */
static char *search_key(const char *kind, const kb_search_request *q) {
  kb_buf k = {0};
  const char *f[] = {q->type, q->product, q->category, q->priority, q->date_from, q->date_to};
  kb_buf_printf(&k, "%s|%d|%zu|%zu|%d", kind, q->include_internal, q->offset, q->limit,
                q->sort_by_date);
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    if (f[i]) kb_buf_printf(&k, "|%zu:%s", strlen(f[i]), f[i]);
    else kb_buf_puts(&k, "|-");
  }
  kb_buf_printf(&k, "|%zu:", q->query_len);
  kb_buf_append(&k, q->query ? q->query : "", q->query_len);
  return kb_buf_detach(&k);
}

/* The gap report counts first pages of searches with words. */
static void tell_gaps(request *r, const kb_search_request *req, uint32_t total) {
  if (req->query_len && req->offset == 0) kb_gaps_search(r->srv->gaps, req->query, total > 0);
}

char *kb_search_recall(request *r, kb_searcher *ks, const char *kind,
                       const kb_search_request *req, cached_search *cs, size_t *len) {
  cs->version = kb_index_version(kb_searcher_index(ks));
  cs->key = search_key(kind, req);
  if (!cs->key || !cs->version) return NULL;
  uint32_t total = 0;
  char *text = kb_cache_get(r->srv->cache, cs->key, cs->version, len, &total);
  if (text) {
    tell_gaps(r, req, total);
    kb_search_forget(cs);
  }
  return text;
}

void kb_search_remember(request *r, const kb_search_request *req, cached_search *cs,
                        const char *text, size_t len, uint32_t total) {
  tell_gaps(r, req, total);
  if (cs->key && cs->version && text)
    kb_cache_put(r->srv->cache, cs->key, cs->version, text, len, total);
  kb_search_forget(cs);
}

void kb_search_forget(cached_search *cs) {
  free(cs->key);
  cs->key = NULL;
}

/* body (JSON text ending in '}') with took_ms and cached added. */
static enum MHD_Result send_search(struct MHD_Connection *c, request *r, const char *body,
                                   size_t len, double took_ms, bool cached) {
  kb_buf out = {0};
  kb_buf_append(&out, body, len - 1);
  kb_buf_printf(&out, ",\"took_ms\":%.3f,\"cached\":%s}", took_ms, cached ? "true" : "false");
  if (!out.data) return kb_respond_error(c, r, 500, "internal", "out of memory");
  size_t n = out.len;
  return kb_respond(c, r, 200, "application/json; charset=utf-8", kb_buf_detach(&out), n);
}

static double ms_between(const struct timespec *a, const struct timespec *b) {
  return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

enum MHD_Result kb_api_search(struct MHD_Connection *c, request *r) {
  kb_search_request req = {.facets = true, .include_internal = r->role != ROLE_PUBLIC};
  const char *name, *why;
  if (!kb_parse_search_params(c, &req, &name, &why)) return bad_param(c, r, name, why);
  kb_error err = {0};
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  kb_searcher *ks = kb_worker_searcher(r->srv, r->role, &err);
  if (!ks) return index_error(c, r, &err);
  cached_search cs;
  size_t len = 0;
  char *body = kb_search_recall(r, ks, "api", &req, &cs, &len);
  if (body) {
    clock_gettime(CLOCK_MONOTONIC, &t1);
    enum MHD_Result ret = send_search(c, r, body, len, ms_between(&t0, &t1), true);
    free(body);
    return ret;
  }
  kb_search_response *resp = NULL;
  struct timespec s0;
  clock_gettime(CLOCK_MONOTONIC, &s0);
  int rc = kb_search(ks, &req, &resp, &err);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  atomic_fetch_add(&r->srv->m.search_us, (unsigned long long)(ms_between(&s0, &t1) * 1e3));
  if (rc != KB_OK) {
    kb_search_forget(&cs);
    return index_error(c, r, &err);
  }
  body = kb_search_response_json(resp, req.query); /* without took_ms: cached */
  len = body ? strlen(body) : 0;
  kb_search_remember(r, &req, &cs, body, len, resp->total);
  enum MHD_Result ret = body ? send_search(c, r, body, len, resp->took_ms, false)
                             : kb_respond_error(c, r, 500, "internal", "out of memory");
  free(body);
  kb_search_response_free(resp);
  return ret;
}

/* ---------------------------------------------------------------- docs */

/* Fields the public never gets: the Markdown source holds the internal
 * sections (html is rendered without them), the customer is personal data,
 * and the source path and hash are the server's business. */
static bool field_shown(kb_field f, bool public_reader) {
  if (f == KB_FIELD_SOURCE || f == KB_FIELD_HASH) return false;
  return !public_reader ||
         (f != KB_FIELD_BODY && f != KB_FIELD_RESOLUTION && f != KB_FIELD_CUSTOMER);
}

static json_t *doc_json(const kb_doc *doc, const char *html, bool public_reader) {
  json_t *o = json_object();
  for (int f = 0; f < KB_FIELD_COUNT; f++) {
    const char *v = kb_doc_get(doc, (kb_field)f);
    if (v && field_shown((kb_field)f, public_reader))
      json_object_set_new(o, kb_field_name((kb_field)f), json_string(v));
  }
  json_object_set_new(o, "html", json_string(html ? html : ""));
  return o;
}

enum MHD_Result kb_api_doc(struct MHD_Connection *c, request *r, const char *id) {
  kb_error err = {0};
  kb_searcher *ks = kb_worker_searcher(r->srv, r->role, &err);
  if (!ks) return index_error(c, r, &err);
  kb_doc *doc = NULL;
  char *html = NULL;
  int rc = kb_search_fetch(ks, id, r->role != ROLE_PUBLIC, &doc, &html, &err);
  if (rc == KB_ENOENT)
    return kb_respond_error(c, r, 404, "not_found", "没有这个文档 (no such document)");
  if (rc != KB_OK) return index_error(c, r, &err);
  const char *from = arg(c, "q"); /* the search it was opened from */
  if (from && *from) kb_gaps_click(r->srv->gaps, from);
  json_t *o = doc_json(doc, html, r->role == ROLE_PUBLIC);
  kb_doc_free(doc);
  free(html);
  return send_json(c, r, 200, o);
}

/* ------------------------------------------------------------- similar */

enum MHD_Result kb_api_similar(struct MHD_Connection *c, request *r) {
  kb_search_request req = {.limit = 10, .include_internal = r->role != ROLE_PUBLIC};
  if (!kb_params_uint(arg(c, "limit"), KB_LIMIT_MAX, &req.limit) || req.limit == 0)
    return bad_param(c, r, "limit", "应为 1 到 100 的整数 (an integer from 1 to 100)");
  req.type = arg(c, "type");
  kb_error err = {0};
  kb_searcher *ks = kb_worker_searcher(r->srv, r->role, &err);
  if (!ks) return index_error(c, r, &err);
  kb_search_response *resp = NULL;
  int rc;
  if (strcmp(r->method, "POST") == 0) {
    /* free text, e.g. what a caller just said: searched as words */
    if (!r->body.len) return bad_param(c, r, "body", "需要文本 (text required)");
    if (!kb_utf8_valid(r->body.data, r->body.len, NULL))
      return bad_param(c, r, "body", "不是有效的 UTF-8 (not valid UTF-8)");
    /* what a caller said, not a document: 24 terms are matched at most */
    if (kb_params_chars_n(r->body.data, r->body.len) > KB_SIMILAR_MAX_CHARS)
      return bad_param(c, r, "body", "超过 4000 个字符 (over 4000 characters)");
    req.query = r->body.data;
    req.query_len = r->body.len;
    rc = kb_search(ks, &req, &resp, &err);
  } else {
    const char *id = arg(c, "id");
    if (!id) return bad_param(c, r, "id", "需要文档 id (a document id is required)");
    rc = kb_search_similar(ks, id, &req, &resp, &err);
    if (rc == KB_ENOENT)
      return kb_respond_error(c, r, 404, "not_found", "没有这个文档 (no such document)");
  }
  if (rc != KB_OK) return index_error(c, r, &err);
  json_t *answer = kb_search_response_object(resp, NULL);
  kb_search_response_free(resp);
  json_t *o = answer ? json_pack("{s:O,s:O}", "total", json_object_get(answer, "total"), "hits",
                                 json_object_get(answer, "hits"))
                     : NULL;
  json_decref(answer);
  return send_json(c, r, 200, o);
}

/* ------------------------------------------------------------- suggest */

enum MHD_Result kb_api_suggest(struct MHD_Connection *c, request *r) {
  const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q");
  q = q ? q : "";
  const char *why = kb_params_q_invalid(q);
  if (why) return bad_param(c, r, "q", why);
  kb_error err = {0};
  kb_searcher *ks = kb_worker_searcher(r->srv, r->role, &err);
  if (!ks) return index_error(c, r, &err);
  char **words = NULL;
  size_t n = 0;
  if (kb_search_suggest(ks, q, r->role != ROLE_PUBLIC, 10, &words, &n, &err) != KB_OK)
    return index_error(c, r, &err);
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(list, json_string(words[i]));
  kb_search_words_free(words, n);
  return send_json(c, r, 200, json_pack("{s:s,s:o}", "query", q, "suggestions", list));
}

/* ------------------------------------------------------------- tickets */

/* NDJSON tickets in the import format, validated like kb-index import,
 * upserted and committed in one commit. The writer lock is taken for the
 * request only: while kb-index holds it, the answer is 409. */
enum MHD_Result kb_api_tickets(struct MHD_Connection *c, request *r) {
  if (r->role == ROLE_PUBLIC)
    return kb_respond_error(c, r, 401, "unauthorized", "需要管理员令牌 (admin token required)");
  if (r->role != ROLE_ADMIN)
    return kb_respond_error(c, r, 403, "forbidden", "需要管理员权限 (admin only)");
  if (!r->body.len) return bad_param(c, r, "body", "需要 NDJSON 工单 (NDJSON tickets required)");
  kb_error err = {0};
  kb_index *idx = NULL;
  int rc = kb_index_open(r->srv->db, KB_INDEX_WRITE, &idx, &err);
  if (rc == KB_ELOCKED)
    return kb_respond_error(c, r, 409, "index_busy", "索引正在被写入，请稍后重试 (index busy)");
  if (rc != KB_OK) return index_error(c, r, &err);
  kb_searcher *ks = kb_worker_searcher(r->srv, r->role, &err);
  kb_ticket_json *parser = NULL;
  if (rc == KB_OK) rc = kb_ticket_json_new(NULL, &parser, &err);
  json_t *rejected = json_array();
  size_t imported = 0, updated = 0, unchanged = 0, line = 0;
  const char *p = r->body.data, *end = r->body.data + r->body.len;
  while (rc == KB_OK && ks && p < end) {
    const char *e = memchr(p, '\n', (size_t)(end - p));
    if (!e) e = end;
    line++;
    size_t n = (size_t)(e - p);
    while (n && (p[n - 1] == '\r' || p[n - 1] == ' ')) n--;
    if (n) {
      kb_doc *doc = NULL;
      kb_ticket_reject rej = {0};
      if (kb_ticket_json_parse(parser, p, n, line, &doc, &rej) != KB_OK) {
        char msg[320];
        snprintf(msg, sizeof msg, "%s%s%s", rej.field, rej.field[0] ? ": " : "", rej.reason);
        json_t *why = json_pack("{s:i,s:s}", "line", (json_int_t)line, "error", msg);
        /* a rejected line is never left out of the answer */
        if (!why) why = json_pack("{s:i,s:s}", "line", (json_int_t)line, "error", "invalid");
        json_array_append_new(rejected, why);
      } else {
        kb_upsert outcome = KB_UPSERT_UNCHANGED;
        rc = kb_import_doc(idx, kb_searcher_tokenizer(ks), doc, &outcome, &err);
        imported += outcome == KB_UPSERT_NEW;
        updated += outcome == KB_UPSERT_UPDATED;
        unchanged += outcome == KB_UPSERT_UNCHANGED;
      }
      kb_doc_free(doc);
    }
    p = e + 1;
  }
  if (rc == KB_OK && ks) rc = kb_index_commit(idx, &err);
  kb_ticket_json_free(parser);
  kb_index_free(idx);
  if (!ks || rc != KB_OK) {
    json_decref(rejected);
    return index_error(c, r, &err);
  }
  return send_json(c, r, 200,
                   json_pack("{s:i,s:i,s:i,s:o}", "imported", (json_int_t)imported, "updated",
                             (json_int_t)updated, "unchanged", (json_int_t)unchanged, "rejected",
                             rejected));
}

/* ---------------------------------------------------------------- gaps */

enum MHD_Result kb_api_gaps(struct MHD_Connection *c, request *r) {
  if (r->role == ROLE_PUBLIC)
    return kb_respond_error(c, r, 401, "unauthorized", "需要管理员令牌 (admin token required)");
  if (r->role != ROLE_ADMIN)
    return kb_respond_error(c, r, 403, "forbidden", "需要管理员权限 (admin only)");
  return send_json(c, r, 200, kb_gaps_report(r->srv->gaps));
}

/* ------------------------------------------------------ health, metrics */

enum MHD_Result kb_api_healthz(struct MHD_Connection *c, request *r) {
  kb_error err = {0};
  kb_searcher *ks = kb_worker_searcher(r->srv, r->role, &err);
  if (!ks) return kb_respond_error(c, r, 503, "unavailable", "索引不可用 (index unavailable)");
  kb_index *idx = kb_searcher_index(ks);
  char *last = NULL;
  kb_index_get_meta(idx, "last_commit", &last, NULL);
  json_t *o = json_pack("{s:s,s:i,s:o}", "status", "ok", "docs",
                        (json_int_t)kb_index_doc_count(idx), "last_commit",
                        last && *last ? json_string(last) : json_null());
  free(last);
  return send_json(c, r, 200, o);
}

static void metrics_requests(kb_buf *b, metrics *m) {
  static const char *ep_names[EP_COUNT] = {
#define KB_EP_NAME(name, label) label,
      KB_ENDPOINTS(KB_EP_NAME)
#undef KB_EP_NAME
  };
  static const unsigned codes[STATUS_COUNT] = {
#define KB_STATUS_VALUE(code) code,
      KB_STATUSES(KB_STATUS_VALUE)
#undef KB_STATUS_VALUE
  };
  kb_buf_puts(b, "# HELP kb_requests_total Requests by endpoint and status.\n"
                 "# TYPE kb_requests_total counter\n");
  for (int e = 0; e < EP_COUNT; e++)
    for (int s = 0; s < STATUS_COUNT; s++) {
      unsigned long long n = atomic_load(&m->requests[e][s]);
      if (n)
        kb_buf_printf(b, "kb_requests_total{endpoint=\"%s\",status=\"%u\"} %llu\n", ep_names[e],
                      codes[s], n);
    }
  kb_buf_printf(b, "# HELP kb_rejected_requests_total Requests answered with an error status.\n"
                   "# TYPE kb_rejected_requests_total counter\nkb_rejected_requests_total %llu\n",
                atomic_load(&m->rejected));
}

static void metrics_latency(kb_buf *b, metrics *m) {
  kb_buf_puts(b, "# HELP kb_request_duration_seconds Request latency.\n"
                 "# TYPE kb_request_duration_seconds histogram\n");
  unsigned long long cum = 0;
  for (int i = 0; i < LATENCY_BUCKETS; i++) {
    cum += atomic_load(&m->latency_bucket[i]);
    kb_buf_printf(b, "kb_request_duration_seconds_bucket{le=\"%g\"} %llu\n", kb_latency_le[i], cum);
  }
  cum += atomic_load(&m->latency_bucket[LATENCY_BUCKETS]);
  kb_buf_printf(b, "kb_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
  kb_buf_printf(b, "kb_request_duration_seconds_sum %.6f\n",
                (double)atomic_load(&m->latency_sum_us) / 1e6);
  kb_buf_printf(b, "kb_request_duration_seconds_count %llu\n", atomic_load(&m->latency_count));
  kb_buf_printf(b, "# HELP kb_search_seconds_total Time inside the search engine for "
                   "/api/search (the rest of a request is HTTP and JSON).\n"
                   "# TYPE kb_search_seconds_total counter\nkb_search_seconds_total %.6f\n",
                (double)atomic_load(&m->search_us) / 1e6);
}

/* The document counts of the database the reader's audience sees. */
static void metrics_index(kb_buf *b, server *srv, role reader) {
  kb_error err = {0};
  kb_searcher *ks = kb_worker_searcher(srv, reader, &err);
  if (ks) {
    kb_index *idx = kb_searcher_index(ks);
    kb_buf_puts(b, "# HELP kb_documents Documents in the index by type.\n"
                   "# TYPE kb_documents gauge\n");
    const char *types[] = {"article", "ticket"};
    for (int i = 0; i < 2; i++) {
      kb_buf t = {0};
      kb_filter_term(KB_PREFIX_TYPE, types[i], &t);
      kb_buf_printf(b, "kb_documents{type=\"%s\"} %u\n", types[i], kb_index_term_freq(idx, t.data));
      kb_buf_free(&t);
    }
  }
  kb_buf_printf(b, "# HELP kb_index_reloads_total Index reopens after a commit (of the database "
                   "the reader's audience sees).\n"
                   "# TYPE kb_index_reloads_total counter\nkb_index_reloads_total %llu\n",
                atomic_load(&srv->m.reloads[kb_role_audience(reader)]));
  unsigned long long late = 0, evicted = 0;
  kb_conns_stats(srv->conns, &late, &evicted);
  kb_buf_printf(b, "# HELP kb_connections_closed_total Connections closed by the server: a request "
                   "not in within --request-timeout (late), or the slowest closed to make room "
                   "(evicted).\n# TYPE kb_connections_closed_total counter\n"
                   "kb_connections_closed_total{reason=\"late\"} %llu\n"
                   "kb_connections_closed_total{reason=\"evicted\"} %llu\n",
                late, evicted);
  uint64_t hits = 0, misses = 0;
  kb_cache_stats(srv->cache, &hits, &misses);
  kb_buf_printf(b, "# HELP kb_search_cache_total Searches answered from the cache (hit) or not (miss).\n"
                   "# TYPE kb_search_cache_total counter\n"
                   "kb_search_cache_total{result=\"hit\"} %llu\nkb_search_cache_total{result=\"miss\"} %llu\n",
                (unsigned long long)hits, (unsigned long long)misses);
}

enum MHD_Result kb_api_metrics(struct MHD_Connection *c, request *r) {
  kb_buf b = {0};
  metrics_requests(&b, &r->srv->m);
  metrics_latency(&b, &r->srv->m);
  metrics_index(&b, r->srv, r->role);
  size_t len = b.len;
  return kb_respond(c, r, 200, "text/plain; version=0.0.4; charset=utf-8", kb_buf_detach(&b), len);
}
