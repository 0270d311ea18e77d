/* test_cli.c — integration tests: the real kb-index and kb-search on a
 * temporary index built from the shipped articles/ and from fixtures. */
#include <dirent.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <opencc/opencc.h>

#include "testutil.h"

static char *g_tmp;      /* temporary folder for the whole run */
static char g_db[1024];  /* index of the shipped articles */

/* ------------------------------------------------------------- helpers */

static int run_kb_index(const char *db, kb_buf *out, kb_buf *err, const char *a1, const char *a2,
                        const char *a3) {
  char *argv[] = {(char *)tu_bin("kb-index"), "--db", (char *)db, (char *)a1, (char *)a2,
                  (char *)a3, NULL};
  char bin[4096];
  snprintf(bin, sizeof bin, "%s", argv[0]);
  argv[0] = bin;
  return tu_run(argv, out, err);
}

/* kb-search --json [--public] [extra] -- query; returns the parsed answer. */
static json_t *search_json(const char *db, const char *query, int public_only, const char *opt,
                           const char *optval, int *status) {
  char bin[4096];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-search"));
  char *argv[12];
  int n = 0;
  argv[n++] = bin;
  argv[n++] = "--db";
  argv[n++] = (char *)db;
  argv[n++] = "--json";
  if (public_only) argv[n++] = "--public";
  if (opt) {
    argv[n++] = (char *)opt;
    if (optval) argv[n++] = (char *)optval;
  }
  argv[n++] = "--";
  argv[n++] = (char *)query;
  argv[n] = NULL;
  kb_buf out = {0}, err = {0};
  int st = tu_run(argv, &out, &err);
  if (status) *status = st;
  json_error_t jerr;
  json_t *j = json_loads(out.data, 0, &jerr);
  if (!j) fprintf(stderr, "not JSON (%s): %s / %s\n", jerr.text, out.data, err.data);
  kb_buf_free(&out);
  kb_buf_free(&err);
  return j;
}

static int rank_of(json_t *answer, const char *id) {
  json_t *hits = json_object_get(answer, "hits");
  for (size_t i = 0; i < json_array_size(hits); i++)
    if (strcmp(json_string_value(json_object_get(json_array_get(hits, i), "id")), id) == 0)
      return (int)i + 1;
  return 0;
}

static json_int_t stats_count(const char *db, const char *key, const char *sub) {
  kb_buf out = {0};
  assert_int_equal(run_kb_index(db, &out, NULL, "stats", "--json", NULL), 0);
  json_t *j = json_loads(out.data, 0, NULL);
  assert_non_null(j);
  json_t *v = json_object_get(j, key);
  if (sub) v = json_object_get(v, sub);
  json_int_t n = json_integer_value(v);
  json_decref(j);
  kb_buf_free(&out);
  return n;
}

static size_t count_md(const char *dir) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  size_t n = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat st;
    stat(path, &st);
    size_t len = strlen(e->d_name);
    if (S_ISDIR(st.st_mode)) n += count_md(path);
    else if (len > 3 && strcmp(e->d_name + len - 3, ".md") == 0) n++;
  }
  closedir(d);
  return n;
}

static void copy_tree(const char *from, const char *to) {
  char *argv[] = {"/bin/cp", "-r", (char *)from, (char *)to, NULL};
  assert_int_equal(tu_run(argv, NULL, NULL), 0);
}

/* --------------------------------------------------- the shipped corpus */

static void test_sync_indexes_every_article(void **state) {
  (void)state;
  size_t files = count_md("articles");
  assert_true(files >= 60);
  assert_int_equal(stats_count(g_db, "documents", NULL), (json_int_t)files);
  assert_int_equal(stats_count(g_db, "by_type", "article"), (json_int_t)files);
  assert_int_equal(stats_count(g_db, "by_type", "ticket"), 0);
  json_int_t pub = stats_count(g_db, "by_visibility", "public");
  json_int_t internal = stats_count(g_db, "by_visibility", "internal");
  assert_true(internal > 0);
  assert_int_equal(pub + internal, (json_int_t)files);
  assert_true(stats_count(g_db, "terms", NULL) > 1000);
  assert_true(stats_count(g_db, "size_bytes", NULL) > 0);
}

