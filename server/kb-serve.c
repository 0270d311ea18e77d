/* kb-serve.c — the HTTP server: flags and limits at start-up, access
 * control, routing, access log, metrics, signals. Handlers are in api.c
 * (JSON) and pages.c (HTML). */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

static const char usage[] =
    "用法 (usage): kb-serve [--db DIR] [--listen ADDR:PORT] [--tokens FILE] [--threads N]\n"
    "                [--max-connections N] [--max-connections-per-ip N] [--access-log FILE|-]\n"
    "                [--rate-limit N] [--cache N] [--request-timeout SECONDS]\n"
    "\n"
    "  --db DIR            索引目录 (index); default $KB_DB, else data/kb.db\n"
    "  --listen ADDR:PORT  监听地址 (listen address); default 127.0.0.1:8080; port 0 = any free port\n"
    "  --tokens FILE       令牌文件 (tokens file): lines \"TOKEN ROLE\", ROLE engineer or admin\n"
    "  --threads N         工作线程数 (worker threads); default: the number of cores\n"
    "  --max-connections N 最大连接数 (connection limit); default 512. 连接超过上限的八分之七时，\n"
    "                      先断开请求到达最久的连接 (above 7/8 of it, the connections whose\n"
    "                      request has been arriving the longest are closed to make room)\n"
    "  --max-connections-per-ip N\n"
    "                      每个客户端地址的最大连接数 (connections per client address);\n"
    "                      default 128, at most --max-connections\n"
    "  --access-log FILE   访问日志 (access log); - = standard error\n"
    "  --rate-limit N      每个客户端地址每秒最多 N 个请求，超出返回 429 (requests per second per\n"
    "                      client address, bursts of 2N; default 0 = no limit)\n"
    "  --cache N           缓存最近 N 个搜索结果，索引一变即失效 (keep the answers to the last N\n"
    "                      distinct searches until the index changes; default 1000, 0 = off)\n"
    "  --request-timeout SECONDS\n"
    "                      请求（头和正文）须在此时间内到齐，否则断开 (a request's headers and\n"
    "                      body must arrive within this time, however slowly they trickle,\n"
    "                      or the connection is closed; also how long a kept-alive\n"
    "                      connection may wait for its next request); default 10\n"
    "\n"
    "SIGTERM/SIGINT 平滑退出 (finish in-flight requests, then stop); SIGHUP 重新打开日志并\n"
    "重新读取令牌文件 (reopen logs, re-read tokens): 文件有错误行时保留原令牌 (a file with a bad\n"
    "line keeps the old tokens); 文件被删除时吊销全部令牌 (a deleted file revokes them all).\n";

#define MAX_BODY (1u << 20)
/* what cached answers may hold at most, keys and bodies */
#define CACHE_BYTES ((size_t)64 << 20)

/* ----------------------------------------------------------- responses */

static const unsigned statuses[STATUS_COUNT] = {
#define KB_STATUS_VALUE(code) code,
    KB_STATUSES(KB_STATUS_VALUE)
#undef KB_STATUS_VALUE
};

enum MHD_Result kb_respond(struct MHD_Connection *c, request *r, unsigned status,
                           const char *content_type, char *body, size_t len) {
  struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(len, body, free);
  if (!resp) {
    free(body);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", content_type);
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(resp, "Cache-Control", "no-store");
  /* no page or answer of ours in another site's frame (clickjacking; the
   * old header for browsers without frame-ancestors), and no address of
   * ours, which holds what a customer searched for, sent to another site */
  MHD_add_response_header(resp, "X-Frame-Options", "DENY");
  MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
  if (strncmp(content_type, "text/html", 9) == 0)
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                            "form-action 'self'; frame-ancestors 'none'");
  else
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; frame-ancestors 'none'");
  r->status = status;
  r->bytes = len;
  enum MHD_Result ret = MHD_queue_response(c, status, resp);
  MHD_destroy_response(resp);
  return ret;
}

enum MHD_Result kb_respond_error(struct MHD_Connection *c, request *r, unsigned status,
                                 const char *code, const char *message) {
  json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
  char *body = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  if (!body) return MHD_NO;
  return kb_respond(c, r, status, "application/json; charset=utf-8", body, strlen(body));
}

/* --------------------------------------------------------------- access */

