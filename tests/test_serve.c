/* test_serve.c — integration tests of kb-serve: the real server on an
 * ephemeral loopback port over an index of articles/ plus fixtures, every
 * endpoint, what the public may and may not see, live reload, the pages. */
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char *g_tmp;
static char g_db[1024], g_tokens[1024], g_fixtures[1024];
static int g_port;
static pid_t g_pid;
/* a second server a test starts (its own flags, the same index) */
static pid_t g_second;

/* Stops the second server by its pid; 0 on a clean stop. */
static int stop_second(void) {
  if (g_second <= 0) return 0;
  int rc = tu_stop_server(g_second);
  g_second = 0;
  return rc;
}

/* A second server on the same index with one more flag; its port (0 when
 * it did not start). */
static int start_second(const char *flag, const char *value) {
  char bin[1024], listen[] = "127.0.0.1:0";
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-serve"));
  char *argv[] = {bin, "--db", g_db, "--listen", listen, (char *)flag, (char *)value, NULL};
  return tu_start_server(argv, &g_second);
}

/* After a test that failed before stopping its second server. */
static int teardown_second(void **state) {
  (void)state;
  stop_second();
  return 0;
}

#define ENGINEER "Authorization: Bearer engineer-token-0123456789\r\n"
#define ADMIN "Authorization: Bearer admin-token-0123456789abcdef\r\n"
/* internal documents and words of the shipped articles */
#define INTERNAL_ID "a/database/hxdb-remote-diag-account"
#define INTERNAL_WORD "undoprobe"

static int run_index(const char *a1, const char *a2) {
  char bin[1024];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-index"));
  char *argv[] = {bin, "--db", g_db, (char *)a1, (char *)a2, NULL};
  return tu_run(argv, NULL, NULL);
}

/* GET path (query already encoded) as JSON; *status gets the HTTP status. */
static json_t *get_json(const char *path, const char *headers, int *status) {
  kb_buf body = {0};
  int st = tu_http(g_port, "GET", path, headers, NULL, &body);
  if (status) *status = st;
  json_t *j = json_loads(body.data, 0, NULL);
  if (!j) fprintf(stderr, "GET %s: %d not JSON: %.200s\n", path, st, body.data);
  kb_buf_free(&body);
  return j;
}

static json_t *search(const char *q, const char *extra, const char *headers) {
  kb_buf path = {0};
  kb_buf_puts(&path, "/api/search?q=");
  tu_urlencode(q, &path);
  if (extra) kb_buf_puts(&path, extra);
  int st;
  json_t *j = get_json(path.data, headers, &st);
  assert_int_equal(st, 200);
  kb_buf_free(&path);
  return j;
}

static json_t *hits_of(json_t *j) { return json_object_get(j, "hits"); }

static bool has_id(json_t *j, const char *id) {
  json_t *h = hits_of(j);
  for (size_t i = 0; i < json_array_size(h); i++)
    if (strcmp(json_string_value(json_object_get(json_array_get(h, i), "id")), id) == 0) return true;
  return false;
}

static const char *first_id(json_t *j) {
  return json_string_value(json_object_get(json_array_get(hits_of(j), 0), "id"));
}

/* ---------------------------------------------------------------- search */

static void test_search_shape_and_ranking(void **state) {
  (void)state;
  json_t *j = search("打印机 脱机", NULL, NULL);
  const char *keys[] = {"query", "total", "took_ms", "hits", "facets", "suggestion"};
  for (size_t i = 0; i < 6; i++) assert_non_null(json_object_get(j, keys[i]));
  assert_string_equal(first_id(j), "a/printing/printer-offline");
  json_t *h = json_array_get(hits_of(j), 0);
  const char *hkeys[] = {"id", "type", "title", "snippet", "score", "product", "category",
                         "priority", "updated", "url"};
  for (size_t i = 0; i < 10; i++) assert_non_null(json_object_get(h, hkeys[i]));
  assert_string_equal(json_string_value(json_object_get(h, "url")), "/a/printing/printer-offline");
  assert_true(tu_contains(json_string_value(json_object_get(h, "snippet")), "<mark>打印机</mark>"));
  json_decref(j);
}

static void test_facets_sum_to_total(void **state) {
  (void)state;
  const char *headers[] = {NULL, ENGINEER};
  for (int k = 0; k < 2; k++) {
    json_t *j = search("连接 超时 timeout", NULL, headers[k]);
    json_int_t total = json_integer_value(json_object_get(j, "total"));
    assert_true(total > 0);
    const char *facets[] = {"type", "product", "category"};
    for (int f = 0; f < 3; f++) {
      json_t *counts = json_object_get(json_object_get(j, "facets"), facets[f]);
      json_int_t sum = 0;
      const char *key;
      json_t *v;
      json_object_foreach(counts, key, v) sum += json_integer_value(v);
      assert_int_equal(sum, total);
    }
    json_decref(j);
  }
}

static void test_filters_and_pagination(void **state) {
  (void)state;
  json_t *j = search("驱动", "&product=printing", NULL);
  for (size_t i = 0; i < json_array_size(hits_of(j)); i++)
    assert_string_equal(json_string_value(json_object_get(json_array_get(hits_of(j), i), "product")),
                        "printing");
  json_decref(j);
  json_t *all = search("服务器", "&limit=5", NULL);
  json_t *page2 = search("服务器", "&limit=2&offset=2", NULL);
  assert_int_equal(json_array_size(hits_of(page2)), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(hits_of(all), 2), "id")),
                      first_id(page2));
  json_decref(all);
  json_decref(page2);
  json_t *dated = search("服务器", "&from=2026-01-01&to=2026-12-31&sort=date", NULL);
  json_t *h = hits_of(dated);
  for (size_t i = 0; i < json_array_size(h); i++) {
    const char *u = json_string_value(json_object_get(json_array_get(h, i), "updated"));
    assert_true(strcmp(u, "2026-01-01") >= 0);
    if (i) assert_true(strcmp(u, json_string_value(json_object_get(json_array_get(h, i - 1), "updated"))) <= 0);
  }
  json_decref(dated);
}

static void expect_error(const char *method, const char *path, const char *headers, int status,
                         const char *needle) {
  kb_buf body = {0};
  int st = tu_http(g_port, method, path, headers, NULL, &body);
  if (st != status) fprintf(stderr, "%s %s: %d (want %d): %s\n", method, path, st, status, body.data);
  assert_int_equal(st, status);
  json_t *j = json_loads(body.data, 0, NULL);
  assert_non_null(j);
  json_t *e = json_object_get(j, "error");
  assert_non_null(json_object_get(e, "code"));
  if (needle) assert_true(tu_contains(json_string_value(json_object_get(e, "message")), needle));
  json_decref(j);
  kb_buf_free(&body);
}

static void test_error_statuses(void **state) {
  (void)state;
  expect_error("GET", "/api/search?q=x&limit=101", NULL, 400, "limit");
  expect_error("GET", "/api/search?q=x&offset=10001", NULL, 400, "offset");
  expect_error("GET", "/api/search?q=x&type=memo", NULL, 400, "type");
  expect_error("GET", "/api/search?q=x&priority=P9", NULL, 400, "priority");
  expect_error("GET", "/api/search?q=x&from=2026-13-01", NULL, 400, "from");
  expect_error("GET", "/api/search?q=x&sort=random", NULL, 400, "sort");
  kb_buf longq = {0};
  kb_buf_puts(&longq, "/api/search?q=");
  for (int i = 0; i < 1001; i++) kb_buf_putc(&longq, 'a');
  expect_error("GET", longq.data, NULL, 400, "q");
  kb_buf_free(&longq);
  expect_error("GET", "/api/nothing", NULL, 404, NULL);
  expect_error("POST", "/api/search?q=x", NULL, 405, NULL);
  expect_error("GET", "/api/gaps", NULL, 401, NULL);
  expect_error("GET", "/api/gaps", ENGINEER, 403, NULL);
  expect_error("GET", "/api/docs/a/no/such", NULL, 404, NULL);
  expect_error("GET", "/api/similar", NULL, 400, "id");
  /* what a caller said, up to 4,000 characters */
  kb_buf text = {0}, out = {0};
  for (int i = 0; i < 4001; i++) kb_buf_puts(&text, "慢");
  assert_int_equal(tu_http(g_port, "POST", "/api/similar", NULL, text.data, &out), 400);
  assert_true(tu_contains(out.data, "body"));
  kb_buf_free(&text);
  kb_buf_free(&out);
}

/* --------------------------------------------------------- hostile HTTP */

/* Sends req (len bytes, any bytes) on a new connection and reads until
 * the server closes it or 5 s pass: the status (0 when nothing came), the
 * whole answer, headers included, into resp if given. */
static int raw_request(int port, const char *req, size_t len, kb_buf *resp) {
  int fd = tu_connect(port);
  if (fd < 0) return 0;
  struct timeval tv = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (size_t off = 0; off < len;) {
    ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
    if (w <= 0) break;
    off += (size_t)w;
  }
  kb_buf got = {0};
  char chunk[8192];
  ssize_t r;
  while ((r = read(fd, chunk, sizeof chunk)) > 0) kb_buf_append(&got, chunk, (size_t)r);
  close(fd);
  int status = got.len > 12 && strncmp(got.data, "HTTP/1.", 7) == 0 ? atoi(got.data + 9) : 0;
  if (resp) kb_buf_append(resp, got.data ? got.data : "", got.len);
  kb_buf_free(&got);
  return status;
}

#define RAW(req, resp) raw_request(g_port, req, sizeof req - 1, resp)

/* A NUL decoded from %00 would cut the query, the path or the id short
 * unseen: 400 instead, wherever it is. */