static void test_stats_json_shape(void **state) {
  (void)state;
  kb_buf out = {0};
  assert_int_equal(run_kb_index(g_db, &out, NULL, "stats", "--json", NULL), 0);
  json_t *j = json_loads(out.data, 0, NULL);
  assert_non_null(j);
  const char *keys[] = {"documents", "by_type", "by_visibility", "terms", "size_bytes",
                        "last_commit"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    assert_non_null(json_object_get(j, keys[i]));
  assert_true(json_is_string(json_object_get(j, "last_commit")));
  json_decref(j);
  kb_buf_free(&out);
}

static void test_rerun_changes_nothing(void **state) {
  (void)state;
  json_int_t before = stats_count(g_db, "documents", NULL);
  kb_buf err = {0};
  assert_int_equal(run_kb_index(g_db, NULL, &err, "sync", "articles", NULL), 0);
  assert_true(tu_contains(err.data, "新增 0, 更新 0"));
  kb_buf_reset(&err);
  assert_int_equal(run_kb_index(g_db, NULL, &err, "add", "articles", NULL), 0);
  assert_true(tu_contains(err.data, "新增 0, 更新 0"));
  assert_int_equal(stats_count(g_db, "documents", NULL), before);
  kb_buf_free(&err);
}

static void test_article_id_from_path(void **state) {
  (void)state;
  json_t *j = search_json(g_db, "ORA-12170", 1, NULL, NULL, NULL);
  assert_non_null(j);
  assert_int_equal(rank_of(j, "a/database/ora-12170-connect-timeout"), 1);
  json_decref(j);
}

/* Each line of tests/data/queries/NAME.tsv: the expected article in the top 3,
 * as the public sees it. */
typedef struct query_case {
  char *query;
  char *expected;
  const char *variant; /* NULL as written, else the OpenCC conversion it went through */
} query_case;

static void test_query_top3(void **state) {
  query_case *c = *state;
  json_t *j = search_json(g_db, c->query, 1, NULL, NULL, NULL);
  assert_non_null(j);
  int rank = rank_of(j, c->expected);
  if (rank < 1 || rank > 3) {
    json_t *hits = json_object_get(j, "hits");
    fprintf(stderr, "query %s: expected %s, got", c->query, c->expected);
    for (size_t i = 0; i < json_array_size(hits) && i < 3; i++)
      fprintf(stderr, " %s", json_string_value(json_object_get(json_array_get(hits, i), "id")));
    fprintf(stderr, "\n");
  }
  json_decref(j);
  assert_in_range(rank, 1, 3);
}

/* ------------------------------------------------------- analysis, e2e */

static void test_technical_token_parts(void **state) {
  (void)state;
  json_t *j = search_json(g_db, "12170", 1, NULL, NULL, NULL);
  assert_true(rank_of(j, "a/database/ora-12170-connect-timeout") >= 1);
  json_decref(j);
  /* the exact code does not match its neighbours */
  j = search_json(g_db, "ORA-12171", 1, NULL, NULL, NULL);
  assert_int_equal(rank_of(j, "a/database/ora-12170-connect-timeout"), 0);
  json_decref(j);
}

static void test_nfkc_and_case(void **state) {
  (void)state;
  const char *queries[] = {"ＯＲＡ－１２１７０", "ora-12170", "Ora-12170"};
  for (size_t i = 0; i < 3; i++) {
    json_t *j = search_json(g_db, queries[i], 1, NULL, NULL, NULL);
    assert_int_equal(rank_of(j, "a/database/ora-12170-connect-timeout"), 1);
    json_decref(j);
  }
}

static void test_segmentation_mismatch(void **state) {
  (void)state;
  /* the article writes 打印机的驱动程序, never 打印机驱动 */
  json_t *j = search_json(g_db, "打印机驱动", 1, NULL, NULL, NULL);
  int r = rank_of(j, "a/printing/printer-driver-install");
  assert_in_range(r, 1, 3);
  json_decref(j);
}

static void test_phrase_and_exclusion(void **state) {
  (void)state;
  json_t *j = search_json(g_db, "\"No space left on device\"", 1, NULL, NULL, NULL);
  assert_int_equal(rank_of(j, "a/os/linux-disk-full"), 1);
  json_decref(j);
  j = search_json(g_db, "\"No space left on device\" -inode -磁盘", 1, NULL, NULL, NULL);
  assert_int_equal(rank_of(j, "a/os/linux-disk-full"), 0);
  json_decref(j);
}

static void test_public_never_sees_internal(void **state) {
  (void)state;
  /* words only in internal sections or internal articles */
  const char *words[] = {"undoprobe", "hxpathdiag", "hx-licforge", "shadowsync", "hx-dnswatch"};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    int status;
    json_t *pub = search_json(g_db, words[i], 1, NULL, NULL, &status);
    assert_int_equal(json_integer_value(json_object_get(pub, "total")), 0);
    assert_int_equal(status, 1);
    json_decref(pub);
    json_t *eng = search_json(g_db, words[i], 0, NULL, NULL, NULL);
    assert_true(json_integer_value(json_object_get(eng, "total")) >= 1);
    json_decref(eng);
  }
  /* internal articles and sections on hx-diag are found by engineers, never
   * by the public (a public article mentions /tmp/hx-diag.tar.gz) */
  const char *internal = "a/appserver/hx-diag-thread-dump-collection";
  for (int pub = 1; pub >= 0; pub--) {
    json_t *j = search_json(g_db, "hx-diag", pub, "--limit", "100", NULL);
    json_t *hits = json_object_get(j, "hits");
    bool found = false;
    for (size_t i = 0; i < json_array_size(hits); i++) {
      json_t *h = json_array_get(hits, i);
      found |= strcmp(json_string_value(json_object_get(h, "id")), internal) == 0;
      if (pub)
        assert_false(tu_contains(json_string_value(json_object_get(h, "snippet")), "工程师工具包"));
    }
    assert_int_equal(found, !pub);
    json_decref(j);
  }
}