/* Compares a and b in time that depends only on the length of b. */
static bool same_secret(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  unsigned char diff = (unsigned char)(la != lb);
  for (size_t i = 0; i < lb; i++) diff |= (unsigned char)(a[i < la ? i : 0] ^ b[i]);
  return diff == 0;
}

static role role_of(server *s, struct MHD_Connection *c) {
  const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
  if (!auth || strncmp(auth, "Bearer ", 7) != 0) return ROLE_PUBLIC;
  /* (a value with a NUL in it is refused before: see request_problem) */
  const char *token = auth + 7;
  role found = ROLE_PUBLIC;
  pthread_rwlock_rdlock(&s->tokens_lock);
  for (size_t i = 0; i < s->ntokens; i++)
    if (same_secret(token, s->tokens[i].token)) found = s->tokens[i].role;
  pthread_rwlock_unlock(&s->tokens_lock);
  return found;
}

static void replace_tokens(server *s, token_entry *v, size_t n) {
  pthread_rwlock_wrlock(&s->tokens_lock);
  token_entry *old = s->tokens;
  size_t nold = s->ntokens;
  s->tokens = v;
  s->ntokens = n;
  pthread_rwlock_unlock(&s->tokens_lock);
  kb_tokens_free(old, nold);
}

/* Reads the tokens file: 0 when read, 1 when it is gone on a re-read
 * (every token is revoked), -1 on an error. A file that is gone is the
 * plainest way to say "no more tokens", and a server that kept old ones
 * would fail open: so it revokes them all. On any other error (a bad line
 * included: a typo must neither lock engineers out nor apply half a file)
 * keeps the tokens it had, and says which line. */
static int load_tokens(server *s, bool reload) {
  if (!s->tokens_path) return 0;
  FILE *f = fopen(s->tokens_path, "r");
  if (!f && reload && errno == ENOENT) {
    replace_tokens(s, NULL, 0);
    fprintf(stderr, "kb-serve: %s: 令牌文件已不存在，所有令牌均已吊销，现在只有公开访问 "
            "(the tokens file is gone: EVERY TOKEN IS REVOKED, public access only)\n",
            s->tokens_path);
    return 1;
  }
  if (!f) {
    fprintf(stderr, "kb-serve: %s: 无法读取令牌文件 (cannot read tokens): %s\n", s->tokens_path,
            strerror(errno));
    return -1;
  }
  token_entry *v = NULL;
  size_t n = 0;
  int rc = kb_tokens_read(f, s->tokens_path, stderr, &v, &n);
  fclose(f);
  if (rc != 0) return -1;
  replace_tokens(s, v, n);
  return 0;
}

/* ------------------------------------------------------------- workers */

/* A worker thread's searchers, one per audience, each opened when first used. */
typedef struct worker {
  kb_searcher *by_audience[KB_AUDIENCE_COUNT];
} worker;

static void free_worker(void *p) {
  worker *w = p;
  for (size_t a = 0; a < KB_AUDIENCE_COUNT; a++) kb_searcher_free(w->by_audience[a]);
  free(w);
}

kb_audience kb_role_audience(role r) {
  return r == ROLE_PUBLIC ? KB_AUDIENCE_PUBLIC : KB_AUDIENCE_INTERNAL;
}

kb_searcher *kb_worker_searcher(server *s, role reader, kb_error *err) {
  worker *w = pthread_getspecific(s->worker);
  if (!w) {
    if (!(w = calloc(1, sizeof *w))) {
      kb_error_set(err, KB_ENOMEM, "out of memory");
      return NULL;
    }
    pthread_setspecific(s->worker, w);
  }
  kb_audience a = kb_role_audience(reader);
  kb_searcher *ks = w->by_audience[a];
  if (!ks) {
    if (kb_searcher_new_for(s->db, a, &ks, err) != KB_OK) return NULL;
    w->by_audience[a] = ks;
  }
  bool changed = false;
  if (kb_index_reopen(kb_searcher_index(ks), &changed, err) != KB_OK) return NULL;
  if (changed) atomic_fetch_add(&s->m.reloads[a], 1);
  return ks;
}

/* ----------------------------------------------------------- addresses */

static void client_address(struct MHD_Connection *c, char *addr, size_t n) {
  snprintf(addr, n, "-");
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (!ci || !ci->client_addr) return;
  const struct sockaddr *sa = ci->client_addr;
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, addr, (socklen_t)n);
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, addr, (socklen_t)n);
}