static void test_nul_is_refused(void **state) {
  (void)state;
  static const char *const paths[] = {
      "/api/search?q=%E6%89%93%E5%8D%B0%E6%9C%BA%00" INTERNAL_WORD, "/search?q=a%00b",
      "/a/printing/printer-offline%00.md", "/api/docs/a/printing/printer-offline%00x",
      "/api/suggest?q=ab%00c", "/api/similar?id=a/printing/printer-offline%00",
      "/api/search?q=x&product=printing%00x", "/api/search?q%00x=1"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    kb_buf body = {0};
    int st = tu_http(g_port, "GET", paths[i], NULL, NULL, &body);
    if (st != 400) fprintf(stderr, "GET %s: %d\n", paths[i], st);
    assert_int_equal(st, 400);
    assert_true(tu_contains(body.data, "NUL"));
    kb_buf_free(&body);
  }
  /* %2500 is the text "%00", not a NUL */
  json_t *j = search("%00", NULL, NULL);
  assert_string_equal(json_string_value(json_object_get(j, "query")), "%00");
  json_decref(j);
}

/* Two readers of a request (a proxy, us) must not see two requests. */
static void test_conflicting_body_lengths(void **state) {
  (void)state;
  kb_buf out = {0};
  assert_int_equal(RAW("POST /api/similar HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       "Content-Length: 5\r\nContent-Length: 40\r\n\r\n打印机", &out), 400);
  assert_true(tu_contains(out.data, "Content-Length"));
  kb_buf_reset(&out);
  assert_int_equal(RAW("POST /api/similar HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       "Content-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "9\r\n打印机\r\n0\r\n\r\n", &out), 400);
  kb_buf_reset(&out);
  /* the same length twice is one length */
  assert_int_equal(RAW("POST /api/similar HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       "Content-Length: 9\r\nContent-Length: 9\r\n\r\n打印机", &out), 200);
  kb_buf_free(&out);
}

/* Every answer, JSON, page, error or metrics, forbids framing and
 * referrers, beside the headers it had. */
static void test_security_headers(void **state) {
  (void)state;
  static const char *const reqs[] = {
      "GET /api/search?q=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET /a/printing/printer-offline HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "DELETE /api/search HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"};
  for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
    kb_buf out = {0};
    assert_true(raw_request(g_port, reqs[i], strlen(reqs[i]), &out) > 0);
    char *end = strstr(out.data, "\r\n\r\n");
    assert_non_null(end);
    *end = '\0'; /* the headers only */
    assert_true(tu_contains(out.data, "\r\nX-Frame-Options: DENY"));
    assert_true(tu_contains(out.data, "\r\nReferrer-Policy: no-referrer"));
    assert_true(tu_contains(out.data, "frame-ancestors 'none'"));
    assert_true(tu_contains(out.data, "\r\nX-Content-Type-Options: nosniff"));
    assert_true(tu_contains(out.data, "\r\nCache-Control: no-store"));
    kb_buf_free(&out);
  }
}

/* A request line or headers over what a connection may hold: 414 and
 * 431 from libmicrohttpd, and the server goes on. */
static void test_oversized_line_and_headers(void **state) {
  (void)state;
  kb_buf req = {0};
  kb_buf_puts(&req, "GET /api/search?q=");
  for (int i = 0; i < 70000; i++) kb_buf_putc(&req, 'a');
  kb_buf_puts(&req, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert_int_equal(raw_request(g_port, req.data, req.len, NULL), 414);
  kb_buf_reset(&req);
  kb_buf_puts(&req, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
  for (int i = 0; i < 70000; i++) kb_buf_putc(&req, 'a');
  kb_buf_puts(&req, "\r\nConnection: close\r\n\r\n");
  assert_int_equal(raw_request(g_port, req.data, req.len, NULL), 431);
  kb_buf_reset(&req);
  kb_buf_puts(&req, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
  for (int i = 0; i < 5000; i++) kb_buf_printf(&req, "X-H%d: v\r\n", i); /* many small ones */
  kb_buf_puts(&req, "Connection: close\r\n\r\n");
  assert_int_equal(raw_request(g_port, req.data, req.len, NULL), 431);
  kb_buf_free(&req);
  assert_int_equal(tu_http(g_port, "GET", "/healthz", NULL, NULL, NULL), 200);
}

/* Bad percent-encoding is text as it stands; what decodes to bytes that
 * are not UTF-8 (a cut sequence, 0xFF, an overlong "/") is a 400. */
static void test_bad_encodings(void **state) {
  (void)state;
  static const struct {
    const char *path, *query; /* query: the text searched, for a 200 */
  } ok[] = {{"/api/search?q=%zz", "%zz"}, {"/api/search?q=x%2", "x%2"}, {"/api/search?q=%%41", "%A"}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    int st;
    json_t *j = get_json(ok[i].path, NULL, &st);
    assert_int_equal(st, 200);
    assert_string_equal(json_string_value(json_object_get(j, "query")), ok[i].query);
    json_decref(j);
  }
  static const char *const bad[] = {"/api/search?q=%E6%95", "/api/search?q=%FF",
                                    "/api/search?q=%C0%AF", "/api/search?q=%ED%A0%80",
                                    "/api/search?q=x&product=%FF", "/api/suggest?q=%E6",
                                    "/search?q=%FE%FF"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    kb_buf body = {0};
    int st = tu_http(g_port, "GET", bad[i], NULL, NULL, &body);
    if (st != 400) fprintf(stderr, "GET %s: %d\n", bad[i], st);
    assert_int_equal(st, 400);
    kb_buf_free(&body);
  }
  /* a raw byte that is not UTF-8 */
  assert_int_equal(RAW("GET /api/search?q=\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                       NULL), 400);
  /* POST bodies are checked alike */
  kb_buf out = {0};
  assert_int_equal(tu_http(g_port, "POST", "/api/similar", NULL, "\xE6\x89", &out), 400);
  kb_buf_free(&out);
}

/* 10,000 words are refused at once (1,000 characters at most); what is
 * under the limit is answered, however many words it has. */
static void test_huge_queries(void **state) {
  (void)state;
  kb_buf q = {0}, path = {0}, body = {0};
  for (int i = 0; i < 10000; i++) kb_buf_puts(&q, i ? " ab" : "ab");
  kb_buf_puts(&path, "/api/search?q=");
  tu_urlencode(q.data, &path);
  assert_int_equal(tu_http(g_port, "GET", path.data, NULL, NULL, &body), 400);
  assert_true(tu_contains(body.data, "1000"));
  kb_buf_reset(&body);
  assert_int_equal(tu_http(g_port, "POST", "/api/similar", NULL, q.data, &body), 400);
  kb_buf_reset(&body);
  /* 10,000 Chinese words do not even fit in a request line */
  kb_buf_reset(&q);
  kb_buf_reset(&path);
  for (int i = 0; i < 10000; i++) kb_buf_puts(&q, i ? " 打印" : "打印");
  kb_buf_puts(&path, "/api/search?q=");
  tu_urlencode(q.data, &path);
  assert_int_equal(tu_http(g_port, "GET", path.data, NULL, NULL, &body), 414);
  kb_buf_reset(&body);
  assert_int_equal(tu_http(g_port, "POST", "/api/similar", NULL, q.data, &body), 400);
  kb_buf_reset(&body);
  /* 333 words of two characters, 998 characters: answered */
  kb_buf_reset(&q);
  kb_buf_reset(&path);
  static const char *const words[] = {"打印", "脱机", "数据", "超时", "ab", "hx", "网络"};
  for (int i = 0; i < 333; i++) {
    if (i) kb_buf_putc(&q, ' ');
    kb_buf_puts(&q, words[i % 7]);
  }
  kb_buf_puts(&path, "/api/search?q=");
  tu_urlencode(q.data, &path);
  int st;
  json_t *j = get_json(path.data, NULL, &st);
  assert_int_equal(st, 200);
  assert_true(json_integer_value(json_object_get(j, "total")) > 0);
  json_decref(j);
  kb_buf_reset(&path);
  kb_buf_puts(&path, "/search?q=");
  tu_urlencode(q.data, &path);
  assert_int_equal(tu_http(g_port, "GET", path.data, NULL, NULL, &body), 200);
  kb_buf_reset(&body);
  assert_int_equal(tu_http(g_port, "POST", "/api/similar", NULL, q.data, &body), 200);
  kb_buf_free(&q);
  kb_buf_free(&path);
  kb_buf_free(&body);
}

/* limit and offset: integers in range, nothing else (test_error_statuses
 * has limit=101 and offset=10001). */
static void test_limit_offset_out_of_range(void **state) {
  (void)state;
  static const char *const bad[] = {
      "/api/search?q=x&limit=0",         "/api/search?q=x&limit=-1",
      "/api/search?q=x&limit=1e2",       "/api/search?q=x&limit=99999999999999999999999",
      "/api/search?q=x&limit=abc",       "/api/search?q=x&limit=%2B5",
      "/api/search?q=x&limit=%205",      "/api/search?q=x&limit=5x",
      "/api/search?q=x&offset=-1",       "/api/search?q=x&offset=1.5",
      "/api/search?q=x&offset=18446744073709551616", "/api/similar?id=a/printing/paper-jam&limit=0",
      "/api/similar?id=a/printing/paper-jam&limit=101", "/search?q=x&offset=10001",
      "/search?q=x&offset=-10"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    kb_buf body = {0};
    int st = tu_http(g_port, "GET", bad[i], NULL, NULL, &body);
    if (st != 400) fprintf(stderr, "GET %s: %d\n", bad[i], st);
    assert_int_equal(st, 400);
    kb_buf_free(&body);
  }
  /* the edges are fine */
  int st;
  json_t *j = get_json("/api/search?q=%E6%9C%8D%E5%8A%A1%E5%99%A8&limit=100&offset=10000", NULL, &st);
  assert_int_equal(st, 200);
  assert_int_equal(json_array_size(hits_of(j)), 0);
  json_decref(j);
}

/* Paths that climb out, however they are written, open nothing but
 * documents of the index (404 here), never a file. */
static void test_traversal_variants(void **state) {
  (void)state;
  static const char *const paths[] = {
      "/a/../../../../etc/passwd", "/a/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
      "/a/..%2f..%2f..%2fetc%2fpasswd", "/a/%252e%252e/%252e%252e/etc/passwd",
      "/a/....//....//etc/passwd", "/a/..\\..\\..\\etc\\passwd",
      "/a/..%5c..%5cetc%5cpasswd", "/t/../../etc/passwd", "/a//etc/passwd",
      "/a/%c0%ae%c0%ae/etc/passwd", "/api/docs/../../../etc/passwd",
      "/api/docs/a/%2e%2e/%2e%2e/etc/passwd", "/api/docs/%2fetc%2fpasswd",
      "/api/similar?id=../../etc/passwd", "/../../etc/passwd", "/a/printing/../../../README.md",
      "/a/" INTERNAL_ID "/../../a/printing/printer-offline", "/static/../../etc/passwd"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    kb_buf body = {0};
    int st = tu_http(g_port, "GET", paths[i], NULL, NULL, &body);
    if (st != 404 && st != 400) fprintf(stderr, "GET %s: %d\n", paths[i], st);
    assert_true(st == 404 || st == 400);
    assert_false(tu_contains(body.data, "root:"));
    assert_false(tu_contains(body.data, "kb-serve")); /* no file of ours either */
    assert_false(tu_contains(body.data, INTERNAL_WORD));
    kb_buf_free(&body);
  }
}

/* Every endpoint answers the methods it takes only: 405 for the rest. */
static void test_wrong_methods(void **state) {
  (void)state;
  static const char *const paths[] = {"/api/search?q=x", "/api/docs/a/printing/paper-jam",
                                      "/api/similar?id=a/printing/paper-jam", "/api/suggest?q=x",
                                      "/api/tickets", "/api/gaps", "/healthz", "/metrics", "/",
                                      "/search?q=x", "/a/printing/paper-jam"};
  static const char *const methods[] = {"PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
                                        "FOO"};
  for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++)
    for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
      kb_buf req = {0}, out = {0};
      kb_buf_printf(&req, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n", methods[m],
                    paths[p], ADMIN);
      int st = raw_request(g_port, req.data, req.len, &out);
      if (st != 405) fprintf(stderr, "%s %s: %d\n", methods[m], paths[p], st);
      assert_int_equal(st, 405);
      kb_buf_free(&req);
      kb_buf_free(&out);
    }
  /* POST where only GET is taken, and GET where only POST is */
  static const char *const get_only[] = {"/api/search?q=x", "/api/suggest?q=x", "/api/gaps",
                                         "/healthz", "/metrics", "/", "/search?q=x",
                                         "/a/printing/paper-jam", "/api/docs/a/printing/paper-jam"};
  for (size_t p = 0; p < sizeof get_only / sizeof get_only[0]; p++)
    assert_int_equal(tu_http(g_port, "POST", get_only[p], ADMIN, "x", NULL), 405);
  assert_int_equal(tu_http(g_port, "GET", "/api/tickets", ADMIN, NULL, NULL), 405);
}

/* Reads one answer on fd within secs: its status, 0 when none came. */
static int read_status(int fd, int secs) {
  struct timeval tv = {.tv_sec = secs};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[64] = "";
  ssize_t n = read(fd, buf, sizeof buf - 1);
  return n > 12 ? atoi(buf + 9) : 0;
}

/* More connections than the limit: the one over it waits, unanswered
 * (libmicrohttpd leaves it in the listen queue), while those held are
 * served; once a slot is free it is served too. */
static void test_connection_limit(void **state) {
  (void)state;
  char bin[1024], listen[] = "127.0.0.1:0";
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-serve"));
  char *argv[] = {bin, "--db", g_db, "--listen", listen, "--threads", "1", "--max-connections",
                  "4", NULL};
  int port = tu_start_server(argv, &g_second);
  assert_true(port > 0);
  int held[4];
  for (int i = 0; i < 4; i++) {
    char src[32];
    snprintf(src, sizeof src, "127.0.0.%d", 20 + i); /* other addresses: not the per-address limit */
    held[i] = tu_connect_from(src, port);
    assert_true(held[i] >= 0);
  }
  usleep(200000); /* accepted by the server */
  const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  int fifth = tu_connect(port);
  assert_true(fifth >= 0);
  assert_int_equal(write(fifth, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
  assert_int_equal(read_status(fifth, 1), 0); /* over the limit: not taken */
  assert_int_equal(write(held[1], req, sizeof req - 1), (ssize_t)(sizeof req - 1));
  assert_int_equal(read_status(held[1], 5), 200); /* a held one is served */
  assert_int_equal(read_status(fifth, 5), 200); /* and its slot goes to the fifth */
  close(fifth);
  for (int i = 0; i < 4; i++) close(held[i]);
  assert_int_equal(stop_second(), 0);
}

/* ------------------------------------------------------------- tokens */

#define REVOKED "Authorization: Bearer revoked-engineer-token-0123\r\n"

typedef struct endpoint_case {
  const char *method, *path, *body;
  int public_status; /* what a reader without a valid token gets */
} endpoint_case;

/* Every endpoint, asked for internal things: an internal document by id,
 * its words, the admin's endpoints. */
static const endpoint_case endpoint_cases[] = {
    {"GET", "/api/search?q=" INTERNAL_WORD "%20hxsupport&limit=100", NULL, 200},
    {"GET", "/api/docs/" INTERNAL_ID, NULL, 404},
    {"GET", "/api/similar?id=" INTERNAL_ID, NULL, 404},
    {"GET", "/api/similar?id=a/database/ora-12170-connect-timeout&limit=100", NULL, 200},
    {"POST", "/api/similar?limit=100", INTERNAL_WORD " hxsupport 诊断 账号", 200},
    {"GET", "/api/suggest?q=undopr", NULL, 200},
    {"GET", "/api/suggest?q=hxsupp", NULL, 200},
    {"POST", "/api/tickets", "{\"id\":\"TK-1\",\"title\":\"token probe\"}\n", 401},
    {"GET", "/api/gaps", NULL, 401},
    {"GET", "/healthz", NULL, 200},
    {"GET", "/metrics", NULL, 200},
    {"GET", "/", NULL, 200},
    {"GET", "/search?q=" INTERNAL_WORD "%20hxsupport", NULL, 200},
    {"GET", "/" INTERNAL_ID, NULL, 404},
    {"GET", "/a/database/ora-01555-snapshot-too-old", NULL, 200},
};

/* A missing token, wrong ones (unknown, a prefix, a longer one, another
 * scheme, a NUL-free trick with a space) and a revoked one: on every
 * endpoint the answer is the public one and holds nothing internal. */
static void test_tokens_on_every_endpoint(void **state) {
  (void)state;
  char tokens[1100];
  snprintf(tokens, sizeof tokens, "%s/every-tokens", g_tmp);
  tu_write_str(tokens, "engineer-token-0123456789 engineer\nrevoked-engineer-token-0123 engineer\n");
  int port = start_second("--tokens", tokens);
  assert_true(port > 0);
  /* the revoked one works before it is revoked: the test means something */
  kb_buf body = {0};
  assert_int_equal(tu_http(port, "GET", "/api/docs/" INTERNAL_ID, REVOKED, NULL, &body), 200);
  tu_write_str(tokens, "engineer-token-0123456789 engineer\n");
  kill(g_second, SIGHUP);
  int st = 0;
  for (int i = 0; i < 100 && st != 404; i++) {
    kb_buf_reset(&body);
    st = tu_http(port, "GET", "/api/docs/" INTERNAL_ID, REVOKED, NULL, &body);
    if (st != 404) usleep(50000);
  }
  assert_int_equal(st, 404);
  static const char *const auths[] = {
      NULL, "Authorization: Bearer wrong-token-0123456789abc\r\n",
      "Authorization: Bearer engineer-token-012345678\r\n",    /* a prefix */
      "Authorization: Bearer engineer-token-0123456789x\r\n",  /* longer */
      "Authorization: Basic engineer-token-0123456789\r\n",    /* another scheme */
      "Authorization: bearer engineer-token-0123456789\r\n",   /* the scheme's case */
      "Authorization: Bearer  engineer-token-0123456789\r\n",  /* two spaces */
      "Authorization: Bearer\r\n", "Authorization: Bearer engineer-token-0123456789%00\r\n",
      "X-Authorization: Bearer engineer-token-0123456789\r\n", REVOKED};
  for (size_t a = 0; a < sizeof auths / sizeof auths[0]; a++)
    for (size_t e = 0; e < sizeof endpoint_cases / sizeof endpoint_cases[0]; e++) {
      const endpoint_case *c = &endpoint_cases[e];
      kb_buf_reset(&body);
      st = tu_http(port, c->method, c->path, auths[a], c->body, &body);
      /* internal text that no request holds: the internal article's id
       * and words, the internal section of a public one */
      if (st != c->public_status || tu_contains(body.data, INTERNAL_ID) ||
          tu_contains(body.data, "严禁转发给客户") || tu_contains(body.data, "hx_diag_") ||
          tu_contains(body.data, "保险柜") || tu_contains(body.data, "{internal}") ||
          tu_contains(body.data, "\"hxsupport") || tu_contains(body.data, INTERNAL_WORD "\""))
        fail_msg("%s %s with %s: %d (want %d): %.300s", c->method, c->path,
                 auths[a] ? auths[a] : "no token", st, c->public_status, body.data);
    }
  /* and the valid token still sees what the others did not */
  kb_buf_reset(&body);
  assert_int_equal(tu_http(port, "GET", "/api/docs/" INTERNAL_ID, ENGINEER, NULL, &body), 200);
  assert_true(tu_contains(body.data, "严禁转发给客户"));
  kb_buf_free(&body);
  assert_int_equal(stop_second(), 0);
}

/* ----------------------------------------------------- what the public sees */

static void test_public_never_sees_internal(void **state) {
  (void)state;
  /* search: hits, totals, facets */
  json_t *pub = search(INTERNAL_WORD, NULL, NULL);
  assert_int_equal(json_integer_value(json_object_get(pub, "total")), 0);
  assert_int_equal(json_object_size(json_object_get(json_object_get(pub, "facets"), "type")), 0);
  json_decref(pub);
  /* a public article found by its title: its snippet has no internal text
   * (it has no public text to cut one from) */
  pub = search("zorblax", NULL, NULL);
  assert_int_equal(json_integer_value(json_object_get(pub, "total")), 1);
  char *text = json_dumps(pub, 0);
  assert_false(tu_contains(text, INTERNAL_WORD));
  assert_false(tu_contains(text, "{internal}"));
  free(text);
  json_decref(pub);
  json_t *eng = search(INTERNAL_WORD, NULL, ENGINEER);
  assert_true(json_integer_value(json_object_get(eng, "total")) >= 1);
  json_decref(eng);
  pub = search("hxsupport 诊断 账号", "&limit=100", NULL);
  assert_false(has_id(pub, INTERNAL_ID));
  json_decref(pub);
  eng = search("hxsupport 诊断 账号", "&limit=100", ENGINEER);
  assert_true(has_id(eng, INTERNAL_ID));
  json_decref(eng);
  /* documents by id */
  int st;
  json_t *d = get_json("/api/docs/" INTERNAL_ID, NULL, &st);
  assert_int_equal(st, 404);
  json_decref(d);
  d = get_json("/api/docs/" INTERNAL_ID, ENGINEER, &st);
  assert_int_equal(st, 200);
  assert_true(json_string_length(json_object_get(d, "html")) > 0);
  json_decref(d);
  /* an internal section of a public article: not in the public html */
  d = get_json("/api/docs/a/database/ora-01555-snapshot-too-old", NULL, &st);
  assert_int_equal(st, 200);
  assert_false(tu_contains(json_string_value(json_object_get(d, "html")), INTERNAL_WORD));
  /* nor in any field: the Markdown source holds the section */
  char *all = json_dumps(d, 0);
  assert_false(tu_contains(all, INTERNAL_WORD));
  assert_null(json_object_get(d, "body"));
  free(all);
  json_decref(d);
  d = get_json("/api/docs/a/database/ora-01555-snapshot-too-old", ENGINEER, &st);
  assert_true(tu_contains(json_string_value(json_object_get(d, "html")), INTERNAL_WORD));
  assert_false(tu_contains(json_string_value(json_object_get(d, "html")), "{internal}"));
  json_decref(d);
  /* similar */
  d = get_json("/api/similar?id=" INTERNAL_ID, NULL, &st);
  assert_int_equal(st, 404);
  json_decref(d);
  d = get_json("/api/similar?id=a/database/ora-12170-connect-timeout&limit=100", NULL, &st);
  assert_int_equal(st, 200);
  assert_true(json_array_size(hits_of(d)) > 0);
  assert_false(has_id(d, INTERNAL_ID));
  assert_false(has_id(d, "a/database/ora-12170-connect-timeout"));
  json_decref(d);
  /* suggestions */
  d = get_json("/api/suggest?q=undopr", NULL, &st);
  assert_int_equal(json_array_size(json_object_get(d, "suggestions")), 0);
  json_decref(d);
  d = get_json("/api/suggest?q=hxsupp", NULL, &st);
  assert_int_equal(json_array_size(json_object_get(d, "suggestions")), 0);
  json_decref(d);
  d = get_json("/api/suggest?q=hxsupp", ENGINEER, &st);
  assert_true(json_array_size(json_object_get(d, "suggestions")) >= 1);
  json_decref(d);
  /* pages */
  kb_buf body = {0};
  assert_int_equal(tu_http(g_port, "GET", "/" INTERNAL_ID, NULL, NULL, &body), 404);
  kb_buf_reset(&body);
  assert_int_equal(tu_http(g_port, "GET", "/" INTERNAL_ID, ENGINEER, NULL, &body), 200);
  kb_buf_free(&body);
}

static void test_similar_text_and_suggest(void **state) {
  (void)state;
  kb_buf body = {0};
  assert_int_equal(tu_http(g_port, "POST", "/api/similar", NULL,
                           "客户说打印机显示脱机，打不出来", &body), 200);
  json_t *j = json_loads(body.data, 0, NULL);
  assert_true(has_id(j, "a/printing/printer-offline"));
  json_decref(j);
  kb_buf_free(&body);
  int st;
  j = get_json("/api/suggest?q=%E6%89%93%E5%8D%B0", NULL, &st); /* 打印 */
  json_t *s = json_object_get(j, "suggestions");
  bool found = false;
  for (size_t i = 0; i < json_array_size(s); i++)
    found |= strcmp(json_string_value(json_array_get(s, i)), "打印机") == 0;
  assert_true(found);
  json_decref(j);
  j = get_json("/api/suggest?q=ngin", NULL, &st);
  assert_string_equal(json_string_value(json_array_get(json_object_get(j, "suggestions"), 0)), "nginx");
  json_decref(j);
  /* the last word after an ideographic space */
  j = get_json("/api/suggest?q=%E6%89%93%E5%8D%B0%E6%9C%BA%E3%80%80ngin", NULL, &st);
  assert_string_equal(json_string_value(json_array_get(json_object_get(j, "suggestions"), 0)), "nginx");
  json_decref(j);
  /* a last word that folds to nothing (a soft hyphen) completes nothing */
  j = get_json("/api/suggest?q=%E6%89%93%E5%8D%B0%20%C2%AD", NULL, &st);
  assert_int_equal(st, 200);
  assert_int_equal(json_array_size(json_object_get(j, "suggestions")), 0);
  json_decref(j);
  expect_error("GET", "/api/suggest?q=%FF%FE", NULL, 400, "q");
}

static void test_did_you_mean(void **state) {
  (void)state;
  json_t *j = search("ngnix 502 gatway", NULL, NULL);
  assert_string_equal(json_string_value(json_object_get(j, "suggestion")), "nginx 502 gateway");
  assert_false(json_is_true(json_object_get(j, "corrected")));
  json_decref(j);
  j = search("nginx 502", NULL, NULL);
  assert_true(json_is_null(json_object_get(j, "suggestion")));
  json_decref(j);
  /* a query that finds nothing as typed is answered corrected, and says so */
  j = search("ngnix", NULL, NULL);
  assert_string_equal(json_string_value(json_object_get(j, "suggestion")), "nginx");
  assert_true(json_is_true(json_object_get(j, "corrected")));
  assert_true(json_integer_value(json_object_get(j, "total")) > 0);
  json_decref(j);
  kb_buf page = {0};
  assert_int_equal(tu_http(g_port, "GET", "/search?q=ngnix", NULL, NULL, &page), 200);
  assert_true(tu_contains(page.data, "以下是更正后的结果"));
  assert_false(tu_contains(page.data, "您是不是要找"));
  assert_true(tu_contains(page.data, "/a/appserver/nginx-502-bad-gateway"));
  kb_buf_free(&page);
  /* words of internal documents are never suggested */
  j = search("hxsuport", NULL, NULL);
  assert_true(json_is_null(json_object_get(j, "suggestion")));
  json_decref(j);
}

/* The gap report entry of query, or NULL. */
static json_t *gap_of(json_t *report, const char *query) {
  json_t *g = json_object_get(report, "gaps");
  for (size_t i = 0; i < json_array_size(g); i++)
    if (strcmp(json_string_value(json_object_get(json_array_get(g, i), "query")), query) == 0)
      return json_array_get(g, i);
  return NULL;
}

static void test_gaps_record_zero_results(void **state) {
  (void)state;
  json_decref(search("量子 纠缠 打印", "", NULL));
  json_decref(search("zzqqxx  QQZZYY", "", NULL));
  json_decref(search("zzqqxx qqzzyy", "", NULL));
  /* personal data is never kept */
  json_decref(search("zzqq 13912345678", "", NULL));
  json_decref(search("zzqq someone@example.com", "", NULL));
  /* in full-width forms or in groups, it is the same data */
  json_decref(search("zzqq １３９１２３４５６７８", "", NULL));
  json_decref(search("zzqq 139-1234-5678", "", NULL));
  json_decref(search("zzqq someone＠example.com", "", NULL));
  json_decref(search("zzqq 110105 19491231 002X", "", NULL));
  /* codes side by side are not a number of a person */
  json_decref(search("zzqq error 1603 1618 1722", "", NULL));
  int st;
  json_t *j = get_json("/api/gaps", ADMIN, &st);
  assert_int_equal(st, 200);
  json_t *e = gap_of(j, "zzqqxx qqzzyy");
  assert_non_null(e);
  assert_string_equal(json_string_value(json_object_get(e, "reason")), "no_results");
  assert_int_equal(json_integer_value(json_object_get(e, "count")), 2);
  assert_null(gap_of(j, "zzqq 13912345678"));
  assert_null(gap_of(j, "zzqq someone@example.com"));
  assert_null(gap_of(j, "zzqq 139-1234-5678"));
  assert_null(gap_of(j, "zzqq 110105 19491231 002x"));
  assert_non_null(gap_of(j, "zzqq error 1603 1618 1722"));
  /* nothing of them at all */
  char *all = json_dumps(j, 0);
  assert_false(tu_contains(all, "5678"));
  assert_false(tu_contains(all, "someone"));
  free(all);
  json_decref(j);
}

static void test_gaps_record_results_nobody_opened(void **state) {
  (void)state;
  /* found, not opened: a gap of another kind */
  kb_buf page = {0};
  assert_int_equal(tu_http(g_port, "GET", "/search?q=nginx%20502", NULL, NULL, &page), 200);
  int st;
  json_t *j = get_json("/api/gaps", ADMIN, &st);
  json_t *e = gap_of(j, "nginx 502");
  assert_non_null(e);
  assert_string_equal(json_string_value(json_object_get(e, "reason")), "no_click");
  json_decref(j);
  /* the results page links carry the query: opening one counts */
  const char *href = strstr(page.data, "<h2><a href=\"");
  assert_non_null(href);
  href += strlen("<h2><a href=\"");
  char link[512];
  size_t n = strcspn(href, "\"");
  assert_true(n < sizeof link);
  memcpy(link, href, n);
  link[n] = '\0';
  assert_true(tu_contains(link, "?q=nginx%20502"));
  /* the page escapes & in the href; the query is the last parameter */
  kb_buf doc = {0};
  assert_int_equal(tu_http(g_port, "GET", link, NULL, NULL, &doc), 200);
  j = get_json("/api/gaps", ADMIN, &st);
  assert_null(gap_of(j, "nginx 502"));
  json_decref(j);
  /* the JSON API: a document fetched with q counts for that query */
  json_decref(search("nginx 502 错误", "", NULL));
  j = get_json("/api/gaps", ADMIN, &st);
  assert_non_null(gap_of(j, "nginx 502 错误"));
  json_decref(j);
  kb_buf path = {0};
  kb_buf_puts(&path, "/api/docs/");
  kb_buf_append(&path, link + 1, strcspn(link + 1, "?"));
  kb_buf_puts(&path, "?q=");
  tu_urlencode("nginx 502 错误", &path);
  json_decref(get_json(path.data, NULL, &st));
  assert_int_equal(st, 200);
  j = get_json("/api/gaps", ADMIN, &st);
  assert_null(gap_of(j, "nginx 502 错误"));
  json_decref(j);
  kb_buf_free(&path);
  kb_buf_free(&page);
  kb_buf_free(&doc);
}

/* ------------------------------------------------------ health, metrics */

static void test_healthz_and_metrics(void **state) {
  (void)state;
  int st;
  json_t *j = get_json("/healthz", NULL, &st);
  assert_int_equal(st, 200);
  assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
  /* the public's documents only: an engineer's count holds the internal ones */
  json_int_t public_docs = json_integer_value(json_object_get(j, "docs"));
  assert_true(public_docs >= 50);
  assert_true(json_is_string(json_object_get(j, "last_commit")));
  json_decref(j);
  j = get_json("/healthz", ENGINEER, &st);
  assert_int_equal(st, 200);
  assert_true(json_integer_value(json_object_get(j, "docs")) >= 60);
  assert_true(json_integer_value(json_object_get(j, "docs")) > public_docs);
  json_decref(j);
  kb_buf body = {0};
  assert_int_equal(tu_http(g_port, "GET", "/metrics", NULL, NULL, &body), 200);
  assert_true(tu_contains(body.data, "kb_requests_total{endpoint=\"search\",status=\"200\"}"));
  assert_true(tu_contains(body.data, "kb_request_duration_seconds_bucket{le=\"+Inf\"}"));
  assert_true(tu_contains(body.data, "kb_documents{type=\"article\"}"));
  assert_true(tu_contains(body.data, "kb_rejected_requests_total"));
  assert_true(tu_contains(body.data, "kb_search_seconds_total "));
  kb_buf_free(&body);
}

/* ---------------------------------------------------------------- cache */

static bool cached(json_t *j) { return json_is_true(json_object_get(j, "cached")); }

/* The cache's hit count from /metrics. */
static unsigned long long cache_hits(void) {
  kb_buf body = {0};
  assert_int_equal(tu_http(g_port, "GET", "/metrics", NULL, NULL, &body), 200);
  const char *at = strstr(body.data, "kb_search_cache_total{result=\"hit\"} ");
  assert_non_null(at);
  unsigned long long n = strtoull(strchr(at, '}') + 2, NULL, 10);
  kb_buf_free(&body);
  return n;
}

/* The same search again is answered from the cache, the same answer; the
 * public and engineers never share one; a commit makes every answer new. */
static void test_cache(void **state) {
  (void)state;
  json_t *a = search("打印机 脱机 缓存", "&limit=3", NULL);
  json_t *b = search("打印机 脱机 缓存", "&limit=3", NULL);
  assert_false(cached(a));
  assert_true(cached(b));
  assert_true(json_equal(json_object_get(a, "hits"), json_object_get(b, "hits")));
  assert_true(json_equal(json_object_get(a, "facets"), json_object_get(b, "facets")));
  assert_int_equal(json_integer_value(json_object_get(a, "total")),
                   json_integer_value(json_object_get(b, "total")));
  assert_true(json_is_number(json_object_get(b, "took_ms")));
  json_decref(a);
  json_decref(b);
  /* another parameter is another search */
  a = search("打印机 脱机 缓存", "&limit=4", NULL);
  assert_false(cached(a));
  json_decref(a);
  /* whatever bytes a value holds: a product of the key's separators finds
   * nothing, and the search without a product is not answered by it */
  a = search("nginx 缓存键", "&product=%1E", NULL);
  assert_int_equal(json_integer_value(json_object_get(a, "total")), 0);
  json_decref(a);
  a = search("nginx 缓存键", "&product=%1F%1E", NULL);
  assert_false(cached(a));
  json_decref(a);
  a = search("nginx 缓存键", NULL, NULL);
  assert_false(cached(a));
  assert_true(json_integer_value(json_object_get(a, "total")) > 0);
  json_decref(a);
  /* the public's answer is not an engineer's (words no other test asks) */
  const char *q = INTERNAL_WORD " cachetestword";
  a = search(q, NULL, NULL);
  assert_int_equal(json_integer_value(json_object_get(a, "total")), 0);
  json_decref(a);
  a = search(q, NULL, ENGINEER);
  assert_false(cached(a));
  assert_true(json_integer_value(json_object_get(a, "total")) > 0);
  json_decref(a);
  a = search(q, NULL, NULL);
  assert_true(cached(a));
  assert_int_equal(json_integer_value(json_object_get(a, "total")), 0);
  json_decref(a);
  kb_buf body = {0};
  assert_int_equal(tu_http(g_port, "GET", "/metrics", NULL, NULL, &body), 200);
  assert_true(tu_contains(body.data, "kb_search_cache_total{result=\"hit\"}"));
  assert_false(tu_contains(body.data, "kb_search_cache_total{result=\"hit\"} 0\n"));
  kb_buf_free(&body);
  /* the results page is kept too: the same page again, from the cache */
  kb_buf page1 = {0}, page2 = {0}, path2 = {0};
  kb_buf_puts(&path2, "/search?q=");
  tu_urlencode("打印机 脱机 页面缓存", &path2);
  assert_int_equal(tu_http(g_port, "GET", path2.data, NULL, NULL, &page1), 200);
  unsigned long long before = cache_hits();
  assert_int_equal(tu_http(g_port, "GET", path2.data, NULL, NULL, &page2), 200);
  assert_int_equal(cache_hits(), before + 1);
  assert_string_equal(page1.data, page2.data);
  assert_true(tu_contains(page2.data, "网络打印机显示脱机"));
  kb_buf_free(&page1);
  kb_buf_free(&page2);
  kb_buf_free(&path2);
  /* a commit: the next answer is computed again */
  char path[1100];
  snprintf(path, sizeof path, "%s/cache.md", g_fixtures);
  tu_write_str(path, "---\ntitle: 缓存失效测试 capybarix\nproduct: os\n---\n\n打印机 脱机 缓存\n");
  assert_int_equal(run_index("add", path), 0);
  a = search("打印机 脱机 缓存", "&limit=3", NULL);
  assert_false(cached(a));
  json_decref(a);
}

/* ---------------------------------------------------------- live reload */

static void test_commit_seen_without_restart(void **state) {
  (void)state;
  json_t *j = search("zebracorn", NULL, NULL);
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 0);
  json_decref(j);
  char path[1100];
  snprintf(path, sizeof path, "%s/live.md", g_fixtures);
  tu_write_str(path, "---\ntitle: zebracorn 新增文章\nproduct: os\n---\n\nzebracorn 测试\n");
  assert_int_equal(run_index("add", path), 0);
  j = search("zebracorn", NULL, NULL);
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
  json_decref(j);
  kb_buf body = {0};
  assert_int_equal(tu_http(g_port, "GET", "/metrics", NULL, NULL, &body), 200);
  assert_false(tu_contains(body.data, "kb_index_reloads_total 0\n"));
  kb_buf_free(&body);
  /* a sharded import swaps in a new index folder: seen too, with all that
   * was there before */
  snprintf(path, sizeof path, "%s/live-tickets.jsonl", g_fixtures);
  tu_write_str(path, "{\"id\":\"L-1\",\"title\":\"okapiwarn 告警\",\"resolution\":\"清理日志\"}\n"
                     "{\"id\":\"L-2\",\"title\":\"okapiwarn 复现\",\"resolution\":\"升级\","
                     "\"visibility\":\"public\",\"customer\":\"张三 13800138000\"}\n");
  char bin[1024];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-index"));
  char *argv[] = {bin, "--db", g_db, "import", "--progress", "never", "--shards", "2", path, NULL};
  assert_int_equal(tu_run(argv, NULL, NULL), 0);
  j = search("okapiwarn", NULL, ENGINEER);
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 2);
  json_decref(j);
  /* a public ticket: its customer is for engineers only */
  int st;
  j = get_json("/api/docs/t/L-2", NULL, &st);
  assert_int_equal(st, 200);
  assert_null(json_object_get(j, "customer"));
  json_decref(j);
  j = get_json("/api/docs/t/L-2", ENGINEER, &st);
  assert_string_equal(json_string_value(json_object_get(j, "customer")), "张三 13800138000");
  json_decref(j);
  j = search("zebracorn", NULL, NULL);
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
  json_decref(j);
  /* the user's synonyms, stored while the server runs, apply at once */
  j = search("quaggaword", NULL, NULL);
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 0);
  json_decref(j);
  snprintf(path, sizeof path, "%s/synonyms.txt", g_tmp);
  tu_write_str(path, "quaggaword = zebracorn\n");
  char *syn[] = {bin, "--db", g_db, "--synonyms", path, NULL};
  assert_int_equal(tu_run(syn, NULL, NULL), 0);
  j = search("quaggaword", NULL, NULL);
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
  json_decref(j);
}

/* -------------------------------------------------------------- tickets */

static void test_post_tickets(void **state) {
  (void)state;
  const char *body =
      "{\"id\":\"S-1\",\"title\":\"quokkafix 故障\",\"problem\":\"客户的 quokkafix 服务无法启动\","
      "\"resolution\":\"重装后恢复\",\"priority\":\"高\"}\n"
      "{\"id\":\"S-2\",\"title\":\"公开的 quokkafix 说明\",\"visibility\":\"public\"}\n"
      "not json\n"
      "{\"id\":\"S-3\",\"title\":\"x\",\"priority\":\"P7\"}\n"
      /* a bad value quoted in part, cut inside a character */
      "{\"id\":\"S-4\",\"title\":\"x\",\"priority\":\"优先级优先级优先级优先级优先级\"}\n";
  kb_buf out = {0};
  assert_int_equal(tu_http(g_port, "POST", "/api/tickets", NULL, body, &out), 401);
  kb_buf_reset(&out);
  assert_int_equal(tu_http(g_port, "POST", "/api/tickets", ENGINEER, body, &out), 403);
  kb_buf_reset(&out);
  assert_int_equal(tu_http(g_port, "GET", "/api/tickets", ADMIN, NULL, &out), 405);
  kb_buf_reset(&out);
  assert_int_equal(tu_http(g_port, "POST", "/api/tickets", ADMIN, body, &out), 200);
  json_t *j = json_loads(out.data, 0, NULL);
  assert_int_equal(json_integer_value(json_object_get(j, "imported")), 2);
  assert_int_equal(json_integer_value(json_object_get(j, "updated")), 0);
  json_t *rej = json_object_get(j, "rejected");
  assert_int_equal(json_array_size(rej), 3);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(rej, 0), "line")), 3);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(rej, 1), "line")), 4);
  assert_true(tu_contains(json_string_value(json_object_get(json_array_get(rej, 1), "error")), "priority"));
  assert_int_equal(json_integer_value(json_object_get(json_array_get(rej, 2), "line")), 5);
  assert_true(tu_contains(json_string_value(json_object_get(json_array_get(rej, 2), "error")), "优先级优先级"));
  json_decref(j);
  /* engineers find both at once; the public only the public one */
  json_t *eng = search("quokkafix", NULL, ENGINEER);
  assert_int_equal(json_integer_value(json_object_get(eng, "total")), 2);
  json_decref(eng);
  json_t *pub = search("quokkafix", NULL, NULL);
  assert_int_equal(json_integer_value(json_object_get(pub, "total")), 1);
  assert_string_equal(first_id(pub), "t/S-2");
  json_decref(pub);
  /* the same body again changes nothing */
  kb_buf_reset(&out);
  assert_int_equal(tu_http(g_port, "POST", "/api/tickets", ADMIN, body, &out), 200);
  j = json_loads(out.data, 0, NULL);
  assert_int_equal(json_integer_value(json_object_get(j, "unchanged")), 2);
  json_decref(j);
  /* a body over the limit */
  kb_buf big = {0};
  for (int i = 0; i < 120000; i++) kb_buf_puts(&big, "{\"id\":\"x\"}\n");
  kb_buf_reset(&out);
  assert_int_equal(tu_http(g_port, "POST", "/api/tickets", ADMIN, big.data, &out), 413);
  kb_buf_free(&big);
  kb_buf_free(&out);
}

