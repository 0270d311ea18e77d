/* test_crash.c — crash safety and load, end to end, with the real programs:
 * kb-index import killed with SIGKILL at random moments and restarted (one
 * writer, and two shards with kills during their merge) while kb-serve
 * answers queries from concurrent clients; and kb-serve under concurrent
 * clients while an import commits batches and a sharded import swaps the
 * index folder. `make soak` runs the long version (KB_SOAK=1: ten kills
 * over 50,000 tickets); KB_SEED replays the random choices of a run. */
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static char *g_tmp;
static char g_tokens[1100];
static pid_t g_server; /* the running kb-serve, stopped by teardown if a test failed */

#define ENGINEER "Authorization: Bearer engineer-token-0123456789\r\n"
#define SEED_RECORDS 100 /* in the index before the server starts: c900000… */
#define BATCH 500

static bool soak(void) {
  const char *s = getenv("KB_SOAK");
  return s && *s && strcmp(s, "0") != 0;
}

static void path_in(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", g_tmp, name); }

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------- server */

/* A new index at db holding SEED_RECORDS tickets, and kb-serve on it; the
 * port (0 when it did not start). */
static int start_on_new_index(const char *db, const char *name, pid_t *pid) {
  char seed[1100];
  path_in(seed, sizeof seed, name);
  tu_write_tickets(seed, 900000, SEED_RECORDS);
  char bin[1024];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-index"));
  char *imp[] = {bin, "--db", (char *)db, "import", "--progress", "never", seed, NULL};
  if (tu_run(imp, NULL, NULL) != 0) return 0;
  char serve[1024], listen[] = "127.0.0.1:0";
  snprintf(serve, sizeof serve, "%s", tu_bin("kb-serve"));
  char *argv[] = {serve, "--db", (char *)db, "--listen", listen, "--tokens", g_tokens, NULL};
  int port = tu_start_server(argv, pid);
  g_server = *pid;
  return port;
}

/* Stops the server started last; its exit status. */
static int stop_server(void) {
  int rc = tu_stop_server(g_server);
  g_server = 0;
  return rc;
}

/* The total of a search answer (an engineer's: tickets are internal), or
 * -1 when the answer is not a 200 with a JSON object holding hits. */
static long search_total(int port, const char *q, bool engineer, int *status) {
  kb_buf path = {0}, body = {0};
  kb_buf_puts(&path, "/api/search?q=");
  tu_urlencode(q, &path);
  *status = tu_http(port, "GET", path.data, engineer ? ENGINEER : NULL, NULL, &body);
  long total = -1;
  json_t *j = *status == 200 ? json_loads(body.data, 0, NULL) : NULL;
  if (json_is_array(json_object_get(j, "hits")) && json_is_integer(json_object_get(j, "total")))
    total = (long)json_integer_value(json_object_get(j, "total"));
  json_decref(j);
  kb_buf_free(&path);
  kb_buf_free(&body);
  return total;
}

/* Concurrent clients, each asking one query after another until stopped:
 * every answer must be a 200 holding valid JSON. */
typedef struct clients {
  int port;
  atomic_bool stop;
  atomic_long requests, failed, server_errors, connection_errors;
  pthread_t threads[8];
  int n;
  pthread_mutex_t lock;
  char first_failure[256];
} clients;

static void *client(void *arg) {
  clients *c = arg;
  static const char *const queries[] = {"工单", "服务器 响应慢", "连接池 扩容", "数据库 连接数",
                                        "kbrec12", "P1 页面加载", "高峰期"};
  unsigned r = (unsigned)(uintptr_t)&r;
  for (long i = 0; !atomic_load(&c->stop); i++) {
    const char *q = queries[rand_r(&r) % (sizeof queries / sizeof *queries)];
    int status;
    long total = search_total(c->port, q, i % 2 == 0, &status);
    atomic_fetch_add(&c->requests, 1);
    if (total >= 0) continue;
    atomic_fetch_add(&c->failed, 1);
    if (status >= 500) atomic_fetch_add(&c->server_errors, 1);
    if (status == 0) atomic_fetch_add(&c->connection_errors, 1);
    pthread_mutex_lock(&c->lock);
    if (!c->first_failure[0])
      snprintf(c->first_failure, sizeof c->first_failure, "q=%s status %d", q, status);
    pthread_mutex_unlock(&c->lock);
  }
  return NULL;
}

static void clients_start(clients *c, int port, int n) {
  memset(c, 0, sizeof *c);
  c->port = port;
  c->n = n;
  pthread_mutex_init(&c->lock, NULL);
  for (int i = 0; i < n; i++) assert_int_equal(pthread_create(&c->threads[i], NULL, client, c), 0);
}

static void clients_stop(clients *c) {
  atomic_store(&c->stop, true);
  for (int i = 0; i < c->n; i++) pthread_join(c->threads[i], NULL);
  pthread_mutex_destroy(&c->lock);
}

/* -------------------------------------------------------------- imports */

static pid_t start_import(const char *db, const char *file, const char *shards) {
  char batch[16];
  snprintf(batch, sizeof batch, "%d", BATCH);
  pid_t pid = fork();
  if (pid == 0) {
    FILE *null = freopen("/dev/null", "w", stdout);
    (void)null;
    dup2(STDOUT_FILENO, STDERR_FILENO);
    execl(tu_bin("kb-index"), "kb-index", "--db", db, "import", "--progress", "never", "--batch",
          batch, "--shards", shards, file, (char *)NULL);
    _exit(127);
  }
  return pid;
}

/* Waits up to ms for pid to exit: true (and its exit status) if it did. */
static bool exited_within(pid_t pid, int ms, int *status) {
  double end = now_s() + ms / 1000.0;
  do {
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return true;
    }
    sleep_ms(1);
  } while (now_s() < end);
  return false;
}