static void test_filters_and_json_shape(void **state) {
  (void)state;
  json_t *j = search_json(g_db, "驱动", 1, "--product", "printing", NULL);
  json_t *hits = json_object_get(j, "hits");
  assert_true(json_array_size(hits) > 0);
  for (size_t i = 0; i < json_array_size(hits); i++) {
    json_t *h = json_array_get(hits, i);
    assert_string_equal(json_string_value(json_object_get(h, "product")), "printing");
    const char *keys[] = {"id", "type", "title", "score", "snippet", "product", "category",
                          "priority", "updated"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
      assert_non_null(json_object_get(h, keys[k]));
  }
  assert_string_equal(json_string_value(json_object_get(j, "query")), "驱动");
  json_decref(j);
  int status;
  j = search_json(g_db, "驱动", 0, "--type", "ticket", &status);
  assert_int_equal(json_array_size(json_object_get(j, "hits")), 0);
  assert_int_equal(status, 1);
  json_decref(j);
}

static void test_snippet_marks_chinese(void **state) {
  (void)state;
  json_t *j = search_json(g_db, "磁盘满", 1, NULL, NULL, NULL);
  const char *snip = json_string_value(json_object_get(json_array_get(json_object_get(j, "hits"), 0), "snippet"));
  assert_true(tu_contains(snip, "<mark>"));
  json_decref(j);
}

static void test_usage_errors(void **state) {
  (void)state;
  char bin[4096];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-search"));
  char *bad[] = {bin, "--limit", "abc", "x", NULL};
  assert_int_equal(tu_run(bad, NULL, NULL), 2);
  char *help[] = {bin, "--help", NULL};
  kb_buf out = {0};
  assert_int_equal(tu_run(help, &out, NULL), 0);
  assert_true(tu_contains(out.data, "用法"));
  kb_buf_free(&out);
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-index"));
  char *unknown[] = {bin, "frobnicate", NULL};
  assert_int_equal(tu_run(unknown, NULL, NULL), 2);
  char *missing[] = {bin, "--db", "/nonexistent/kb.db", "stats", NULL};
  kb_buf err = {0};
  assert_int_equal(tu_run(missing, NULL, &err), 1);
  assert_true(tu_contains(err.data, "/nonexistent/kb.db"));
  kb_buf_free(&err);
}

/* The total of several free words is the match set, whatever the page
 * size: a one-hit page says as many results as a page that shows them all. */
static void test_total_is_the_match_set_on_any_page(void **state) {
  (void)state;
  json_t *one = search_json(g_db, "打印机 脱机", 0, "--limit", "1", NULL);
  json_t *all = search_json(g_db, "打印机 脱机", 0, "--limit", "100", NULL);
  assert_non_null(one);
  assert_non_null(all);
  json_int_t n = json_integer_value(json_object_get(all, "total"));
  assert_true(n >= 2);
  assert_int_equal(json_array_size(json_object_get(all, "hits")), (size_t)n);
  assert_int_equal(json_integer_value(json_object_get(one, "total")), n);
  json_decref(one);
  json_decref(all);
}

static void test_explain_names_words_without_match(void **state) {
  (void)state;
  char bin[4096];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-search"));
  char *argv[] = {bin, "--db", g_db, "--explain", "打印机 量子纠缠 zzqqxx", NULL};
  kb_buf out = {0};
  tu_run(argv, &out, NULL);
  assert_true(tu_contains(out.data, "打印机 | 量子 | 纠缠 | zzqqxx"));
  assert_true(tu_contains(out.data, "[无匹配 (no match): 量子 纠缠 zzqqxx]"));
  kb_buf_free(&out);
  /* the public is told nothing about internal-only words */
  char *pub[] = {bin, "--db", g_db, "--explain", "--public", "undoprobe", NULL};
  tu_run(pub, &out, NULL);
  assert_true(tu_contains(out.data, "[无匹配 (no match): undoprob"));
  kb_buf_free(&out);
}

static void test_user_synonyms_without_reindex(void **state) {
  (void)state;
  char path[1200], bin[4096];
  snprintf(path, sizeof path, "%s.synonyms.txt", g_db);
  tu_write_str(path, "# ours\r\nzebraprint = 打印机\n");
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-index"));
  char *save[] = {bin, "--db", g_db, "--synonyms", path, NULL};
  assert_int_equal(tu_run(save, NULL, NULL), 0);
  json_t *j = search_json(g_db, "zebraprint", 1, NULL, NULL, NULL);
  assert_true(rank_of(j, "a/printing/printer-offline") > 0);
  json_decref(j);
  /* an empty file removes them */
  tu_write_str(path, "");
  assert_int_equal(tu_run(save, NULL, NULL), 0);
  int st;
  j = search_json(g_db, "zebraprint", 1, NULL, NULL, &st);
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 0);
  json_decref(j);
  /* a file that is not UTF-8 is refused, naming it */
  tu_write_str(path, "\xff\xfe = x\n");
  kb_buf err = {0};
  assert_int_equal(tu_run(save, NULL, &err), 1);
  assert_true(tu_contains(err.data, "synonyms.txt"));
  kb_buf_free(&err);
}