/* An id with a space, %, # or ? is kept, and every link to it is encoded,
 * so that it opens its own page; an id that cannot make a link is
 * refused with its line and field. */
static void test_ids_in_links(void **state) {
  (void)state;
  const char *body = "{\"id\":\"L 5#x%3F?\",\"title\":\"wobbleprint 链接\",\"visibility\":\"public\"}\n"
                     "{\"id\":\"..\",\"title\":\"wobbleprint dots\",\"visibility\":\"public\"}\n"
                     "{\"id\":\"evil\u202Etxt.exe\",\"title\":\"wobbleprint\",\"visibility\":\"public\"}\n";
  kb_buf out = {0};
  assert_int_equal(tu_http(g_port, "POST", "/api/tickets", ADMIN, body, &out), 200);
  json_t *j = json_loads(out.data, 0, NULL);
  assert_int_equal(json_integer_value(json_object_get(j, "imported")), 1);
  json_t *rej = json_object_get(j, "rejected");
  assert_int_equal(json_array_size(rej), 2);
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rej, i), "line")), (json_int_t)i + 2);
    assert_true(strncmp(json_string_value(json_object_get(json_array_get(rej, i), "error")), "id: ", 4) == 0);
  }
  json_decref(j);
  j = search("wobbleprint", NULL, NULL);
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
  json_t *hit = json_array_get(hits_of(j), 0);
  assert_string_equal(json_string_value(json_object_get(hit, "id")), "t/L 5#x%3F?");
  const char *url = json_string_value(json_object_get(hit, "url"));
  assert_string_equal(url, "/t/L%205%23x%253F%3F");
  kb_buf page = {0};
  assert_int_equal(tu_http(g_port, "GET", url, NULL, NULL, &page), 200); /* the link works */
  assert_true(tu_contains(page.data, "wobbleprint 链接"));
  json_decref(j);
  kb_buf_reset(&page);
  assert_int_equal(tu_http(g_port, "GET", "/search?q=wobbleprint", NULL, NULL, &page), 200);
  assert_true(tu_contains(page.data, "href=\"/t/L%205%23x%253F%3F?q=wobbleprint\""));
  kb_buf_free(&page);
  kb_buf_free(&out);
}