/* Whether a merge of db's shards is under way: its compaction's output
 * exists (lib/index.cc names them; the one place the test knows it). */
static bool merge_under_way(const char *db) {
  char p[1200];
  snprintf(p, sizeof p, "%s.merge", db);
  if (access(p, F_OK) == 0) return true;
  snprintf(p, sizeof p, "%s.merge-dedup", db);
  return access(p, F_OK) == 0;
}

static bool staging_left(const char *db) {
  char p[1200];
  snprintf(p, sizeof p, "%s/staging-0", db);
  return access(p, F_OK) == 0;
}

/* Waits up to ms for the merge to begin (true), or for pid to exit. */
static bool merge_began_within(const char *db, pid_t pid, int ms, int *status, bool *exited) {
  double end = now_s() + ms / 1000.0;
  *exited = false;
  while (now_s() < end) {
    if (merge_under_way(db)) return true;
    if ((*exited = exited_within(pid, 0, status))) return false;
    usleep(200);
  }
  return false;
}

typedef struct cycles {
  int kills, during_merge;
  int databases_checked; /* by xapian-check, over every check */
  long final;
} cycles;

/* What must hold after every kill: the index opens and answers a search,
 * xapian-check finds nothing in any of its databases, no id is stored
 * twice, and it holds whole batches (one writer) or all or nothing of the
 * input (shards: the merge swaps the index at once). */
static void check_after_kill(const char *db, int total, bool sharded, cycles *cy) {
  long n = tu_doc_count(db);
  assert_true(n >= SEED_RECORDS);
  long got = n - SEED_RECORDS;
  if (sharded) assert_true(got == 0 || got == total);
  else assert_true(got % BATCH == 0 || got == total);
  char bin[1024];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-search"));
  char *argv[] = {bin, "--db", (char *)db, "--json", "--", "工单", NULL};
  kb_buf out = {0};
  assert_int_equal(tu_run(argv, &out, NULL), 0);
  json_t *j = json_loads(out.data, 0, NULL);
  assert_non_null(json_object_get(j, "hits"));
  json_decref(j);
  kb_buf_free(&out);
  int checked = 0;
  kb_buf report = {0};
  int bad = tu_xapian_check(db, &checked, &report);
  if (bad) fprintf(stderr, "xapian-check: %s\n", report.data ? report.data : "cannot run");
  assert_int_equal(bad, 0);
  assert_true(checked >= 1);
  cy->databases_checked += checked;
  kb_buf_free(&report);
  assert_int_equal(tu_ids_stored_twice(db), 0);
}

/* Imports file (total records) into db, killing the import kills times
 * (after a random delay, or for every other sharded kill once the merge
 * has begun) and restarting it, then lets it finish. */
static void kill_and_restart(const char *db, const char *file, int total, const char *shards,
                             int kills, unsigned *seed, cycles *cy) {
  bool sharded = strcmp(shards, "1") != 0;
  memset(cy, 0, sizeof *cy);
  for (;;) {
    pid_t pid = start_import(db, file, shards);
    int status = -1;
    if (cy->kills == kills) {
      assert_true(exited_within(pid, 600000, &status));
      assert_int_equal(status, 0);
      break;
    }
    bool at_merge = sharded && cy->kills % 2 == 1, exited = false;
    if (at_merge) {
      if (merge_began_within(db, pid, 300000, &status, &exited)) sleep_ms(rand_r(seed) % 25);
    } else {
      exited = exited_within(pid, 100 + (int)(rand_r(seed) % 1400), &status);
    }
    if (exited) { /* finished before the kill: nothing left to kill */
      assert_int_equal(status, 0);
      break;
    }
    bool merging = merge_under_way(db);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    cy->kills++;
    cy->during_merge += merging;
    check_after_kill(db, total, sharded, cy);
  }
  cy->final = tu_doc_count(db) - SEED_RECORDS;
  assert_int_equal(cy->final, total);
  assert_false(staging_left(db));
  assert_false(merge_under_way(db));
  check_after_kill(db, total, sharded, cy);
}

