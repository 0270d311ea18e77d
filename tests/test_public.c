/* test_public.c — the public-independence test: every answer kb-serve
 * gives an unauthenticated client (tests/data/public/requests.txt: search
 * hits, order, scores, totals, exact, facets, corrections, suggestions,
 * similar lists, documents by id, /healthz, /metrics, the pages) is the
 * same, byte for byte, before internal documents are added and internal
 * sections lengthened, after, and after they are removed again: the public
 * answers are a function of the public documents and sections alone.
 *
 * Left out of the comparison: took_ms (time) and, in /metrics, the latency
 * histogram and the time spent searching (time too). Each phase asks a
 * fresh server the same requests in the same order, so the request and
 * cache counters are the same. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* over the count limit of kb_search (10,000): the total is an estimate */
#define PUBLIC_TICKETS 10200
#define INTERNAL_TICKETS 3000
#define ENGINEER "Authorization: Bearer engineer-token-0123456789\r\n"

static char *g_tmp;
static char g_db[1024], g_articles[1024], g_tokens[1024];

static void path_in(char *out, size_t n, const char *rel) { snprintf(out, n, "%s/%s", g_tmp, rel); }

static void run_ok(char *const argv[]) {
  kb_buf err = {0};
  int st = tu_run(argv, NULL, &err);
  if (st != 0) fail_msg("%s %s: exit %d: %.500s", argv[0], argv[1], st, err.data ? err.data : "");
  kb_buf_free(&err);
}

static void index_cmd(const char *cmd, const char *arg) {
  char bin[1024];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-index"));
  char *argv[] = {bin, "--db", g_db, (char *)cmd, (char *)"--progress", (char *)"never",
                  (char *)arg, NULL};
  if (strcmp(cmd, "import") != 0) {
    argv[4] = (char *)arg;
    argv[5] = NULL;
  }
  run_ok(argv);
}

/* n tickets t/PREFIX0.. of visibility vis, all about 打印机, with facets
 * spread over products and priorities; words names a few more words each
 * holds (the rare words of the public documents, for internal ones). */
static void write_tickets(const char *file, const char *prefix, int n, const char *vis,
                          const char *words) {
  static const char *const products[] = {"database", "network", "storage", "os"};
  kb_buf b = {0};
  for (int i = 0; i < n; i++) {
    char id[32];
    snprintf(id, sizeof id, "%s%d", prefix, i);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", id, "title", "打印机 脱机",
                          "problem", "打印机 无法 打印 队列", "resolution", words, "product",
                          products[i % 4], "priority", i % 3 ? "P2" : "P3", "visibility", vis);
    char *line = json_dumps(o, JSON_COMPACT);
    kb_buf_printf(&b, "%s\n", line);
    free(line);
    json_decref(o);
  }
  tu_write_file(file, b.data, b.len);
  kb_buf_free(&b);
}

/* ------------------------------------------------------------- answers */

/* PATH with spaces and bytes past ASCII percent-encoded. */
static void encode_path(const char *p, size_t n, kb_buf *out) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c >= 0x80 || c == ' ' || c == '"') kb_buf_printf(out, "%%%02X", c);
    else kb_buf_putc(out, (char)c);
  }
}

/* The /metrics lines that measure time, not the index. */
static bool timing_line(const char *line) {
  return strncmp(line, "kb_request_duration_seconds", 27) == 0 ||
         strncmp(line, "kb_search_seconds_total", 23) == 0;
}

/* body without what may differ: took_ms, and the timing lines of /metrics. */
static void normalise(const char *path, const char *body, kb_buf *out) {
  if (strcmp(path, "/metrics") == 0) {
    for (const char *l = body; *l;) {
      const char *e = strchr(l, '\n');
      size_t n = e ? (size_t)(e - l + 1) : strlen(l);
      if (!timing_line(l)) kb_buf_append(out, l, n);
      l += n;
    }
    return;
  }
  const char *t = strstr(body, "\"took_ms\":");
  if (!t) {
    kb_buf_puts(out, body);
    return;
  }
  kb_buf_append(out, body, (size_t)(t - body));
  t += strlen("\"took_ms\":");
  while ((*t >= '0' && *t <= '9') || *t == '.') t++;
  kb_buf_puts(out, t);
}