/* ---------------------------------------------------------------- pages */

static void test_pages(void **state) {
  (void)state;
  kb_buf body = {0};
  assert_int_equal(tu_http(g_port, "GET", "/", NULL, NULL, &body), 200);
  assert_true(tu_contains(body.data, "<form"));
  kb_buf_reset(&body);
  kb_buf path = {0};
  kb_buf_puts(&path, "/search?q=");
  tu_urlencode("数据库 诊断 账号 hxsupport 打印机 脱机", &path);
  assert_int_equal(tu_http(g_port, "GET", path.data, NULL, NULL, &body), 200);
  assert_true(tu_contains(body.data, "网络打印机显示脱机无法打印的处理方法"));
  assert_true(tu_contains(body.data, "href=\"/a/printing/printer-offline?q=%E6%95%B0"));
  assert_false(tu_contains(body.data, INTERNAL_ID));
  kb_buf_reset(&body);
  /* the query is escaped where it is echoed */
  assert_int_equal(tu_http(g_port, "GET", "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", NULL, NULL, &body), 200);
  assert_false(tu_contains(body.data, "<script>alert(1)"));
  assert_true(tu_contains(body.data, "&lt;script&gt;"));
  kb_buf_reset(&body);
  /* an article with raw HTML and a javascript: link renders inert */
  assert_int_equal(tu_http(g_port, "GET", "/a/evil", NULL, NULL, &body), 200);
  assert_true(tu_contains(body.data, "安全测试"));
  assert_false(tu_contains(body.data, "<script>alert"));
  assert_false(tu_contains(body.data, "javascript:"));
  assert_false(tu_contains(body.data, "onerror="));
  kb_buf_reset(&body);
  /* pagination links */
  assert_int_equal(tu_http(g_port, "GET", "/search?q=%E6%9C%8D%E5%8A%A1%E5%99%A8", NULL, NULL, &body), 200);
  assert_true(tu_contains(body.data, "offset=10"));
  assert_false(tu_contains(body.data, "did you mean"));
  kb_buf_reset(&body);
  /* "did you mean" links to the corrected query: ngnix is nginx, 打印积 打印机 */
  kb_buf_reset(&path);
  kb_buf_puts(&path, "/search?q=");
  tu_urlencode("ngnix 打印积", &path);
  assert_int_equal(tu_http(g_port, "GET", path.data, NULL, NULL, &body), 200);
  assert_true(tu_contains(body.data, "did you mean): <a href=\"/search?q=nginx%20%E6%89%93%E5%8D%B0%E6%9C%BA"));
  assert_true(tu_contains(body.data, ">nginx 打印机</a>"));
  kb_buf_free(&body);
  kb_buf_free(&path);
}