/* Kills and restarts of a single-writer and of a sharded import (some
 * during the merge) while clients query kb-serve on the index throughout:
 * every check after every kill holds, the final count is exact, and not
 * one query failed. */
static void test_sigkill_at_random_moments(void **state) {
  (void)state;
  const int total = soak() ? 50000 : 10000, kills = soak() ? 10 : 2;
  unsigned seed = tu_seed("sigkill");
  char file[1100];
  path_in(file, sizeof file, "kill.jsonl");
  tu_write_tickets(file, 0, total);
  const char *shards[] = {"1", "2"};
  for (size_t i = 0; i < 2; i++) {
    char db[1100], name[64];
    snprintf(name, sizeof name, "kill-%s.db", shards[i]);
    path_in(db, sizeof db, name);
    pid_t server;
    int port = start_on_new_index(db, "kill-seed.jsonl", &server);
    assert_true(port > 0);
    clients c;
    clients_start(&c, port, 3);
    cycles cy;
    kill_and_restart(db, file, total, shards[i], kills, &seed, &cy);
    /* the last record, committed: the server finds it (it reopens on commit) */
    char q[32];
    snprintf(q, sizeof q, "kbrec%d", total - 1);
    long found = 0;
    for (int tries = 0; tries < 100 && found != 1; tries++, sleep_ms(50)) {
      int st;
      found = search_total(port, q, true, &st);
    }
    clients_stop(&c);
    printf("# sigkill %s: %d kills (%d during the merge), %d records, final count %ld, "
           "xapian-check: %d databases checked, 0 errors; %ld queries during kills and "
           "restarts, %ld failed (%s)\n",
           i ? "2 shards" : "1 writer", cy.kills, cy.during_merge, total, cy.final,
           cy.databases_checked, atomic_load(&c.requests), atomic_load(&c.failed),
           c.first_failure[0] ? c.first_failure : "none");
    fflush(stdout);
    assert_int_equal(found, 1);
    assert_int_equal(atomic_load(&c.failed), 0);
    assert_true(atomic_load(&c.requests) > 0);
    assert_int_equal(stop_server(), 0);
  }
}

/* ---------------------------------------------------------------- swap */

/* An index at path holding n documents d0…, committed. */
static void make_index(const char *path, int n) {
  kb_index *idx = NULL;
  kb_error e = {0};
  kb_xdoc *d = NULL;
  assert_int_equal(kb_index_open(path, KB_INDEX_WRITE, &idx, &e), KB_OK);
  assert_int_equal(kb_xdoc_new(&d), KB_OK);
  assert_int_equal(kb_xdoc_add_term(d, "swapword", 8, 1), KB_OK);
  for (int i = 0; i < n; i++) {
    char id[32];
    snprintf(id, sizeof id, "Qd%d", i);
    assert_int_equal(kb_index_replace(idx, id, d, &e), KB_OK);
  }
  assert_int_equal(kb_index_commit(idx, &e), KB_OK);
  kb_xdoc_free(d);
  kb_index_free(idx);
}

/* A reader between the two renames of a merge's swap (PATH renamed to
 * PATH.old, PATH.merge not yet renamed to PATH: lib/index.cc's protocol)
 * keeps answering from what it has, and a reader opened then reads
 * PATH.old; once PATH is back, both move to it. kb-serve used to answer
 * 500 to a query that came in that moment ("reopen:
 * DatabaseNotFoundError: …/iamglass"), as the SIGKILL test above found. */