/* ------------------------------------------------------------ fixtures */

static void test_sync_removes_deleted_file(void **state) {
  (void)state;
  char dir[1024], db[1024], victim[4096];
  snprintf(dir, sizeof dir, "%s/kb-copy", g_tmp);
  snprintf(db, sizeof db, "%s/copy.db", g_tmp);
  copy_tree("articles", dir);
  assert_int_equal(run_kb_index(db, NULL, NULL, "sync", dir, NULL), 0);
  json_int_t n = stats_count(db, "documents", NULL);
  snprintf(victim, sizeof victim, "%s/os/linux-disk-full.md", dir);
  assert_int_equal(remove(victim), 0);
  kb_buf err = {0};
  assert_int_equal(run_kb_index(db, NULL, &err, "sync", dir, NULL), 0);
  assert_true(tu_contains(err.data, "删除 1"));
  assert_int_equal(stats_count(db, "documents", NULL), n - 1);
  json_t *j = search_json(db, "\"No space left on device\"", 0, NULL, NULL, NULL);
  assert_int_equal(rank_of(j, "a/os/linux-disk-full"), 0);
  json_decref(j);
  /* add of a single file keeps the id it had under its folder */
  tu_write_str(victim, "---\ntitle: 磁盘满 disk full\n---\n\nNo space left on device\n");
  assert_int_equal(run_kb_index(db, NULL, NULL, "add", victim, NULL), 0);
  j = search_json(db, "\"No space left on device\"", 0, NULL, NULL, NULL);
  assert_true(rank_of(j, "a/os/linux-disk-full") >= 1);
  json_decref(j);
  /* delete by id */
  kb_buf_reset(&err);
  assert_int_equal(run_kb_index(db, NULL, &err, "delete", "a/os/linux-disk-full", NULL), 0);
  assert_int_equal(stats_count(db, "documents", NULL), n - 1);
  assert_int_equal(run_kb_index(db, NULL, NULL, "delete", "a/no/such", NULL), 3);
  kb_buf_free(&err);
}