/* ------------------------------------------------------- a real browser */

#define CHROMIUM "/usr/bin/chromium-headless-shell"

/* The DOM of the page at path as headless Chromium has it once loaded (its
 * scripts, if any could run, run), into dom. */
static void browse(const char *path, kb_buf *dom) {
  if (access(CHROMIUM, X_OK) != 0) fail_msg("%s is missing (make deps installs it)", CHROMIUM);
  char url[2048], profile[1100];
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", g_port, path);
  snprintf(profile, sizeof profile, "--user-data-dir=%s/chromium", g_fixtures);
  char *argv[] = {"/usr/bin/timeout", "60", CHROMIUM, "--no-sandbox", "--disable-gpu",
                  "--no-first-run", profile, "--virtual-time-budget=2000", "--dump-dom", url,
                  NULL};
  kb_buf err = {0};
  int rc = tu_run(argv, dom, &err);
  if (rc != 0) fail_msg("chromium exited %d: %s", rc, err.data);
  kb_buf_free(&err);
}

static void test_pages_in_a_browser(void **state) {
  (void)state;
  /* a Chinese query finds its article, marked, and nothing internal */
  kb_buf dom = {0}, path = {0};
  kb_buf_puts(&path, "/search?q=");
  tu_urlencode("打印机 脱机", &path);
  browse(path.data, &dom);
  assert_true(tu_contains(dom.data, "网络打印机显示脱机无法打印的处理方法"));
  assert_true(tu_contains(dom.data, "<mark>打印机</mark>"));
  assert_true(tu_contains(dom.data, "action=\"/search\""));
  assert_false(tu_contains(dom.data, INTERNAL_ID));
  kb_buf_reset(&dom);
  /* the article with a script, an onerror and a javascript: link: nothing
   * runs (each would have changed the page) and no link leads to script */
  browse("/a/evil", &dom);
  assert_true(tu_contains(dom.data, "<title>安全测试 script"));
  assert_false(tu_contains(dom.data, "pwned"));
  assert_false(tu_contains(dom.data, "<script"));
  assert_false(tu_contains(dom.data, "javascript:"));
  kb_buf_reset(&dom);
  /* a query that is markup is shown as text */
  browse("/search?q=%3Cimg%20src%3Dx%20onerror%3Ddocument.title%3D1%3E", &dom);
  assert_false(tu_contains(dom.data, "<img"));
  assert_true(tu_contains(dom.data, "&lt;img src=x"));
  kb_buf_free(&dom);
  kb_buf_free(&path);
}