static void test_reader_between_the_renames_of_a_swap(void **state) {
  (void)state;
  char db[1100], old[1200], merged[1200];
  path_in(db, sizeof db, "swap.db");
  snprintf(old, sizeof old, "%s.old", db);
  snprintf(merged, sizeof merged, "%s.merge", db);
  make_index(db, 1);
  make_index(merged, 3);
  kb_index *reader = NULL;
  kb_error e = {0};
  assert_int_equal(kb_index_open(db, KB_INDEX_READ, &reader, &e), KB_OK);
  assert_int_equal(rename(db, old), 0); /* the swap's first rename */
  bool changed = true;
  assert_int_equal(kb_index_reopen(reader, &changed, &e), KB_OK);
  assert_false(changed);
  assert_int_equal(kb_index_doc_count(reader), 1);
  kb_index *late = NULL;
  assert_int_equal(kb_index_open(db, KB_INDEX_READ, &late, &e), KB_OK);
  assert_int_equal(kb_index_doc_count(late), 1);
  assert_int_equal(rename(merged, db), 0); /* the second */
  assert_int_equal(kb_index_reopen(reader, &changed, &e), KB_OK);
  assert_true(changed);
  assert_int_equal(kb_index_doc_count(reader), 3);
  assert_int_equal(kb_index_reopen(late, &changed, &e), KB_OK);
  assert_true(changed);
  assert_int_equal(kb_index_doc_count(late), 3);
  kb_index_free(reader);
  kb_index_free(late);
  tu_rmtree(old);
}

/* ----------------------------------------------------------------- load */

/* Polls the server until the record with id c<id> is found (up to 5 s). */
static bool found_after_commit(int port, int id) {
  char q[32];
  snprintf(q, sizeof q, "kbrec%d", id);
  for (int tries = 0; tries < 100; tries++) {
    int st;
    if (search_total(port, q, true, &st) == 1) return true;
    sleep_ms(50);
  }
  return false;
}

/* Runs an import of n records from first; while it runs, each batch the
 * index has committed (kb-index stats) is looked for through the server:
 * its last record must be found. Returns how many were looked for. */
static int import_and_probe(const char *db, int port, int first, int n, const char *shards,
                            long base, int *missed) {
  char file[1100], name[64];
  snprintf(name, sizeof name, "load-%d.jsonl", first);
  path_in(file, sizeof file, name);
  tu_write_tickets(file, first, n);
  pid_t pid = start_import(db, file, shards);
  int status = -1, probes = 0;
  long seen = 0;
  while (!exited_within(pid, 300, &status)) {
    long committed = tu_doc_count(db) - base;
    if (committed <= seen || strcmp(shards, "1") != 0) continue;
    seen = committed; /* one writer commits records in input order */
    probes++;
    *missed += !found_after_commit(port, first + (int)committed - 1);
  }
  assert_int_equal(status, 0);
  /* the first and the last record, after the import (for shards: after the swap) */
  probes += 2;
  *missed += !found_after_commit(port, first);
  *missed += !found_after_commit(port, first + n - 1);
  return probes;
}

/* Several clients query kb-serve while one import commits batches and then
 * a sharded import swaps the index folder: no 5xx, no connection error
 * (the clients stay under every limit), not one failed query, and the
 * documents committed are found after their commit. */
static void test_load_during_writes(void **state) {
  (void)state;
  char db[1100];
  path_in(db, sizeof db, "load.db");
  pid_t server;
  int port = start_on_new_index(db, "load-seed.jsonl", &server);
  assert_true(port > 0);
  double t0 = now_s();
  clients c;
  clients_start(&c, port, 4);
  int missed = 0, probes = 0;
  probes += import_and_probe(db, port, 100000, 8000, "1", SEED_RECORDS, &missed);
  probes += import_and_probe(db, port, 200000, 6000, "2", SEED_RECORDS + 8000, &missed);
  clients_stop(&c);
  double secs = now_s() - t0;
  printf("# load: %d clients, %.1f s, %ld requests, %ld failed (%ld 5xx, %ld connection errors; "
         "%s); %d commits looked for through the server, %d not found\n",
         c.n, secs, atomic_load(&c.requests), atomic_load(&c.failed),
         atomic_load(&c.server_errors), atomic_load(&c.connection_errors),
         c.first_failure[0] ? c.first_failure : "none", probes, missed);
  fflush(stdout);
  assert_int_equal(tu_doc_count(db), SEED_RECORDS + 8000 + 6000);
  assert_int_equal(atomic_load(&c.failed), 0);
  assert_int_equal(missed, 0);
  assert_true(atomic_load(&c.requests) > 0);
  assert_int_equal(stop_server(), 0);
}

/* ----------------------------------------------------------------- main */

static int setup(void **state) {
  (void)state;
  g_tmp = tu_tempdir();
  path_in(g_tokens, sizeof g_tokens, "tokens");
  tu_write_str(g_tokens, "engineer-token-0123456789 engineer\n");
  return 0;
}

/* After a test that failed with its server running. */
static int teardown_server(void **state) {
  (void)state;
  if (g_server > 0) stop_server();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  tu_rmtree(g_tmp);
  free(g_tmp);
  return 0;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_sigkill_at_random_moments, teardown_server),
      cmocka_unit_test(test_reader_between_the_renames_of_a_swap),
      cmocka_unit_test_teardown(test_load_during_writes, teardown_server),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