/* Takes one token from the client's bucket; false when it has none. */
static bool rate_allows(server *s, struct MHD_Connection *c) {
  if (s->rate_limit <= 0) return true;
  char addr[48];
  client_address(c, addr, sizeof addr);
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
  double burst = 2 * s->rate_limit < 1 ? 1 : 2 * s->rate_limit; /* a request at least */
  pthread_mutex_lock(&s->rate_lock);
  size_t h = (size_t)(kb_fnv1a(addr, strlen(addr)) % RATE_BUCKETS);
  rate_bucket *b = &s->buckets[h];
  /* two addresses of one bucket share it: refilled when they alternate,
   * each would never be limited. A bucket unused for a while is full again
   * by the time that passed. */
  snprintf(b->addr, sizeof b->addr, "%s", addr);
  b->tokens += (now - b->last) * s->rate_limit;
  if (b->tokens > burst) b->tokens = burst;
  b->last = now;
  bool ok = b->tokens >= 1;
  if (ok) b->tokens -= 1;
  pthread_mutex_unlock(&s->rate_lock);
  return ok;
}

/* -------------------------------------------------------------- routing */

static bool starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static enum MHD_Result route(struct MHD_Connection *c, request *r, const char *url,
                             const char *method) {
  bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
  bool post = strcmp(method, "POST") == 0;
  if (strcmp(url, "/api/search") == 0) r->ep = EP_SEARCH;
  else if (starts_with(url, "/api/docs/")) r->ep = EP_DOCS;
  else if (strcmp(url, "/api/similar") == 0) r->ep = EP_SIMILAR;
  else if (strcmp(url, "/api/suggest") == 0) r->ep = EP_SUGGEST;
  else if (strcmp(url, "/api/tickets") == 0) r->ep = EP_TICKETS;
  else if (strcmp(url, "/api/gaps") == 0) r->ep = EP_GAPS;
  else if (strcmp(url, "/healthz") == 0) r->ep = EP_HEALTHZ;
  else if (strcmp(url, "/metrics") == 0) r->ep = EP_METRICS;
  else if (strcmp(url, "/") == 0) r->ep = EP_PAGE_HOME;
  else if (strcmp(url, "/search") == 0) r->ep = EP_PAGE_SEARCH;
  else if (starts_with(url, "/a/") || starts_with(url, "/t/")) r->ep = EP_PAGE_DOC;
  else return kb_respond_error(c, r, 404, "not_found", "没有这个地址 (no such path)");

  if (r->ep == EP_SIMILAR ? !(get || post) : r->ep == EP_TICKETS ? !post : !get)
    return kb_respond_error(c, r, 405, "method_not_allowed", "不支持的请求方法 (method not allowed)");
  if (r->limited)
    return kb_respond_error(c, r, 429, "too_many_requests",
                            "请求过于频繁，请稍后再试 (too many requests from this address)");
  if (r->too_big)
    return kb_respond_error(c, r, 413, "too_large", "请求体过大 (request body too large)");
  if (r->out_of_memory) /* never a body cut short */
    return kb_respond_error(c, r, 500, "internal", "内存不足 (out of memory)");
  switch (r->ep) {
    case EP_SEARCH: return kb_api_search(c, r);
    case EP_DOCS: return kb_api_doc(c, r, url + strlen("/api/docs/"));
    case EP_SIMILAR: return kb_api_similar(c, r);
    case EP_SUGGEST: return kb_api_suggest(c, r);
    case EP_TICKETS: return kb_api_tickets(c, r);
    case EP_GAPS: return kb_api_gaps(c, r);
    case EP_HEALTHZ: return kb_api_healthz(c, r);
    case EP_METRICS: return kb_api_metrics(c, r);
    case EP_PAGE_HOME: return kb_page_home(c, r);
    case EP_PAGE_SEARCH: return kb_page_search(c, r);
    case EP_PAGE_DOC: return kb_page_doc(c, r, url + 1); /* "a/…" or "t/…" is the id */
    default: break;
  }
  return kb_respond_error(c, r, 404, "not_found", "没有这个地址 (no such path)");
}

/* ------------------------------------------------------ request checks */