/* Every request of the list, unauthenticated, to a fresh server; out gets
 * "== REQUEST STATUS\nBODY\n" for each. */
static void public_answers(kb_buf *out) {
  char bin[1024], listen[] = "127.0.0.1:0";
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-serve"));
  char *argv[] = {bin, "--db", g_db, "--listen", listen, "--tokens", g_tokens, NULL};
  pid_t pid;
  int port = tu_start_server(argv, &pid);
  assert_true(port > 0);
  kb_buf list = {0};
  assert_int_equal(tu_read_file("tests/data/public/requests.txt", &list), 0);
  for (char *line = list.data, *save = NULL; (line = strtok_r(line, "\n", &save)); line = NULL) {
    if (line[0] == '#') continue;
    char *sp = strchr(line, ' ');
    assert_non_null(sp);
    *sp = '\0';
    const char *method = line, *path = sp + 1, *body = NULL;
    char *bsp = strcmp(method, "POST") == 0 ? strchr(path, ' ') : NULL;
    if (bsp) *bsp = '\0', body = bsp + 1;
    kb_buf url = {0}, resp = {0};
    encode_path(path, strlen(path), &url);
    int st = tu_http(port, method, url.data, NULL, body, &resp);
    assert_true(st == 200 || st == 404);
    kb_buf_printf(out, "== %s %s %d\n", method, path, st);
    normalise(path, resp.data ? resp.data : "", out);
    kb_buf_putc(out, '\n');
    kb_buf_free(&url);
    kb_buf_free(&resp);
  }
  kb_buf_free(&list);
  /* the internal documents are there for engineers (the test is not empty) */
  kb_buf resp = {0};
  assert_int_equal(tu_http(port, "GET", "/healthz", ENGINEER, NULL, &resp), 200);
  kb_buf_printf(out, "== engineers %s\n", resp.data);
  kb_buf_free(&resp);
  assert_int_equal(tu_stop_server(pid), 0);
}

/* The answers of the public (everything up to the engineers' line). */
static size_t public_part(const kb_buf *a) {
  const char *e = strstr(a->data, "== engineers ");
  return e ? (size_t)(e - a->data) : a->len;
}

/* Fails naming the first request whose answer differs. */
static void assert_same_answers(const kb_buf *a, const kb_buf *b, const char *when) {
  size_t na = public_part(a), nb = public_part(b);
  size_t i = 0, req = 0;
  while (i < na && i < nb && a->data[i] == b->data[i]) {
    if (a->data[i] == '=' && i + 1 < na && a->data[i + 1] == '=' && (i == 0 || a->data[i - 1] == '\n'))
      req = i;
    i++;
  }
  if (i == na && i == nb) return;
  const char *eol = strchr(a->data + req, '\n');
  fail_msg("%s: the public answer to \"%.*s\" changed at byte %zu:\n  before: %.300s\n  after:  %.300s",
           when, eol ? (int)(eol - a->data - req) : 80, a->data + req, i - req,
           a->data + (i > 40 ? i - 40 : 0), b->data + (i > 40 ? i - 40 : 0));
}

static json_int_t engineers_docs(const kb_buf *a) {
  const char *e = strstr(a->data, "== engineers ");
  assert_non_null(e);
  json_t *j = json_loads(e + strlen("== engineers "), JSON_DISABLE_EOF_CHECK, NULL);
  assert_non_null(j);
  json_int_t n = json_integer_value(json_object_get(j, "docs"));
  json_decref(j);
  return n;
}

/* ----------------------------------------------------------------- test */