static void test_malformed_files_skipped(void **state) {
  (void)state;
  char dir[1024], db[1024], path[4096];
  snprintf(dir, sizeof dir, "%s/bad", g_tmp);
  snprintf(db, sizeof db, "%s/bad.db", g_tmp);
  snprintf(path, sizeof path, "%s/good.md", dir);
  tu_write_str(path, "---\ntitle: 正常文章\nproduct: os\n---\n\n重启服务器 reboot\n");
  snprintf(path, sizeof path, "%s/no-colon.md", dir);
  tu_write_str(path, "---\ntitle: x\nthis line has no colon\n---\nbody\n");
  snprintf(path, sizeof path, "%s/unterminated.md", dir);
  tu_write_str(path, "---\ntitle: x\n\nbody without end of front matter\n");
  snprintf(path, sizeof path, "%s/bad-date.md", dir);
  tu_write_str(path, "---\ntitle: x\nupdated: 2026-02-30\n---\nbody\n");
  snprintf(path, sizeof path, "%s/sub/latin1.md", dir);
  tu_write_str(path, "# title\n\nline two\ncaf\xe9 line three\n");
  kb_buf err = {0};
  assert_int_equal(run_kb_index(db, NULL, &err, "add", dir, NULL), 3);
  assert_true(tu_contains(err.data, "no-colon.md:3:"));
  assert_true(tu_contains(err.data, "unterminated.md:1:"));
  assert_true(tu_contains(err.data, "bad-date.md:3:"));
  assert_true(tu_contains(err.data, "latin1.md:4:"));
  assert_true(tu_contains(err.data, "UTF-8"));
  assert_true(tu_contains(err.data, "跳过 4"));
  assert_int_equal(stats_count(db, "documents", NULL), 1);
  /* a sync keeps what was stored for a file that became malformed */
  snprintf(path, sizeof path, "%s/good.md", dir);
  tu_write_str(path, "---\ntitle broken\n---\n");
  kb_buf_reset(&err);
  assert_int_equal(run_kb_index(db, NULL, &err, "sync", dir, NULL), 3);
  assert_int_equal(stats_count(db, "documents", NULL), 1);
  kb_buf_free(&err);
}

/* kb-search --json gives the facets /api/search gives, summing to the
 * total. */
static void test_json_facets(void **state) {
  (void)state;
  json_t *j = search_json(g_db, "打印机", 1, NULL, NULL, NULL);
  assert_non_null(j);
  json_int_t total = json_integer_value(json_object_get(j, "total"));
  assert_true(total > 0);
  json_t *facets = json_object_get(j, "facets");
  const char *names[] = {"type", "product", "category"};
  for (int f = 0; f < 3; f++) {
    json_t *counts = json_object_get(facets, names[f]);
    json_int_t sum = 0;
    const char *key;
    json_t *v;
    json_object_foreach(counts, key, v) sum += json_integer_value(v);
    assert_int_equal(sum, total);
  }
  assert_true(json_integer_value(json_object_get(json_object_get(facets, "product"), "printing")) > 0);
  json_decref(j);
}

/* A file name that would make a link that lies (U+202E turns the rest
 * around) or that does not work is no article: skipped, naming the file
 * and the field. */
static void test_article_names_that_make_bad_links(void **state) {
  (void)state;
  char dir[1024], db[1024], path[4096];
  snprintf(dir, sizeof dir, "%s/names", g_tmp);
  snprintf(db, sizeof db, "%s/names.db", g_tmp);
  snprintf(path, sizeof path, "%s/ok name.md", dir);
  tu_write_str(path, "# 正常 zizzleword\n\n正文\n");
  snprintf(path, sizeof path, "%s/evil\xE2\x80\xAE" "dm.exe.md", dir);
  tu_write_str(path, "# 假的 zizzleword\n\n正文\n");
  snprintf(path, sizeof path, "%s/tab\there.md", dir);
  tu_write_str(path, "# 制表 zizzleword\n\n正文\n");
  kb_buf err = {0};
  assert_int_equal(run_kb_index(db, NULL, &err, "add", dir, NULL), 3);
  assert_true(tu_contains(err.data, "dm.exe.md: id:"));
  assert_true(tu_contains(err.data, "bidirectional"));
  assert_true(tu_contains(err.data, "here.md: id:"));
  assert_true(tu_contains(err.data, "control"));
  json_t *j = search_json(db, "zizzleword", 0, NULL, NULL, NULL);
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
  json_t *hit = json_array_get(json_object_get(j, "hits"), 0);
  assert_string_equal(json_string_value(json_object_get(hit, "id")), "a/ok name");
  assert_string_equal(json_string_value(json_object_get(hit, "url")), "/a/ok%20name");
  json_decref(j);
  kb_buf_free(&err);
}