/* ----------------------------------------------------------- concurrency */

typedef struct hammer_arg {
  int id;
  int failures;
} hammer_arg;

static void *hammer(void *p) {
  hammer_arg *a = p;
  static const char *const queries[] = {"打印机 脱机", "ORA-12170", "nginx 502", "数据库 连接 超时",
                                        "shujuku", "VPN 连不上", "蓝屏", INTERNAL_WORD,
                                        "ngnix 502 gatway", "\"备份任务\" -磁带", "印表機", "sjk"};
  size_t nq = sizeof queries / sizeof queries[0];
  for (int i = 0; i < 60; i++) {
    const char *q = queries[(size_t)(i + a->id * 5) % nq];
    kb_buf path = {0};
    int kind = (i + a->id) % 4;
    kb_buf_puts(&path, kind == 3 ? "/api/suggest?q=" : "/api/search?q=");
    tu_urlencode(q, &path);
    if (kind == 1) kb_buf_printf(&path, "&offset=%d&limit=5", i % 3 * 5);
    if (kind == 2) kb_buf_puts(&path, "&sort=date&type=article");
    int st = tu_http(g_port, "GET", path.data, i % 2 ? ENGINEER : NULL, NULL, NULL);
    a->failures += st != 200;
    kb_buf_free(&path);
  }
  return NULL;
}