static void replace_in_file(const char *path, const char *what, const char *with) {
  kb_buf b = {0}, out = {0};
  assert_int_equal(tu_read_file(path, &b), 0);
  const char *at = strstr(b.data, what);
  assert_non_null(at);
  kb_buf_append(&out, b.data, (size_t)(at - b.data));
  kb_buf_puts(&out, with);
  kb_buf_puts(&out, at + strlen(what));
  tu_write_file(path, out.data, out.len);
  kb_buf_free(&b);
  kb_buf_free(&out);
}

static void test_public_answers_ignore_internal_documents(void **state) {
  (void)state;
  char probe[1100], ora[1100], secret[1100], pub[1100], internal[1100];
  snprintf(probe, sizeof probe, "%s/zz/probe.md", g_articles);
  snprintf(ora, sizeof ora, "%s/database/ora-01555-snapshot-too-old.md", g_articles);
  snprintf(secret, sizeof secret, "%s/zz/secret.md", g_articles);
  path_in(pub, sizeof pub, "public.jsonl");
  path_in(internal, sizeof internal, "internal.jsonl");
  kb_buf probe_md = {0}, ora_md = {0};
  assert_int_equal(tu_read_file("tests/data/public/probe.md", &probe_md), 0);
  tu_write_file(probe, probe_md.data, probe_md.len);
  assert_int_equal(tu_read_file(ora, &ora_md), 0);

  /* the public documents */
  index_cmd("sync", g_articles);
  write_tickets(pub, "p", PUBLIC_TICKETS, "public", "重启 spooler 服务");
  index_cmd("import", pub);
  kb_buf before = {0};
  public_answers(&before);
  assert_true(tu_contains(before.data, "\"exact\":false")); /* an estimated total is compared */

  /* internal tickets holding the public documents' words, rare and common;
   * an internal article; internal sections thousands of words longer */
  write_tickets(internal, "i", INTERNAL_TICKETS, "internal",
                "zqxprobe undo_retention ORA-01555 spooler dayinji secretword 服务 恢复");
  index_cmd("import", internal);
  tu_write_str(secret, "---\ntitle: 内部 打印机 zqxprobe\nvisibility: internal\n---\n\n"
                       "打印机 spooler undo_retention zqxprobe secretword 内部。\n");
  kb_buf longer = {0};
  for (int i = 0; i < 3000; i++) kb_buf_printf(&longer, "打印机 zqxprobe spooler 内部%d ", i);
  replace_in_file(probe, "内部 zqxprobe 记录。", longer.data);
  kb_buf_free(&longer);
  kb_buf ora_more = {0};
  kb_buf_printf(&ora_more, "%s\n\n## 内部 {internal}\n\n", ora_md.data);
  for (int i = 0; i < 3000; i++) kb_buf_puts(&ora_more, "undo_retention ORA-01555 打印机 ");
  tu_write_file(ora, ora_more.data, ora_more.len);
  kb_buf_free(&ora_more);
  index_cmd("sync", g_articles);
  kb_buf with = {0};
  public_answers(&with);
  assert_true(engineers_docs(&with) >= engineers_docs(&before) + INTERNAL_TICKETS + 1);
  assert_same_answers(&before, &with, "internal documents added");

  /* and gone again */
  remove(secret);
  tu_write_file(probe, probe_md.data, probe_md.len);
  tu_write_file(ora, ora_md.data, ora_md.len);
  index_cmd("sync", g_articles);
  char bin[1024];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-index"));
  char **argv = calloc(INTERNAL_TICKETS + 5, sizeof *argv);
  char (*ids)[16] = calloc(INTERNAL_TICKETS, sizeof *ids);
  argv[0] = bin, argv[1] = "--db", argv[2] = g_db, argv[3] = "delete";
  for (int i = 0; i < INTERNAL_TICKETS; i++) {
    snprintf(ids[i], sizeof ids[i], "t/i%d", i);
    argv[4 + i] = ids[i];
  }
  run_ok(argv);
  free(argv);
  free(ids);
  kb_buf after = {0};
  public_answers(&after);
  assert_int_equal(engineers_docs(&after), engineers_docs(&before));
  assert_same_answers(&before, &after, "internal documents removed");
  kb_buf_free(&before);
  kb_buf_free(&with);
  kb_buf_free(&after);
  kb_buf_free(&probe_md);
  kb_buf_free(&ora_md);
}