/* Starts kb-index --db db import - with its standard input a pipe: it
 * holds db's write lock, waiting for input, until killed. Its pid. */
static pid_t hold_write_lock(const char *db) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(p[0], 0);
    close(p[1]);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    execl(tu_bin("kb-index"), "kb-index", "--db", db, "import", "--format", "jsonl", "-",
          (char *)NULL);
    _exit(127);
  }
  close(p[0]); /* p[1] stays open in this process: the child waits */
  /* until the lock is taken, seen without taking it (a writer of ours
   * could take it first and make the child give up) */
  char lock[1200];
  snprintf(lock, sizeof lock, "%s/flintlock", db);
  for (int i = 0; i < 200; i++) {
    int fd = open(lock, O_RDWR);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    bool held = fd >= 0 && fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    if (fd >= 0) close(fd);
    if (held) return pid;
    usleep(50000);
  }
  fail_msg("%s: the lock was never taken", db);
  return pid;
}

/* After a sharded import that did not merge (an input that failed, a
 * shard that could not be merged), the summary says the records are
 * staged, not imported: they are not in the index yet. The run after
 * merges them and says imported. */
static void test_unmerged_shards_are_not_imported(void **state) {
  (void)state;
  char db[1024], file[1024], missing[1024], shard[1100];
  snprintf(db, sizeof db, "%s/staged.db", g_tmp);
  snprintf(file, sizeof file, "%s/staged.jsonl", g_tmp);
  snprintf(missing, sizeof missing, "%s/no-such.jsonl", g_tmp);
  snprintf(shard, sizeof shard, "%s/staging-0", db);
  kb_buf text = {0};
  for (int i = 0; i < 300; i++)
    kb_buf_printf(&text, "{\"id\":\"ST-%d\",\"title\":\"打印机 脱机 %d\"}\n", i, i);
  tu_write_str(file, text.data);
  kb_buf_free(&text);
  char *argv[] = {(char *)tu_bin("kb-index"), "--db", db, "import", "--progress", "never",
                  "--shards", "2", file, missing, NULL};
  char bin[4096];
  snprintf(bin, sizeof bin, "%s", argv[0]);
  argv[0] = bin;
  kb_buf err = {0};
  assert_int_equal(tu_run(argv, NULL, &err), 1); /* the second input is missing */
  assert_true(tu_contains(err.data, "NOT imported"));
  assert_true(tu_contains(err.data, "暂存 300"));
  assert_true(tu_contains(err.data, "(staged, updated"));
  assert_int_equal(stats_count(db, "documents", NULL), 0);
  /* the same import again, while a shard is locked: it cannot go on */
  pid_t locker = hold_write_lock(shard);
  argv[9] = NULL;
  kb_buf_reset(&err);
  assert_int_equal(tu_run(argv, NULL, &err), 1);
  assert_true(tu_contains(err.data, "another writer holds the index"));
  assert_true(tu_contains(err.data, "NOT imported"));
  assert_false(tu_contains(err.data, "导入 (import): "));
  kill(locker, SIGKILL);
  waitpid(locker, NULL, 0);
  assert_int_equal(stats_count(db, "documents", NULL), 0);
  /* and once more: merged, imported */
  kb_buf_reset(&err);
  assert_int_equal(tu_run(argv, NULL, &err), 0);
  assert_true(tu_contains(err.data, "导入 (import): "));
  assert_false(tu_contains(err.data, "NOT imported"));
  assert_int_equal(stats_count(db, "documents", NULL), 300);
  kb_buf_free(&err);
}

/* ---------------------------------------------------------------- main */

static int setup(void **state) {
  (void)state;
  g_tmp = tu_tempdir();
  snprintf(g_db, sizeof g_db, "%s/kb.db", g_tmp);
  kb_buf err = {0};
  int rc = run_kb_index(g_db, NULL, &err, "sync", "articles", NULL);
  if (rc != 0) fprintf(stderr, "kb-index sync articles failed (%d): %s\n", rc, err.data);
  kb_buf_free(&err);
  return rc;
}