/* libmicrohttpd decodes %XX in the path and the arguments, but hands them
 * over as C strings: a %00 would cut them short unseen (`q=a%00…` would
 * search for "a", `/a/x%00.md` open /a/x). It is decoded here as the
 * overlong pair C0 80 instead, which no valid UTF-8 holds, so that
 * request_problem() finds it; everything else as libmicrohttpd does. */
static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static size_t unescape(void *cls, struct MHD_Connection *c, char *s) {
  (void)cls;
  (void)c;
  char *w = s; /* never ahead of p: %XX (3 bytes) becomes 2 at most */
  for (const char *p = s; *p;) {
    int hi = p[0] == '%' ? hex_value(p[1]) : -1, lo = hi >= 0 ? hex_value(p[2]) : -1;
    if (lo < 0) {
      *w++ = *p++;
      continue;
    }
    if (hi == 0 && lo == 0) {
      *w++ = '\xC0';
      *w++ = '\x80';
    } else {
      *w++ = (char)(hi * 16 + lo);
    }
    p += 3;
  }
  *w = '\0';
  return (size_t)(w - s);
}

static bool has_nul_mark(const char *s) { return s && strstr(s, "\xC0\x80") != NULL; }

typedef struct header_scan {
  int content_length; /* how many */
  const char *first_length;
  bool conflicting, chunked, nul_arg;
} header_scan;

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value) {
  header_scan *h = cls;
  if (kind == MHD_GET_ARGUMENT_KIND) {
    h->nul_arg |= has_nul_mark(key) || has_nul_mark(value);
    return MHD_YES;
  }
  if (strcasecmp(key, "Content-Length") == 0) {
    if (h->content_length++ && strcmp(h->first_length, value ? value : "") != 0)
      h->conflicting = true;
    if (h->content_length == 1) h->first_length = value ? value : "";
  } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
    h->chunked = true;
  }
  return MHD_YES;
}

/* Why the request cannot be taken as it is (a 400), or NULL: a NUL in
 * the path, an argument or the Authorization value; a body length said
 * twice differently, or said beside chunked encoding (two readers of the
 * request — a proxy and us — could see two different requests). */
static const char *request_problem(struct MHD_Connection *c, const char *url) {
  header_scan h = {0};
  MHD_get_connection_values(c, MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND, scan_header, &h);
  if (has_nul_mark(url) || h.nul_arg)
    return "请求地址或参数含 NUL 字符 (a NUL in the path or a parameter)";
  const char *auth = NULL;
  size_t auth_len = 0;
  if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, "Authorization", strlen("Authorization"),
                                    &auth, &auth_len) == MHD_YES &&
      auth && memchr(auth, '\0', auth_len))
    return "Authorization 含 NUL 字符 (a NUL in Authorization)";
  if (h.conflicting) return "Content-Length 重复且不一致 (conflicting Content-Length headers)";
  if (h.content_length && h.chunked)
    return "Content-Length 与 Transfer-Encoding 同时出现 (Content-Length with Transfer-Encoding)";
  return NULL;
}

/* The connection's entry in s->conns (NULL when it could not be made). */
static kb_conn *connection_entry(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? ci->socket_context : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls) {
  (void)version;
  server *s = cls;
  request *r = *con_cls;
  if (!r) {
    r = calloc(1, sizeof *r);
    if (!r) return MHD_NO;
    r->srv = s;
    r->ep = EP_OTHER;
    clock_gettime(CLOCK_MONOTONIC, &r->start);
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->path, sizeof r->path, "%s", url);
    r->role = role_of(s, c);
    r->limited = !rate_allows(s, c);
    *con_cls = r;
    const char *problem = request_problem(c, url);
    /* answered before the body is read: libmicrohttpd then closes the
     * connection rather than read a body of a length it cannot know */
    if (problem) return kb_respond_error(c, r, 400, "bad_request", problem);
    return MHD_YES;
  }
  if (*upload_size) {
    if (r->body.len + *upload_size > s->max_body) r->too_big = true;
    else if (kb_buf_append(&r->body, upload_data, *upload_size) != KB_OK) r->out_of_memory = true;
    *upload_size = 0;
    return MHD_YES;
  }
  kb_conns_request_in(s->conns, connection_entry(c)); /* headers and body are in */
  return route(c, r, url, method);
}

static int status_index(unsigned status) {
  for (int i = 0; i < STATUS_COUNT; i++)
    if (statuses[i] == status) return i;
  return status >= 500 ? 10 : 1;
}