/* The kb_index_reloads_total line of the public's /metrics. */
static long long public_reloads(int port) {
  kb_buf resp = {0};
  int st = tu_http(port, "GET", "/metrics", NULL, NULL, &resp);
  const char *l = st == 200 ? strstr(resp.data, "\nkb_index_reloads_total ") : NULL;
  long long n = l ? atoll(l + strlen("\nkb_index_reloads_total ")) : -1;
  kb_buf_free(&resp);
  return n;
}

/* A running server's /metrics too: an internal ticket imported, and the
 * engineers' reader reopened to see it, is nothing the public can count
 * (kb_index_reloads_total counted every audience's reopens, so the public
 * saw when internal tickets were written). */
static void test_public_metrics_ignore_internal_commits(void **state) {
  (void)state;
  char db[1100], pub[1100], internal[1100];
  path_in(db, sizeof db, "metrics.db");
  path_in(pub, sizeof pub, "metrics-public.jsonl");
  path_in(internal, sizeof internal, "metrics-internal.jsonl");
  write_tickets(pub, "mp", 5, "public", "重启 spooler 服务");
  write_tickets(internal, "mi", 5, "internal", "secretword");
  char ibin[1024];
  snprintf(ibin, sizeof ibin, "%s", tu_bin("kb-index"));
  char *imp[] = {ibin, "--db", db, "import", "--progress", "never", pub, NULL};
  run_ok(imp);
  char bin[1024], listen[] = "127.0.0.1:0";
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-serve"));
  char *argv[] = {bin, "--db", db, "--listen", listen, "--tokens", g_tokens, "--threads", "1", NULL};
  pid_t pid;
  int port = tu_start_server(argv, &pid);
  assert_true(port > 0);
  /* asserted once the server is stopped: a failure must not leave it running */
  kb_buf resp = {0};
  int st1 = tu_http(port, "GET", "/api/search?q=secretword", ENGINEER, NULL, &resp);
  long long before = public_reloads(port);
  imp[6] = internal;
  kb_buf err = {0};
  int imported = tu_run(imp, NULL, &err);
  kb_buf_reset(&resp);
  int st2 = tu_http(port, "GET", "/api/search?q=secretword", ENGINEER, NULL, &resp);
  bool reopened = tu_contains(resp.data, "t/mi0");
  long long after = public_reloads(port);
  assert_int_equal(tu_stop_server(pid), 0);
  assert_int_equal(st1, 200);
  assert_int_equal(imported, 0);
  assert_int_equal(st2, 200);
  assert_true(reopened); /* the engineers' reader did reopen */
  assert_true(before >= 0);
  assert_int_equal(after, before);
  kb_buf_free(&resp);
  kb_buf_free(&err);
}

static int setup(void **state) {
  (void)state;
  g_tmp = tu_tempdir();
  path_in(g_db, sizeof g_db, "kb.db");
  path_in(g_articles, sizeof g_articles, "articles");
  path_in(g_tokens, sizeof g_tokens, "tokens");
  tu_write_str(g_tokens, "engineer-token-0123456789 engineer\n");
  char *argv[] = {"/bin/cp", "-r", "articles", g_articles, NULL};
  return tu_run(argv, NULL, NULL);
}

static int teardown(void **state) {
  (void)state;
  tu_rmtree(g_tmp);
  free(g_tmp);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_public_answers_ignore_internal_documents),
      cmocka_unit_test(test_public_metrics_ignore_internal_commits),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