/* Four clients at once on the two worker threads, searches, pages, date
 * order and suggestions, the public and engineers: every answer is a 200
 * and the server is still running (teardown then checks it stops cleanly). */
static void test_concurrent_requests(void **state) {
  (void)state;
  pthread_t t[4];
  hammer_arg args[4] = {{0, 0}, {1, 0}, {2, 0}, {3, 0}};
  for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&t[i], NULL, hammer, &args[i]), 0);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < 4; i++) assert_int_equal(args[i].failures, 0);
  int status;
  assert_int_equal(waitpid(g_pid, &status, WNOHANG), 0);
}

/* ----------------------------------------------------------- rate limit */

static void test_access_log(void **state) {
  (void)state;
  /* a second server on the same index, logging to a file */
  char log[1100];
  snprintf(log, sizeof log, "%s/access.log", g_tmp);
  int port = start_second("--access-log", log);
  assert_true(port > 0);
  kb_buf body = {0};
  assert_int_equal(tu_http(port, "GET", "/healthz", NULL, NULL, &body), 200);
  kb_buf_reset(&body);
  /* a path that decodes to a line break and a forged line of its own */
  assert_int_equal(tu_http(port, "GET", "/a/x%0A2099-01-01T00:00:00Z%20evil%20GET%20/admin%20200",
                           NULL, NULL, &body),
                   404);
  kb_buf_free(&body);
  assert_int_equal(stop_second(), 0);
  kb_buf text = {0};
  assert_int_equal(tu_read_file(log, &text), 0);
  /* one line a request: time, client, method, path, status, bytes, us */
  int lines = 0;
  for (char *line = strtok(text.data, "\n"); line; line = strtok(NULL, "\n"), lines++) {
    char when[64], client[64], method[16], path[512];
    unsigned status;
    size_t bytes;
    long long us;
    char rest;
    int n = sscanf(line, "%63s %63s %15s %511s %u %zu %lld %c", when, client, method, path, &status,
                   &bytes, &us, &rest);
    if (n != 7) fail_msg("not a log line of 7 fields: %s", line);
    assert_string_equal(client, "127.0.0.1");
    assert_string_equal(method, "GET");
    if (lines == 0) {
      assert_string_equal(path, "/healthz");
      assert_int_equal(status, 200);
      assert_true(bytes > 0);
    } else {
      assert_true(tu_contains(path, "%0A2099-01-01T00:00:00Z%20evil"));
      assert_int_equal(status, 404);
    }
  }
  assert_int_equal(lines, 2);
  kb_buf_free(&text);
}

/* The status of GET /api/gaps with token, asked until it is want (a
 * signal is handled apart from requests) or 5 s have passed. */
static int gaps_status(int port, const char *token, int want) {
  char header[128];
  snprintf(header, sizeof header, "Authorization: Bearer %s\r\n", token);
  int st = 0;
  /* up to 30 s: a SIGHUP is handled soon, but a loaded machine (the
   * sanitizer build beside other work) can take seconds */
  for (int i = 0; i < 600; i++) {
    kb_buf body = {0};
    st = tu_http(port, "GET", "/api/gaps", header, NULL, &body);
    kb_buf_free(&body);
    if (st == want) break;
    usleep(50000);
  }
  return st;
}

static void test_sighup_rereads_tokens(void **state) {
  (void)state;
  char tokens[1100];
  snprintf(tokens, sizeof tokens, "%s/hup-tokens", g_tmp);
  tu_write_str(tokens, "old-admin-token-0123456789 admin\n");
  int port = start_second("--tokens", tokens);
  assert_true(port > 0);
  assert_int_equal(gaps_status(port, "old-admin-token-0123456789", 200), 200);
  /* a file with a bad line changes nothing */
  tu_write_str(tokens, "new-admin-token-0123456789 admin\nshort admin\n");
  kill(g_second, SIGHUP);
  usleep(200000);
  assert_int_equal(gaps_status(port, "old-admin-token-0123456789", 200), 200);
  assert_int_equal(gaps_status(port, "new-admin-token-0123456789", 401), 401);
  /* a good one replaces the tokens */
  tu_write_str(tokens, "new-admin-token-0123456789 admin\n");
  kill(g_second, SIGHUP);
  assert_int_equal(gaps_status(port, "new-admin-token-0123456789", 200), 200);
  assert_int_equal(gaps_status(port, "old-admin-token-0123456789", 401), 401);
  /* a file that is gone revokes every token (fail closed) */
  assert_int_equal(unlink(tokens), 0);
  kill(g_second, SIGHUP);
  assert_int_equal(gaps_status(port, "new-admin-token-0123456789", 401), 401);
  assert_int_equal(stop_second(), 0);
}

static void test_connections_per_address(void **state) {
  (void)state;
  /* a second server that takes two connections from one address */
  int port = start_second("--max-connections-per-ip", "2");
  assert_true(port > 0);
  int a = tu_connect(port), b = tu_connect(port); /* idle */
  assert_true(a >= 0 && b >= 0);
  usleep(200000); /* accepted by the server */
  kb_buf body = {0};
  assert_int_equal(tu_http(port, "GET", "/healthz", NULL, NULL, &body), 0); /* a third: closed */
  close(a);
  close(b);
  int st = 0;
  for (int i = 0; i < 50 && st != 200; i++) { /* the server sees them go */
    usleep(50000);
    kb_buf_reset(&body);
    st = tu_http(port, "GET", "/healthz", NULL, NULL, &body);
  }
  assert_int_equal(st, 200);
  kb_buf_free(&body);
  assert_int_equal(stop_second(), 0);
}

static void test_rate_limit_429(void **state) {
  (void)state;
  /* a second server on the same index, 5 requests a second per address */
  int port = start_second("--rate-limit", "5");
  assert_true(port > 0);
  int ok = 0, limited = 0;
  for (int i = 0; i < 30; i++) {
    kb_buf body = {0};
    int st = tu_http(port, "GET", "/healthz", NULL, NULL, &body);
    ok += st == 200;
    if (st == 429) {
      limited++;
      assert_true(tu_contains(body.data, "too_many_requests"));
    }
    kb_buf_free(&body);
  }
  assert_true(ok >= 10);   /* the burst */
  assert_true(limited > 0);
  assert_int_equal(ok + limited, 30);
  assert_int_equal(stop_second(), 0);
}

/* --------------------------------------------------------- slow clients */

#define SLOW_ADDRS 5
#define SLOW_FLOOD 520   /* 104 an address, under the default 128; over the 512 limit */
#define SLOW_TRICKLE 400 /* under the 448 above which the slowest are closed */
#define SLOW_DEADLINE 2  /* --request-timeout of the test's server, seconds */
#define SLOW_SLACK 3.0   /* what closing may take beyond it: sweeps, our polling, load */