const double kb_latency_le[LATENCY_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                               0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

/* The method or path as the log shows it: a space, a control byte or a %
 * percent-encoded, so that a request (`/a/x%0A2099-01-01…`) cannot write
 * a line of its own or split its fields. */
static void log_field(kb_buf *b, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p <= ' ' || *p == 0x7f || *p == '%') kb_buf_printf(b, "%%%02X", *p);
    else kb_buf_putc(b, (char)*p);
  }
}

/* One access log line, when there is a log: time, client, method, path,
 * status, bytes, microseconds. */
static void log_request(server *s, struct MHD_Connection *c, const request *r, long long us) {
  pthread_mutex_lock(&s->log_lock);
  bool logging = s->access_log != NULL; /* SIGHUP swaps it under the lock */
  pthread_mutex_unlock(&s->log_lock);
  if (!logging) return;
  char addr[64];
  client_address(c, addr, sizeof addr);
  char when[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  kb_buf line = {0};
  kb_buf_printf(&line, "%s %s ", when, addr);
  log_field(&line, r->method);
  kb_buf_putc(&line, ' ');
  log_field(&line, r->path);
  kb_buf_printf(&line, " %u %zu %lld\n", r->status, r->bytes, us);
  pthread_mutex_lock(&s->log_lock);
  if (s->access_log && line.data) {
    fputs(line.data, s->access_log);
    fflush(s->access_log);
  }
  pthread_mutex_unlock(&s->log_lock);
  kb_buf_free(&line);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)toe;
  server *s = cls;
  request *r = *con_cls;
  if (!r) return;
  kb_conns_request_done(s->conns, connection_entry(c)); /* the next request's clock starts */
  struct timespec end;
  clock_gettime(CLOCK_MONOTONIC, &end);
  long long us = (long long)(end.tv_sec - r->start.tv_sec) * 1000000LL +
                 (end.tv_nsec - r->start.tv_nsec) / 1000;
  if (r->status) {
    atomic_fetch_add(&s->m.requests[r->ep][status_index(r->status)], 1);
    double secs = (double)us / 1e6;
    int b = 0;
    while (b < LATENCY_BUCKETS && secs > kb_latency_le[b]) b++;
    atomic_fetch_add(&s->m.latency_bucket[b], 1);
    atomic_fetch_add(&s->m.latency_sum_us, (unsigned long long)us);
    atomic_fetch_add(&s->m.latency_count, 1);
    if (r->status >= 400) atomic_fetch_add(&s->m.rejected, 1);
  }
  log_request(s, c, r, us);
  kb_buf_free(&r->body);
  free(r);
  *con_cls = NULL;
}

/* libmicrohttpd's own messages, on standard error: at most 10 a second,
 * with a count of those left out, so that clients closed by the thousand
 * (slowloris, connection floods) cannot flood the log. */
static void on_mhd_message(void *cls, const char *fmt, va_list ap) {
  server *s = cls;
  time_t now = time(NULL);
  pthread_mutex_lock(&s->mhd_log_lock);
  if (now != s->mhd_log_second) {
    if (s->mhd_log_dropped)
      fprintf(stderr, "kb-serve: 省略了 %lu 条 libmicrohttpd 消息 (%lu libmicrohttpd messages left out)\n",
              s->mhd_log_dropped, s->mhd_log_dropped);
    s->mhd_log_second = now;
    s->mhd_log_count = 0;
    s->mhd_log_dropped = 0;
  }
  if (s->mhd_log_count++ < 10) {
    fputs("kb-serve: libmicrohttpd: ", stderr);
    vfprintf(stderr, fmt, ap);
  } else {
    s->mhd_log_dropped++;
  }
  pthread_mutex_unlock(&s->mhd_log_lock);
}

/* libmicrohttpd's word that a connection began or ended. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
  server *s = cls;
  if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
    kb_conns_closed(s->conns, socket_context);
    return;
  }
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (ci) kb_conns_started(s->conns, ci->connect_fd, socket_context);
}

/* --------------------------------------------------------------- start */