static int teardown(void **state) {
  (void)state;
  tu_rmtree(g_tmp);
  free(g_tmp);
  return 0;
}

/* Reads every tests/data/queries/NAME.tsv line into cases. */
static size_t load_queries(query_case **out) {
  size_t n = 0, cap = 0;
  query_case *v = NULL;
  DIR *d = opendir("tests/data/queries");
  assert_non_null(d);
  opencc_t s2twp = opencc_open("s2twp.json");
  assert_true(s2twp != (opencc_t)-1);
  for (struct dirent *e; (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    if (len < 5 || strcmp(e->d_name + len - 4, ".tsv") != 0) continue;
    char path[4096];
    snprintf(path, sizeof path, "tests/data/queries/%s", e->d_name);
    FILE *f = fopen(path, "r");
    char line[4096];
    while (f && fgets(line, sizeof line, f)) {
      line[strcspn(line, "\r\n")] = '\0';
      char *tab = strchr(line, '\t');
      if (!tab || line[0] == '#') continue;
      *tab = '\0';
      if (n == cap) {
        cap = cap ? cap * 2 : 128;
        v = realloc(v, cap * sizeof *v);
      }
      v[n].query = strdup(line);
      v[n].expected = strdup(tab + 1);
      v[n].variant = NULL;
      n++;
      /* the same query as a Taiwan customer types it (伺服器, 資料庫, 印表機):
       * it must find the same article */
      char *tw = opencc_convert_utf8(s2twp, line, strlen(line));
      if (tw && strcmp(tw, line) != 0) {
        if (n == cap) {
          cap *= 2;
          v = realloc(v, cap * sizeof *v);
        }
        v[n] = (query_case){strdup(tw), strdup(tab + 1), "s2twp"};
        n++;
      }
      if (tw) opencc_convert_utf8_free(tw);
    }
    if (f) fclose(f);
  }
  closedir(d);
  opencc_close(s2twp);
  *out = v;
  return n;
}

int main(void) {
  static const struct CMUnitTest fixed[] = {
      cmocka_unit_test(test_sync_indexes_every_article),
      cmocka_unit_test(test_stats_json_shape),
      cmocka_unit_test(test_rerun_changes_nothing),
      cmocka_unit_test(test_article_id_from_path),
      cmocka_unit_test(test_technical_token_parts),
      cmocka_unit_test(test_nfkc_and_case),
      cmocka_unit_test(test_segmentation_mismatch),
      cmocka_unit_test(test_phrase_and_exclusion),
      cmocka_unit_test(test_public_never_sees_internal),
      cmocka_unit_test(test_filters_and_json_shape),
      cmocka_unit_test(test_snippet_marks_chinese),
      cmocka_unit_test(test_usage_errors),
      cmocka_unit_test(test_total_is_the_match_set_on_any_page),
      cmocka_unit_test(test_explain_names_words_without_match),
      cmocka_unit_test(test_user_synonyms_without_reindex),
      cmocka_unit_test(test_sync_removes_deleted_file),
      cmocka_unit_test(test_malformed_files_skipped),
      cmocka_unit_test(test_json_facets),
      cmocka_unit_test(test_article_names_that_make_bad_links),
      cmocka_unit_test(test_unmerged_shards_are_not_imported),
  };
  query_case *cases;
  size_t nq = load_queries(&cases);
  size_t nfixed = sizeof fixed / sizeof fixed[0];
  struct CMUnitTest *tests = calloc(nfixed + nq, sizeof *tests);
  memcpy(tests, fixed, sizeof fixed);
  char **names = calloc(nq ? nq : 1, sizeof *names);
  for (size_t i = 0; i < nq; i++) {
    size_t len = strlen(cases[i].query) + strlen(cases[i].expected) + 16;
    names[i] = malloc(len + 8);
    snprintf(names[i], len + 8, "top3%s%s: %s -> %s", cases[i].variant ? " " : "",
             cases[i].variant ? cases[i].variant : "", cases[i].query, cases[i].expected);
    tests[nfixed + i] = (struct CMUnitTest){names[i], test_query_top3, NULL, NULL, &cases[i]};
  }
  int failed = _cmocka_run_group_tests("cli", tests, nfixed + nq, setup, teardown);
  for (size_t i = 0; i < nq; i++) {
    free(names[i]);
    free(cases[i].query);
    free(cases[i].expected);
  }
  free(names);
  free(cases);
  free(tests);
  return failed;
}