static double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct healthz_probe {
  int port;
  volatile int stop;
  int asked, answered;
  double worst; /* seconds */
} healthz_probe;

/* GET /healthz from 127.0.0.7 again and again while the slow clients
 * hold their connections; an answer must come within 5 s. */
static void *probe_healthz(void *p) {
  healthz_probe *h = p;
  while (!h->stop) {
    double t0 = mono_now();
    int fd = tu_connect_from("127.0.0.7", h->port);
    int st = 0;
    if (fd >= 0) {
      struct timeval tv = {.tv_sec = 5};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
      if (write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1)) {
        char buf[64] = "";
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n > 12) st = atoi(buf + 9);
      }
      close(fd);
    }
    double took = mono_now() - t0;
    h->asked++;
    h->answered += st == 200;
    if (took > h->worst) h->worst = took;
    usleep(200000);
  }
  return NULL;
}

typedef struct slow_conn {
  int fd;
  double opened;
  size_t sent;
} slow_conn;

static void slow_open(slow_conn *c, int i, int port) {
  char src[32];
  snprintf(src, sizeof src, "127.0.0.%d", 2 + i % SLOW_ADDRS);
  c->fd = tu_connect_from(src, port);
  c->opened = mono_now();
  c->sent = 0;
}

/* One more byte of a request that never ends: a request line, then a
 * header whose value goes on for ever. */
static void slow_trickle(slow_conn *c) {
  static const char head[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  char byte = c->sent < sizeof head - 1 ? head[c->sent] : 'a';
  if (send(c->fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) c->sent++;
}

typedef struct slow_result {
  int closed;     /* connections the server closed */
  double longest; /* the longest any of them lived, seconds */
  int too_old;    /* still open at the end, older than the deadline + slack */
} slow_result;

/* n connections from five addresses, each sending a header byte a second
 * and, once closed, coming back at the next second, for the given time. */
static slow_result slow_clients(int port, int n, double seconds) {
  slow_conn *conns = calloc((size_t)n, sizeof *conns);
  struct pollfd *pfd = calloc((size_t)n, sizeof *pfd);
  assert_true(conns && pfd);
  slow_result res = {0};
  for (int i = 0; i < n; i++) slow_open(&conns[i], i, port);
  double start = mono_now(), next_tick = start;
  while (mono_now() - start < seconds) {
    if (mono_now() >= next_tick) {
      for (int i = 0; i < n; i++) {
        if (conns[i].fd < 0) slow_open(&conns[i], i, port);
        if (conns[i].fd >= 0) slow_trickle(&conns[i]);
      }
      next_tick += 1.0;
    }
    for (int i = 0; i < n; i++) pfd[i] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
    poll(pfd, (nfds_t)n, 100);
    double now = mono_now();
    for (int i = 0; i < n; i++) {
      if (conns[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[256];
      if (recv(conns[i].fd, buf, sizeof buf, MSG_DONTWAIT) > 0) continue; /* an answer: its end next */
      if (now - conns[i].opened > res.longest) res.longest = now - conns[i].opened;
      res.closed++;
      close(conns[i].fd);
      conns[i].fd = -1;
    }
  }
  double now = mono_now();
  for (int i = 0; i < n; i++) {
    if (conns[i].fd < 0) continue;
    if (now - conns[i].opened > SLOW_DEADLINE + SLOW_SLACK) res.too_old++;
    close(conns[i].fd);
  }
  free(conns);
  free(pfd);
  return res;
}

/* Slowloris from five addresses while a sixth asks for /healthz: first
 * 520 connections, more than the server takes, each sending a header
 * byte a second and coming back when closed; then 400, fewer than it
 * takes, so that only the request deadline closes them. Every /healthz
 * is answered, and no trickling connection outlives the deadline (plus
 * slack). */
static void test_slow_clients_do_not_starve_others(void **state) {
  (void)state;
  char bin[1024], listen[] = "127.0.0.1:0", deadline[16];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-serve"));
  snprintf(deadline, sizeof deadline, "%d", SLOW_DEADLINE);
  char *argv[] = {bin, "--db", g_db, "--listen", listen, "--threads", "2",
                  "--request-timeout", deadline, NULL};
  int port = tu_start_server(argv, &g_second);
  assert_true(port > 0);
  healthz_probe probe = {.port = port};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, probe_healthz, &probe), 0);
  slow_result flood = slow_clients(port, SLOW_FLOOD, 4.0);
  int flood_asked = probe.asked, flood_answered = probe.answered;
  slow_result trickle = slow_clients(port, SLOW_TRICKLE, 2 * SLOW_DEADLINE + SLOW_SLACK);
  probe.stop = 1;
  pthread_join(t, NULL);
  fprintf(stderr, "# %d slow clients: %d closed by the server; /healthz %d/%d answered\n",
          SLOW_FLOOD, flood.closed, flood_answered, flood_asked);
  fprintf(stderr, "# %d slow clients: %d closed by the server, longest lived %.2f s, %d open past "
          "the deadline; /healthz %d/%d answered in all, slowest %.3f s\n", SLOW_TRICKLE,
          trickle.closed, trickle.longest, trickle.too_old, probe.answered, probe.asked,
          probe.worst);
  assert_true(flood_asked >= 5);
  assert_int_equal(flood_answered, flood_asked);
  assert_true(probe.asked >= 10);
  assert_int_equal(probe.answered, probe.asked);
  assert_true(trickle.closed >= SLOW_TRICKLE); /* every one of the first wave, at least */
  assert_true(trickle.longest <= SLOW_DEADLINE + SLOW_SLACK);
  assert_int_equal(trickle.too_old, 0);
  assert_int_equal(stop_second(), 0);
}

/* ----------------------------------------------------------------- main */

static int setup(void **state) {
  (void)state;
  g_tmp = tu_tempdir();
  snprintf(g_db, sizeof g_db, "%s/kb.db", g_tmp);
  snprintf(g_tokens, sizeof g_tokens, "%s/tokens", g_tmp);
  snprintf(g_fixtures, sizeof g_fixtures, "%s/fixtures", g_tmp);
  tu_write_str(g_tokens, "# test tokens\nengineer-token-0123456789 engineer\n"
                         "admin-token-0123456789abcdef admin\n");
  char path[1100];
  snprintf(path, sizeof path, "%s/evil.md", g_fixtures);
  tu_write_str(path, "---\ntitle: 安全测试 script\n---\n\n# 安全测试\n\n"
                     "<script>alert(1); document.title = 'pwned'</script>\n\n"
                     "[点我](javascript:alert(1)) <img src=x onerror=alert(1)>\n"
                     "<img src=x onerror=\"document.body.setAttribute('data-pwned', 1)\">\n");
  /* a public article whose only text is internal: found by its title */
  snprintf(path, sizeof path, "%s/all-internal.md", g_fixtures);
  tu_write_str(path, "---\ntitle: zorblax 巡检\nvisibility: public\n---\n\n"
                     "## 工程师备注 {internal}\n\n管理口 " INTERNAL_WORD " 密码见保险柜。\n");
  if (run_index("sync", "articles") != 0 || run_index("add", g_fixtures) != 0) return -1;
  char bin[1024], listen[] = "127.0.0.1:0";
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-serve"));
  char *argv[] = {bin, "--db", g_db, "--listen", listen, "--tokens", g_tokens, "--threads", "2", NULL};
  g_port = tu_start_server(argv, &g_pid);
  return g_port > 0 ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  int rc = tu_stop_server(g_pid);
  tu_rmtree(g_tmp);
  free(g_tmp);
  return rc == 0 ? 0 : -1; /* a clean stop on SIGTERM */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_search_shape_and_ranking),
      cmocka_unit_test(test_facets_sum_to_total),
      cmocka_unit_test(test_filters_and_pagination),
      cmocka_unit_test(test_error_statuses),
      cmocka_unit_test(test_nul_is_refused),
      cmocka_unit_test(test_conflicting_body_lengths),
      cmocka_unit_test(test_security_headers),
      cmocka_unit_test(test_oversized_line_and_headers),
      cmocka_unit_test(test_bad_encodings),
      cmocka_unit_test(test_huge_queries),
      cmocka_unit_test(test_limit_offset_out_of_range),
      cmocka_unit_test(test_traversal_variants),
      cmocka_unit_test(test_wrong_methods),
      cmocka_unit_test(test_public_never_sees_internal),
      cmocka_unit_test(test_similar_text_and_suggest),
      cmocka_unit_test(test_did_you_mean),
      cmocka_unit_test(test_gaps_record_zero_results),
      cmocka_unit_test(test_gaps_record_results_nobody_opened),
      cmocka_unit_test(test_healthz_and_metrics),
      cmocka_unit_test(test_cache),
      cmocka_unit_test(test_commit_seen_without_restart),
      cmocka_unit_test(test_post_tickets),
      cmocka_unit_test(test_ids_in_links),
      cmocka_unit_test(test_pages),
      cmocka_unit_test(test_pages_in_a_browser),
      cmocka_unit_test(test_concurrent_requests),
      cmocka_unit_test_teardown(test_access_log, teardown_second),
      cmocka_unit_test_teardown(test_sighup_rereads_tokens, teardown_second),
      cmocka_unit_test_teardown(test_connections_per_address, teardown_second),
      cmocka_unit_test_teardown(test_connection_limit, teardown_second),
      cmocka_unit_test_teardown(test_tokens_on_every_endpoint, teardown_second),
      cmocka_unit_test_teardown(test_rate_limit_429, teardown_second),
      cmocka_unit_test_teardown(test_slow_clients_do_not_starve_others, teardown_second),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