static int open_access_log(server *s) {
  if (!s->access_log_path) return 0;
  FILE *f = strcmp(s->access_log_path, "-") == 0 ? stderr : fopen(s->access_log_path, "a");
  if (!f) {
    fprintf(stderr, "kb-serve: %s: %s\n", s->access_log_path, strerror(errno));
    return -1;
  }
  pthread_mutex_lock(&s->log_lock);
  FILE *old = s->access_log;
  s->access_log = f;
  pthread_mutex_unlock(&s->log_lock);
  if (old && old != stderr) fclose(old);
  return 0;
}

static int parse_listen(const char *spec, struct sockaddr_in *sa) {
  char host[64];
  const char *colon = strrchr(spec, ':');
  if (!colon || (size_t)(colon - spec) >= sizeof host) return -1;
  memcpy(host, spec, (size_t)(colon - spec));
  host[colon - spec] = '\0';
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (*end || port < 0 || port > 65535) return -1;
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, *host ? host : "127.0.0.1", &sa->sin_addr) != 1) return -1;
  return 0;
}

static void free_server(server *s) {
  for (size_t i = 0; i < s->ntokens; i++) free(s->tokens[i].token);
  free(s->tokens);
  kb_gaps_free(s->gaps);
  kb_cache_free(s->cache);
  kb_conns_free(s->conns);
  free(s->buckets);
  if (s->access_log && s->access_log != stderr) fclose(s->access_log);
}

/* What the command line sets beside the server's own fields. */
typedef struct options {
  const char *listen;
  long threads, max_conn, per_ip, cache_entries;
} options;

/* Fills s and o from argv: 0, 1 after --help (printed), -1 on a bad
 * argument (said on standard error). */
static int parse_args(int argc, char **argv, server *s, options *o) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has = i + 1 < argc;
    char *end = NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage, stdout);
      return 1;
    } else if (!strcmp(a, "--db") && has) {
      s->db = argv[++i];
    } else if (!strcmp(a, "--listen") && has) {
      o->listen = argv[++i];
    } else if (!strcmp(a, "--tokens") && has) {
      s->tokens_path = argv[++i];
    } else if (!strcmp(a, "--access-log") && has) {
      s->access_log_path = argv[++i];
    } else if (!strcmp(a, "--threads") && has) {
      o->threads = strtol(argv[++i], NULL, 10);
      if (o->threads < 1 || o->threads > 256) goto bad;
    } else if (!strcmp(a, "--rate-limit") && has) {
      s->rate_limit = strtod(argv[++i], NULL);
      if (s->rate_limit < 0 || s->rate_limit > 1e6) goto bad;
    } else if (!strcmp(a, "--cache") && has) {
      o->cache_entries = strtol(argv[++i], &end, 10);
      if (*end || o->cache_entries < 0 || o->cache_entries > 1000000) goto bad;
    } else if (!strcmp(a, "--request-timeout") && has) {
      long t = strtol(argv[++i], &end, 10);
      if (*end || t < 1 || t > 3600) goto bad;
      s->request_timeout_ms = (unsigned)t * 1000u;
    } else if (!strcmp(a, "--max-connections") && has) {
      o->max_conn = strtol(argv[++i], NULL, 10);
      if (o->max_conn < 1 || o->max_conn > 100000) goto bad;
    } else if (!strcmp(a, "--max-connections-per-ip") && has) {
      o->per_ip = strtol(argv[++i], NULL, 10);
      if (o->per_ip < 1 || o->per_ip > 100000) goto bad;
    } else {
      goto bad;
    }
    continue;
  bad:
    fprintf(stderr, "kb-serve: 参数无效 (invalid argument) %s\n\n%s", a, usage);
    return -1;
  }
  if (o->per_ip > o->max_conn) o->per_ip = o->max_conn;
  return 0;
}

/* Everything but the daemon: the index (it must open before we listen),
 * locks, tokens, the access log, the cache, the gap report. */
static int prepare(server *s, const options *o) {
  kb_error err = {0};
  for (unsigned a = 0; a < KB_AUDIENCE_COUNT; a++) {
    kb_searcher *probe;
    if (kb_searcher_new_for(s->db, (kb_audience)a, &probe, &err) != KB_OK) {
      fprintf(stderr, "kb-serve: 无法打开索引 (cannot open index): %s\n", err.message);
      return -1;
    }
    kb_searcher_free(probe);
  }
  pthread_key_create(&s->worker, free_worker);
  pthread_rwlock_init(&s->tokens_lock, NULL);
  pthread_mutex_init(&s->log_lock, NULL);
  pthread_mutex_init(&s->rate_lock, NULL);
  pthread_mutex_init(&s->mhd_log_lock, NULL);
  if (s->rate_limit > 0 && !(s->buckets = calloc(RATE_BUCKETS, sizeof *s->buckets))) return -1;
  if (load_tokens(s, false) != 0 || open_access_log(s) != 0) return -1;
  if (!(s->cache = kb_cache_new((size_t)o->cache_entries, CACHE_BYTES))) return -1;
  /* room for clients that send a request at once: an eighth of the slots
   * (libmicrohttpd refuses at max_conn; we start closing the slowest
   * before, so that a newcomer always finds a slot) */
  size_t max_conn = (size_t)o->max_conn;
  size_t soft = max_conn >= 8 ? max_conn - max_conn / 8 : max_conn;
  if (!(s->conns = kb_conns_new(s->request_timeout_ms, soft))) return -1;
  kb_buf gp = {0};
  kb_buf_printf(&gp, "%s.gaps.tsv", s->db);
  s->gaps = gp.data ? kb_gaps_new(gp.data) : NULL;
  kb_buf_free(&gp);
  return s->gaps ? 0 : -1;
}

static struct MHD_Daemon *start_daemon(server *s, const options *o, struct sockaddr_in *sa) {
  return MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL,
      NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)sa,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)o->threads, MHD_OPTION_CONNECTION_LIMIT,
      (unsigned int)o->max_conn, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)o->per_ip,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      (size_t)(64 * 1024), MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
      MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_message,
      s, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
}

/* Serves until SIGTERM or SIGINT; SIGHUP reopens the log, re-reads tokens. */
static void wait_for_signals(server *s, const sigset_t *set) {
  for (;;) {
    int sig;
    if (sigwait(set, &sig) != 0 || sig != SIGHUP) return;
    open_access_log(s);
    int rc = load_tokens(s, true);
    if (rc == 0)
      fprintf(stderr, "kb-serve: 已重新加载日志和令牌 (logs reopened, tokens re-read)\n");
    else if (rc < 0)
      fprintf(stderr, "kb-serve: 令牌未更新，仍用原令牌 (tokens not changed: the old ones stay)\n");
  }
}

/* Stops accepting, lets in-flight requests finish (5 s at most), stops. */
static void stop_gracefully(server *s) {
  MHD_quiesce_daemon(s->daemon);
  for (int i = 0; i < 100; i++) {
    const union MHD_DaemonInfo *n = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    if (!n || n->num_connections == 0) break;
    usleep(50000);
  }
  MHD_stop_daemon(s->daemon);
  fprintf(stderr, "kb-serve: 已停止 (stopped)\n");
}

int main(int argc, char **argv) {
  server s = {.max_body = MAX_BODY, .request_timeout_ms = 10000};
  s.db = getenv("KB_DB");
  if (!s.db || !*s.db) s.db = "data/kb.db";
  options o = {.listen = "127.0.0.1:8080",
               .threads = sysconf(_SC_NPROCESSORS_ONLN),
               .max_conn = 512,
               .per_ip = 128,
               .cache_entries = 1000};
  int parsed = parse_args(argc, argv, &s, &o);
  if (parsed != 0) return parsed > 0 ? 0 : 2;
  struct sockaddr_in sa;
  if (parse_listen(o.listen, &sa) != 0) {
    fprintf(stderr, "kb-serve: --listen %s: 应为 ADDR:PORT (expected ADDR:PORT)\n", o.listen);
    return 2;
  }
  if (prepare(&s, &o) != 0) {
    free_server(&s);
    return 1;
  }
  /* signals go to the main thread only: workers inherit this mask */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  if (!(s.daemon = start_daemon(&s, &o, &sa))) {
    fprintf(stderr, "kb-serve: 无法监听 (cannot listen on) %s: %s\n", o.listen, strerror(errno));
    free_server(&s);
    return 1;
  }
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(s.daemon, MHD_DAEMON_INFO_BIND_PORT);
  char addr[64];
  inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof addr);
  printf("kb-serve: 正在监听 (listening on) http://%s:%u/ (index %s)\n", addr,
         di ? di->port : ntohs(sa.sin_port), s.db);
  fflush(stdout);
  wait_for_signals(&s, &set);
  stop_gracefully(&s);
  free_server(&s);
  pthread_key_delete(s.worker);
  return 0;
}
