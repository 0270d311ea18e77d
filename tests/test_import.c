/* test_import.c — integration tests of `kb-index import`: the real binary
 * on fixture exports (JSONL, CSV, gzip, stdin, GBK, --map), rejects, exit
 * statuses, re-imports, a full disk. SIGKILLs at random moments of an
 * import, and of a sharded one's merge, are tests/test_crash.c's. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unicode/ucnv.h>
#include <unistd.h>
#include <zlib.h>

#include "kb/analyze.h"
#include "kb/import.h"
#include "testutil.h"

static char *g_tmp;

static void path_in(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", g_tmp, name); }

/* kb-index --db DB import ARGS... ; NULL-terminated args. */
static int import(const char *db, kb_buf *err, const char *a1, const char *a2, const char *a3,
                  const char *a4, const char *a5) {
  char bin[1024];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-index"));
  char *argv[] = {bin, "--db", (char *)db, "import", "--progress", "never", (char *)a1,
                  (char *)a2, (char *)a3, (char *)a4, (char *)a5, NULL};
  return tu_run(argv, NULL, err);
}

static json_int_t doc_count(const char *db) {
  char bin[1024];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-index"));
  char *argv[] = {bin, "--db", (char *)db, "stats", "--json", NULL};
  kb_buf out = {0};
  if (tu_run(argv, &out, NULL) != 0) {
    kb_buf_free(&out);
    return -1;
  }
  json_t *j = json_loads(out.data, 0, NULL);
  json_int_t n = json_integer_value(json_object_get(j, "documents"));
  json_decref(j);
  kb_buf_free(&out);
  return n;
}

/* Documents in the public's database (kb-index stats). */
static json_int_t public_docs(const char *db) {
  char bin[1024];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-index"));
  char *argv[] = {bin, "--db", (char *)db, "stats", "--json", NULL};
  kb_buf out = {0};
  tu_run(argv, &out, NULL);
  json_t *j = json_loads(out.data, 0, NULL);
  json_int_t n = json_integer_value(json_object_get(json_object_get(j, "by_audience"), "public"));
  json_decref(j);
  kb_buf_free(&out);
  return n;
}

static json_t *search(const char *db, const char *q) {
  char bin[1024];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-search"));
  char *argv[] = {bin, "--db", (char *)db, "--json", "--", (char *)q, NULL};
  kb_buf out = {0};
  tu_run(argv, &out, NULL);
  json_t *j = json_loads(out.data, 0, NULL);
  kb_buf_free(&out);
  return j;
}

static const char *first_title(json_t *j) {
  return json_string_value(json_object_get(json_array_get(json_object_get(j, "hits"), 0), "title"));
}

/* ---------------------------------------------------------------- JSONL */

static void test_jsonl_rejects_and_reimport(void **state) {
  (void)state;
  char file[1100], db[1100], rejects[1100];
  path_in(file, sizeof file, "t.jsonl");
  path_in(db, sizeof db, "jsonl.db");
  path_in(rejects, sizeof rejects, "rejects.jsonl");
  tu_write_str(file,
               "\xEF\xBB\xBF{\"id\":\"1001\",\"title\":\"打印机脱机\",\"problem\":\"客户的网络打印机显示脱机\","
               "\"resolution\":\"重新添加 TCP/IP 端口后恢复\",\"priority\":\"P2\",\"product\":\"printing\","
               "\"closed\":\"2025-03-01 10:00:00\"}\r\n"
               "{\"id\":\"1002\",\"title\":\"ORA-12170\",\"resolution\":\"防火墙放行 1521 端口\",\"priority\":\"紧急\"}\r\n"
               "{not json}\r\n"
               "\r\n"
               "{\"title\":\"没有工单号\",\"problem\":\"x\"}\n"
               "{\"id\":\"1003\",\"title\":\"t\",\"priority\":\"P9\"}\n"
               "{\"id\":\"1004\"}\n"
               "{\"id\":\"1005\",\"problem\":\"数据库连接超时\",\"closed\":\"yesterday\"}\n"
               "{\"id\":\"1006\",\"problem\":\"nginx 502 错误\",\"priority\":3}\n");
  kb_buf err = {0};
  assert_int_equal(import(db, &err, "--rejects", rejects, file, NULL, NULL), 3);
  assert_true(tu_contains(err.data, "t.jsonl:3:"));
  assert_true(tu_contains(err.data, "t.jsonl:5: 字段 (field) id"));
  assert_true(tu_contains(err.data, "t.jsonl:6: 字段 (field) priority"));
  assert_true(tu_contains(err.data, "t.jsonl:7:"));
  assert_true(tu_contains(err.data, "t.jsonl:8: 字段 (field) closed"));
  assert_true(tu_contains(err.data, "新增 3, 更新 0, 未变 0, 拒绝 5"));
  assert_int_equal(doc_count(db), 3);
  kb_buf rej = {0};
  assert_int_equal(tu_read_file(rejects, &rej), 0);
  assert_true(tu_contains(rej.data, "{not json}\r\n"));
  assert_true(tu_contains(rej.data, "{\"id\":\"1004\"}\n"));
  assert_true(tu_contains(rej.data, "\"closed\":\"yesterday\""));
  kb_buf_free(&rej);
  /* found by engineers, with the normalised priority */
  json_t *j = search(db, "打印机 脱机");
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "hits"), 0), "id")),
                      "t/1001");
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "hits"), 0), "priority")),
                      "P2");
  json_decref(j);
  /* tickets are internal: the public sees none */
  char bin[1024];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-search"));
  char *pub[] = {bin, "--db", db, "--json", "--public", "打印机", NULL};
  kb_buf out = {0};
  assert_int_equal(tu_run(pub, &out, NULL), 1);
  kb_buf_free(&out);
  /* the same input again: the checkpoint skips it, nothing duplicates */
  kb_buf_reset(&err);
  assert_int_equal(import(db, &err, file, NULL, NULL, NULL, NULL), 0);
  assert_true(tu_contains(err.data, "从检查点继续"));
  assert_int_equal(doc_count(db), 3);
  /* --restart reads it all again: unchanged, not duplicated */
  kb_buf_reset(&err);
  assert_int_equal(import(db, &err, "--restart", file, NULL, NULL, NULL), 3);
  assert_true(tu_contains(err.data, "新增 0, 更新 0, 未变 3, 拒绝 5"));
  assert_int_equal(doc_count(db), 3);
  kb_buf_free(&err);
}

static void test_overlapping_exports_and_updates(void **state) {
  (void)state;
  char a[1100], b[1100], db[1100];
  path_in(a, sizeof a, "a.jsonl");
  path_in(b, sizeof b, "b.jsonl");
  path_in(db, sizeof db, "overlap.db");
  tu_write_str(a, "{\"id\":\"1\",\"title\":\"one\"}\n{\"id\":\"2\",\"title\":\"two\"}\n");
  tu_write_str(b, "{\"id\":\"2\",\"title\":\"two, edited\"}\n{\"id\":\"3\",\"title\":\"three\"}\n");
  kb_buf err = {0};
  assert_int_equal(import(db, &err, a, b, NULL, NULL, NULL), 0);
  assert_true(tu_contains(err.data, "新增 3, 更新 1, 未变 0"));
  assert_int_equal(doc_count(db), 3);
  json_t *j = search(db, "edited");
  assert_string_equal(first_title(j), "two, edited");
  json_decref(j);
  kb_buf_free(&err);
}

/* ------------------------------------------------------------------ CSV */

static void test_csv_multiline_bom_crlf_map(void **state) {
  (void)state;
  char file[1100], db[1100];
  path_in(file, sizeof file, "export.csv");
  path_in(db, sizeof db, "csv.db");
  tu_write_str(file,
               "\xEF\xBB\xBF" "编号X,主题,问题描述,解决方案,优先级,产品\r\n"
               "T-1,\"磁盘满, 无法写入\",\"客户说：\r\n\"\"No space left on device\"\"\r\n第三行\",清理日志,高,os\r\n"
               "T-2,打印机卡纸,\"纸盒\r\n卡住\",,P5,printing\r\n"
               "T-3,蓝屏,\"BSOD 0x0000007B\",更新驱动,低,os\r\n");
  kb_buf err = {0};
  char rejects[1100];
  path_in(rejects, sizeof rejects, "rejects.csv");
  assert_int_equal(import(db, &err, "--map", "id=编号X", "--rejects", rejects, file), 3);
  assert_true(tu_contains(err.data, "export.csv:5: 字段 (field) priority"));
  assert_true(tu_contains(err.data, "新增 2, 更新 0, 未变 0, 拒绝 1"));
  /* the CSV rejects file: the header, then the bad record as it was */
  kb_buf rej = {0};
  assert_int_equal(tu_read_file(rejects, &rej), 0);
  assert_string_equal(rej.data, "\xEF\xBB\xBF" "编号X,主题,问题描述,解决方案,优先级,产品\r\n"
                                "T-2,打印机卡纸,\"纸盒\r\n卡住\",,P5,printing\r\n");
  kb_buf_free(&rej);
  json_t *j = search(db, "\"No space left on device\"");
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "hits"), 0), "id")),
                      "t/T-1");
  assert_string_equal(first_title(j), "磁盘满, 无法写入");
  json_decref(j);
  /* without --map the id column is not found: a clear error */
  char db2[1100];
  path_in(db2, sizeof db2, "csv2.db");
  kb_buf_reset(&err);
  assert_int_equal(import(db2, &err, file, NULL, NULL, NULL, NULL), 1);
  assert_true(tu_contains(err.data, "--map"));
  kb_buf_free(&err);
}

static void write_gbk(const char *path, const char *utf8) {
  UErrorCode st = U_ZERO_ERROR;
  size_t cap = strlen(utf8) * 2 + 16;
  char *out = malloc(cap);
  int32_t n = ucnv_convert("GBK", "UTF-8", out, (int32_t)cap, utf8, -1, &st);
  assert_true(U_SUCCESS(st));
  tu_write_file(path, out, (size_t)n);
  free(out);
}

static void test_gbk_gzip_and_stdin(void **state) {
  (void)state;
  char file[1100], gz[1100], db[1100];
  path_in(file, sizeof file, "gbk.csv");
  path_in(gz, sizeof gz, "gbk.csv.gz");
  path_in(db, sizeof db, "gbk.db");
  const char *csv = "工单号,主题,问题描述,解决方案,优先级\n"
                    "G1,服务器无法启动,客户反映服务器开机后卡在自检界面,更换内存条后恢复正常,紧急\n"
                    "G2,打印机驱动安装失败,安装驱动程序时提示找不到指定模块,使用厂商的通用驱动,中\n"
                    "G3,邮件发送失败,SMTP 535 认证失败,重新生成授权码,低\n";
  write_gbk(file, csv);
  /* the same bytes gzip-compressed */
  kb_buf raw = {0};
  assert_int_equal(tu_read_file(file, &raw), 0);
  gzFile g = gzopen(gz, "wb");
  gzwrite(g, raw.data, (unsigned)raw.len);
  gzclose(g);
  kb_buf err = {0};
  assert_int_equal(import(db, &err, gz, NULL, NULL, NULL, NULL), 0);
  assert_true(tu_contains(err.data, "新增 3"));
  json_t *j = search(db, "服务器 无法启动");
  assert_string_equal(first_title(j), "服务器无法启动");
  json_decref(j);
  /* the same GBK bytes on standard input, with the encoding given */
  char db2[1100];
  path_in(db2, sizeof db2, "stdin.db");
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s --db %s import --progress never --format csv --encoding gbk - < %s",
           tu_bin("kb-index"), db2, file);
  char *sh[] = {"/bin/sh", "-c", cmd, NULL};
  kb_buf_reset(&err);
  assert_int_equal(tu_run(sh, NULL, &err), 0);
  assert_int_equal(doc_count(db2), 3);
  j = search(db2, "SMTP 535");
  assert_string_equal(first_title(j), "邮件发送失败");
  json_decref(j);
  /* an invalid sequence rejects its record only */
  char bad[1100];
  path_in(bad, sizeof bad, "bad-gbk.csv");
  kb_buf b = {0};
  kb_buf_append(&b, raw.data, raw.len);
  kb_buf_puts(&b, "G4,\x81\x20 broken,x,y,P1\n");
  tu_write_file(bad, b.data, b.len);
  kb_buf_reset(&err);
  assert_int_equal(import(db2, &err, "--encoding", "gbk", bad, NULL, NULL), 3);
  assert_true(tu_contains(err.data, "bad-gbk.csv:5:"));
  kb_buf_free(&b);
  kb_buf_free(&raw);
  kb_buf_free(&err);
}

/* -------------------------------------------------------------- charset */

static void write_zh_tickets(kb_buf *b, const char *problem) {
  for (int i = 0; i < 50; i++)
    kb_buf_printf(b, "{\"id\":\"zh%d\",\"title\":\"数据库连接失败 %d\",\"problem\":\"%s\","
                     "\"resolution\":\"检查监听与防火墙\"}\n", i, i, problem);
}

/* The reproduction of a silent data loss: 50 Chinese tickets, then
 * an export of 100 English ones with one line typed in Word (Windows-1252
 * quotes) before the same 50. The file is UTF-8: the one line is rejected,
 * the Chinese tickets stay as they were, the summary names the charset. */
static void test_one_windows_line_does_not_make_a_file_latin1(void **state) {
  (void)state;
  char zh[1100], mixed[1100], db[1100];
  path_in(zh, sizeof zh, "zh.jsonl");
  path_in(mixed, sizeof mixed, "mixed.jsonl");
  path_in(db, sizeof db, "mixed.db");
  kb_buf b = {0};
  write_zh_tickets(&b, "Oracle 数据库 报错 ORA-12170 连接超时");
  tu_write_file(zh, b.data, b.len);
  kb_buf m = {0};
  for (int i = 0; i < 100; i++)
    kb_buf_printf(&m, "{\"id\":\"en%d\",\"title\":\"Printer offline %d\",\"problem\":\"%s\"}\n", i, i,
                  i == 40 ? "the printer is offline \x93it broke\x94" : "the printer is offline");
  kb_buf_append(&m, b.data, b.len);
  tu_write_file(mixed, m.data, m.len);
  kb_buf err = {0};
  assert_int_equal(import(db, &err, zh, NULL, NULL, NULL, NULL), 0);
  kb_buf_reset(&err);
  assert_int_equal(import(db, &err, mixed, NULL, NULL, NULL, NULL), 3); /* something skipped */
  assert_true(tu_contains(err.data, "mixed.jsonl:41:"));
  assert_true(tu_contains(err.data, "UTF-8"));
  assert_true(tu_contains(err.data, "未变 50"));
  json_t *j = search(db, "数据库");
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 50);
  assert_true(tu_contains(first_title(j), "数据库连接失败"));
  json_decref(j);
  assert_int_equal(doc_count(db), 149);
  kb_buf_free(&b);
  kb_buf_free(&m);
  kb_buf_free(&err);
}

/* Writes utf8: 50 Chinese tickets in UTF-8; gbk: the same ids in GBK with
 * another problem (then extra, if any): a later export a guess must not
 * let replace them. */
static void write_stored_and_later_gbk(const char *utf8, const char *gbk, const char *extra) {
  kb_buf b = {0}, g = {0};
  write_zh_tickets(&b, "Oracle 数据库 报错 ORA-12170 连接超时");
  tu_write_file(utf8, b.data, b.len);
  write_zh_tickets(&g, "监听程序没有响应 ORA-12541");
  if (extra) kb_buf_puts(&g, extra);
  write_gbk(gbk, g.data);
  kb_buf_free(&b);
  kb_buf_free(&g);
}

/* A charset that was guessed adds tickets but replaces none: the stored
 * copy stays until the user confirms the charset with --encoding. */
static void test_guessed_charset_never_replaces_a_stored_ticket(void **state) {
  (void)state;
  char utf8[1100], gbk[1100], db[1100];
  path_in(utf8, sizeof utf8, "stored.jsonl");
  path_in(gbk, sizeof gbk, "later-gbk.jsonl");
  path_in(db, sizeof db, "guess.db");
  write_stored_and_later_gbk(utf8, gbk, "{\"id\":\"new1\",\"title\":\"新的工单 打印机脱机\"}\n");
  kb_buf err = {0};
  assert_int_equal(import(db, &err, utf8, NULL, NULL, NULL, NULL), 0);
  kb_buf_reset(&err);
  assert_int_equal(import(db, &err, gbk, NULL, NULL, NULL, NULL), 3);
  assert_true(tu_contains(err.data, "GB18030"));
  assert_true(tu_contains(err.data, "--encoding"));
  assert_true(tu_contains(err.data, "新增 1"));
  assert_true(tu_contains(err.data, "拒绝 50"));
  json_t *j = search(db, "ORA-12170");
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 50);
  json_decref(j);
  j = search(db, "打印机脱机");
  assert_string_equal(first_title(j), "新的工单 打印机脱机");
  json_decref(j);
  /* confirmed, the same file replaces them */
  kb_buf_reset(&err);
  assert_int_equal(import(db, &err, "--encoding", "gb18030", gbk, NULL, NULL), 0);
  assert_true(tu_contains(err.data, "更新 50"));
  j = search(db, "ORA-12541");
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 50);
  json_decref(j);
  kb_buf_free(&err);
}

/* The same in a sharded import: a ticket staged in a shard by an earlier
 * input of the run (not merged yet, so not in the index) is a stored one
 * too, and a guessed record must not replace it before the merge. */
static void test_guessed_charset_never_replaces_a_staged_ticket(void **state) {
  (void)state;
  char utf8[1100], gbk[1100], db[1100];
  path_in(utf8, sizeof utf8, "staged.jsonl");
  path_in(gbk, sizeof gbk, "staged-gbk.jsonl");
  path_in(db, sizeof db, "guess-staged.db");
  write_stored_and_later_gbk(utf8, gbk, NULL);
  kb_buf err = {0};
  assert_int_equal(import(db, &err, "--shards", "2", utf8, gbk, NULL), 3);
  assert_true(tu_contains(err.data, "GB18030"));
  assert_true(tu_contains(err.data, "拒绝 50"));
  json_t *j = search(db, "ORA-12170");
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 50);
  json_decref(j);
  j = search(db, "ORA-12541");
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 0);
  json_decref(j);
  kb_buf_free(&err);
}

/* In an input whose charset is guessed (as many lines of it are not UTF-8
 * as are), a line that is valid UTF-8 is read as UTF-8: decoded by the
 * guess (ISO-8859-1 here) it was stored as "CafÃ©", with exit status 0. */
static void test_guessed_charset_keeps_utf8_lines(void **state) {
  (void)state;
  char file[1100], db[1100];
  path_in(file, sizeof file, "half-latin1.jsonl");
  path_in(db, sizeof db, "half-latin1.db");
  kb_buf b = {0};
  for (int i = 0; i < 5; i++)
    kb_buf_printf(&b, "{\"id\":\"u%d\",\"title\":\"Café résumé déjà vu naïve crème brûlée %d\"}\n", i, i);
  for (int i = 0; i < 5; i++)
    kb_buf_printf(&b, "{\"id\":\"w%d\",\"title\":\"Le caf\xE9 \xE9tait ferm\xE9 \xE0 c\xF4t\xE9 de la for\xEAt %d\"}\n", i, i);
  tu_write_file(file, b.data, b.len);
  kb_buf err = {0};
  int st = import(db, &err, file, NULL, NULL, NULL, NULL);
  assert_true(tu_contains(err.data, "guessed"));
  assert_int_equal(st, 0);
  json_t *j = search(db, "brûlée");
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 5);
  assert_true(tu_contains(first_title(j), "Café résumé déjà vu naïve crème brûlée"));
  json_decref(j);
  j = search(db, "forêt");
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 5);
  assert_true(tu_contains(first_title(j), "Le café était fermé à côté de la forêt"));
  json_decref(j);
  kb_buf_free(&b);
  kb_buf_free(&err);
}

/* No charset known well enough: an error that asks for --encoding, and
 * nothing stored. */
static void test_unsure_charset_is_an_error(void **state) {
  (void)state;
  char file[1100], db[1100];
  path_in(file, sizeof file, "unsure.jsonl");
  path_in(db, sizeof db, "unsure.db");
  tu_write_str(file, "{\"id\":\"u1\",\"title\":\"ok\"}\n{\"id\":\"u2\",\"title\":\"\x80\x81\xFD\xFC\x9F\"}\n");
  kb_buf err = {0};
  assert_int_equal(import(db, &err, file, NULL, NULL, NULL, NULL), 1);
  assert_true(tu_contains(err.data, "unsure.jsonl"));
  assert_true(tu_contains(err.data, "--encoding"));
  assert_true(doc_count(db) <= 0);
  kb_buf_free(&err);
}

/* ---------------------------------------------------------------- crash */

static void write_many(const char *path, int n) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  for (int i = 0; i < n; i++)
    fprintf(f, "{\"id\":\"c%d\",\"title\":\"工单 %d 服务器响应慢\",\"problem\":\"客户反映系统在高峰期响应变慢，"
               "页面加载超过十秒，数据库连接数接近上限 %d\",\"resolution\":\"调整连接池参数并扩容应用节点 %d\","
               "\"priority\":\"P%d\"}\n", i, i, i, i, 1 + i % 4);
  fclose(f);
}

static int find_checkpoint(const char *key, const char *value, void *ctx) {
  (void)value;
  kb_buf_puts(ctx, key);
  return 1; /* the first is enough */
}

/* A checkpoint past the input's end (the input read shorter than when it
 * was committed) is a fatal error: the import used to go on from wherever
 * the reader had stopped. */
static void test_unusable_checkpoint_is_fatal(void **state) {
  (void)state;
  char file[1100], db[1100];
  path_in(file, sizeof file, "short.jsonl");
  path_in(db, sizeof db, "short.db");
  tu_write_str(file, "{\"id\":\"s1\",\"title\":\"one\"}\n{\"id\":\"s2\",\"title\":\"two\"}\n");
  kb_buf err = {0};
  assert_int_equal(import(db, &err, file, NULL, NULL, NULL, NULL), 0);
  kb_index *idx = NULL;
  kb_error e = {0};
  assert_int_equal(kb_index_open(db, KB_INDEX_WRITE, &idx, &e), KB_OK);
  kb_buf key = {0};
  assert_int_equal(kb_index_each_meta(idx, "kb:import:", find_checkpoint, &key, &e), 1);
  assert_int_equal(kb_index_set_meta(idx, key.data, "100000 40 40", &e), KB_OK);
  assert_int_equal(kb_index_commit(idx, &e), KB_OK);
  kb_index_free(idx);
  kb_buf_free(&key);
  kb_buf_reset(&err);
  assert_int_equal(import(db, &err, file, NULL, NULL, NULL, NULL), 1);
  assert_true(tu_contains(err.data, "cannot resume from the checkpoint"));
  assert_true(tu_contains(err.data, "short.jsonl"));
  kb_buf_free(&err);
}

/* An index that cannot be written (here: a file size limit, as a full disk
 * would) is a fatal error that names the input and the record's line; it
 * used to say only what Xapian said ("Qt/c263: … File too large"). */
static void test_write_error_names_file_and_line(void **state) {
  (void)state;
  char file[1100], db[1100], cmd[4096];
  path_in(file, sizeof file, "fsize.jsonl");
  path_in(db, sizeof db, "fsize.db");
  write_many(file, 3000);
  const char *shards[] = {"1", "2"};
  for (size_t i = 0; i < sizeof shards / sizeof *shards; i++) {
    /* 512 blocks of 512 bytes; writing past them fails with EFBIG */
    snprintf(cmd, sizeof cmd, "ulimit -f 512; trap '' XFSZ; exec %s --db %s-%s import "
             "--progress never --batch 200 --shards %s %s", tu_bin("kb-index"), db, shards[i],
             shards[i], file);
    char *sh[] = {"/bin/sh", "-c", cmd, NULL};
    kb_buf err = {0};
    assert_int_equal(tu_run(sh, NULL, &err), 1);
    /* the input's charset line names it too: look for PATH:LINE: */
    const char *at = strstr(err.data, "fsize.jsonl:");
    while (at && !isdigit((unsigned char)at[strlen("fsize.jsonl:")]))
      at = strstr(at + 1, "fsize.jsonl:");
    assert_non_null(at);
    kb_buf_free(&err);
  }
}

/* ------------------------------------------------------------ full disk */

/* n tickets of realistic length (bench/gen_tickets over the shipped
 * articles, a fixed seed: the same records every run) into path. */
static void gen_tickets(const char *path, int n) {
  char bin[1024], count[16];
  snprintf(bin, sizeof bin, "%s", tu_bin("bench/gen_tickets"));
  snprintf(count, sizeof count, "%d", n);
  char *argv[] = {bin, "articles", count, NULL};
  kb_buf out = {0};
  assert_int_equal(tu_run(argv, &out, NULL), 0);
  tu_write_file(path, out.data, out.len);
  kb_buf_free(&out);
}

/* After an import into db failed on a full disk (its stderr in err): the
 * message names the index and the reason, the index holds whole batches
 * and is sound, and running the same import again resumes exactly after
 * them and ends with every record once. */
static void expect_full_disk_then_resume(const char *db, const char *file, int total,
                                         const char *batch, const char *shards, int status,
                                         const kb_buf *err, const char *reason) {
  if (status != 1 || !tu_contains(err->data, db) || !tu_contains(err->data, reason))
    fprintf(stderr, "status %d, stderr: %s\n", status, err->data);
  assert_int_equal(status, 1); /* was 134: terminate called after throwing … DatabaseError */
  assert_true(tu_contains(err->data, db));
  assert_true(tu_contains(err->data, reason));
  assert_false(tu_contains(err->data, "terminate called"));
  long n = tu_doc_count(db);
  assert_true(n >= 0);
  if (strcmp(shards, "1") == 0) assert_int_equal(n % atoi(batch), 0);
  else assert_int_equal(n, 0); /* the shards are merged at the end, or not at all */
  int checked = 0;
  assert_int_equal(tu_xapian_check(db, &checked, NULL), 0);
  assert_true(checked >= 1);
  kb_buf again = {0};
  assert_int_equal(import(db, &again, "--batch", batch, file, NULL, NULL), 0);
  char expect[128];
  if (n > 0 && strcmp(shards, "1") == 0) {
    snprintf(expect, sizeof expect, "跳过已提交的 %ld 条记录", n);
    assert_true(tu_contains(again.data, expect));
  }
  snprintf(expect, sizeof expect, "新增 %ld, 更新 0, 未变 0", strcmp(shards, "1") ? 0 : total - n);
  if (strcmp(shards, "1") == 0) assert_true(tu_contains(again.data, expect));
  assert_int_equal(tu_doc_count(db), total);
  assert_int_equal(tu_ids_stored_twice(db), 0);
  assert_int_equal(tu_xapian_check(db, &checked, NULL), 0);
  kb_buf_free(&again);
}

/* A full disk during an import is a fatal error (exit 1) that names the
 * index and the reason, never an abort: Xapian's commit() used to
 * terminate the process from inside at some points of the write that
 * failed ("terminate called after throwing an instance of
 * 'Xapian::DatabaseError'", exit 134). Each limit and batch size below
 * stops the import at another point of its writes (several of them at
 * such a point, with this input); every earlier batch stays, and the
 * next run resumes exactly. The full disk is RLIMIT_FSIZE here, which
 * needs no privileges and fails a write as a full disk does (EFBIG). */
static void test_full_disk_exits_cleanly_and_resumes(void **state) {
  (void)state;
  const int total = 800;
  char file[1100];
  path_in(file, sizeof file, "full.jsonl");
  gen_tickets(file, total);
  static const struct {
    int blocks; /* of 512 bytes */
    const char *batch, *shards;
  } cases[] = {{600, "37", "1"},   {1400, "100", "1"}, {1600, "37", "1"},
               {2400, "250", "1"}, {2400, "100", "2"}, {4000, "250", "2"}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char db[1100], name[64], cmd[4096];
    snprintf(name, sizeof name, "full-%zu.db", i);
    path_in(db, sizeof db, name);
    snprintf(cmd, sizeof cmd, "ulimit -f %d; trap '' XFSZ; exec %s --db %s import --progress never "
             "--batch %s --shards %s %s", cases[i].blocks, tu_bin("kb-index"), db, cases[i].batch,
             cases[i].shards, file);
    char *sh[] = {"/bin/sh", "-c", cmd, NULL};
    kb_buf err = {0};
    int status = tu_run(sh, NULL, &err);
    expect_full_disk_then_resume(db, file, total, cases[i].batch, cases[i].shards, status, &err,
                                 "文件超出大小限制 (file size limit reached)");
    kb_buf_free(&err);
  }
}

/* The same on a file system that is really full (ENOSPC): a small tmpfs,
 * grown after the failure (as an administrator frees space). Mounting
 * needs privileges (CI runs as root); without them RLIMIT_FSIZE above
 * covers the same writes, and this says it was not run. */
static void test_full_tmpfs_exits_cleanly_and_resumes(void **state) {
  (void)state;
  const int total = 800;
  char file[1100], mnt[1100];
  path_in(file, sizeof file, "full-tmpfs.jsonl");
  path_in(mnt, sizeof mnt, "small-fs");
  gen_tickets(file, total);
  static const struct {
    const char *size, *batch;
  } cases[] = {{"size=600k", "37"}, {"size=1500k", "37"}, {"size=2400k", "37"},
               {"size=3000k", "250"}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    mkdir(mnt, 0755);
    if (mount("tmpfs", mnt, "tmpfs", 0, cases[i].size) != 0) {
      printf("# full tmpfs: not run, cannot mount a tmpfs (%s); RLIMIT_FSIZE covers it\n",
             strerror(errno));
      return;
    }
    char db[1200];
    snprintf(db, sizeof db, "%s/kb.db", mnt);
    kb_buf err = {0};
    int status = import(db, &err, "--batch", cases[i].batch, file, NULL, NULL);
    /* space freed: the next run has room */
    assert_int_equal(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT, "size=64m"), 0);
    expect_full_disk_then_resume(db, file, total, cases[i].batch, "1", status, &err,
                                 "磁盘已满 (disk full)");
    kb_buf_free(&err);
    assert_int_equal(umount2(mnt, MNT_DETACH), 0);
  }
}

static bool staging_left(const char *db);

/* The largest file under dir, in bytes. */
static off_t largest_file(const char *dir) {
  off_t most = 0;
  DIR *d = opendir(dir);
  for (struct dirent *e; d && (e = readdir(d));) {
    char p[2200];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    if (e->d_name[0] != '.' && stat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > most)
      most = st.st_size;
  }
  if (d) closedir(d);
  return most;
}

/* A sharded import whose merge meets a full disk (the shards written, the
 * compaction of the index and the shards into one is bigger than the file
 * size limit allows): exit 1, a message naming the index and the reason,
 * the index as it was (its documents, sound), the shards kept; the next
 * run merges them and ends with every record once. */
static void test_full_disk_during_the_merge(void **state) {
  (void)state;
  const int before = 100, total = 800;
  char first[1100], file[1100], db[1100], cmd[4096];
  path_in(first, sizeof first, "merge-full-first.jsonl");
  path_in(file, sizeof file, "merge-full.jsonl");
  path_in(db, sizeof db, "merge-full.db");
  write_many(first, before); /* ids c0…: none of gen_tickets' */
  gen_tickets(file, total);
  /* one in four public: the public's merge is the smaller, and must not be
   * swapped in when the engineers' fails */
  kb_buf text = {0}, pub = {0};
  assert_int_equal(tu_read_file(file, &text), 0);
  int line = 0;
  for (char *l = text.data; l && *l; line++) {
    char *nl = strchr(l, '\n');
    size_t len = nl ? (size_t)(nl - l) + 1 : strlen(l);
    if (line % 4 == 0 && *l == '{') kb_buf_puts(&pub, "{\"visibility\":\"public\",");
    kb_buf_append(&pub, line % 4 == 0 && *l == '{' ? l + 1 : l, line % 4 == 0 && *l == '{' ? len - 1 : len);
    l = nl ? nl + 1 : NULL;
  }
  tu_write_file(file, pub.data, pub.len);
  kb_buf_free(&text);
  kb_buf_free(&pub);
  kb_buf err = {0};
  assert_int_equal(import(db, &err, first, NULL, NULL, NULL, NULL), 0);
  /* the shards written and committed, not merged */
  kb_error e = {0};
  kb_lexicon *lex = NULL;
  kb_index *idx = NULL;
  assert_int_equal(kb_lexicon_new_builtin("lexicon", &lex, &e), KB_OK);
  assert_int_equal(kb_index_open(db, KB_INDEX_WRITE, &idx, &e), KB_OK);
  kb_import_opts o = {.shards = 2, .lexicon = lex};
  kb_import_stats st = {0};
  assert_int_equal(kb_import_file(idx, file, &o, &st, &e), KB_OK);
  kb_index_free(idx);
  kb_lexicon_free(lex);
  /* room for the shards' files to take their last checkpoint, not for the
   * compacted index, which holds them all */
  off_t most = 0;
  for (int k = 0; k < 2; k++) {
    char sp[1200];
    snprintf(sp, sizeof sp, "%s/staging-%d/internal", db, k); /* its biggest database */
    off_t n = largest_file(sp);
    if (n > most) most = n;
  }
  snprintf(cmd, sizeof cmd, "ulimit -f %lld; trap '' XFSZ; exec %s --db %s import --progress never "
           "%s", (long long)(most + most / 8) / 512, tu_bin("kb-index"), db, file);
  char *sh[] = {"/bin/sh", "-c", cmd, NULL};
  kb_buf_reset(&err);
  int status = tu_run(sh, NULL, &err);
  if (status != 1) fprintf(stderr, "status %d, stderr: %s\n", status, err.data);
  assert_int_equal(status, 1);
  assert_true(tu_contains(err.data, "merging the shards failed"));
  assert_true(tu_contains(err.data, db));
  assert_true(tu_contains(err.data, "文件超出大小限制 (file size limit reached)"));
  assert_false(tu_contains(err.data, "terminate called"));
  assert_int_equal(tu_doc_count(db), before);
  assert_int_equal(public_docs(db), 0); /* not the public's merge alone either */
  assert_true(staging_left(db));
  int checked = 0;
  assert_int_equal(tu_xapian_check(db, &checked, NULL), 0);
  assert_true(checked >= 3); /* the index and its two shards */
  kb_buf_reset(&err);
  assert_int_equal(import(db, &err, file, NULL, NULL, NULL, NULL), 0);
  assert_int_equal(tu_doc_count(db), before + total);
  assert_int_equal(public_docs(db), total / 4);
  assert_false(staging_left(db));
  assert_int_equal(tu_ids_stored_twice(db), 0);
  assert_int_equal(tu_xapian_check(db, &checked, NULL), 0);
  kb_buf_free(&err);
}

/* A thread that cannot start (here: a stack bigger than the address space
 * allowed) is a fatal error that says so; the import used to wait for a
 * reader that never ran. Not under AddressSanitizer, which needs far more
 * address space than any such limit leaves (and cmocka's skip() counts as
 * a failure in tests/run's TAP). */
static void test_thread_start_failure_is_fatal(void **state) {
  (void)state;
#ifdef __SANITIZE_ADDRESS__
  return;
#endif
  char file[1100], db[1100], cmd[4096];
  path_in(file, sizeof file, "nothread.jsonl");
  path_in(db, sizeof db, "nothread.db");
  tu_write_str(file, "{\"id\":\"n1\",\"title\":\"one\"}\n");
  const char *shards[] = {"1", "2"};
  for (size_t i = 0; i < sizeof shards / sizeof *shards; i++) {
    snprintf(cmd, sizeof cmd, "ulimit -s 4000000; ulimit -v 2000000; exec timeout 30 %s --db %s-%s "
             "import --progress never --shards %s %s", tu_bin("kb-index"), db, shards[i],
             shards[i], file);
    char *sh[] = {"/bin/sh", "-c", cmd, NULL};
    kb_buf err = {0};
    assert_int_equal(tu_run(sh, NULL, &err), 1);
    assert_true(tu_contains(err.data, "cannot start a thread"));
    kb_buf_free(&err);
  }
}

/* --------------------------------------------------------------- shards */

static bool staging_left(const char *db) {
  char p[1200];
  snprintf(p, sizeof p, "%s/staging-0", db);
  return access(p, F_OK) == 0;
}

static void test_sharded_import_is_the_same_index(void **state) {
  (void)state;
  char file[1100], one[1100], two[1100];
  path_in(file, sizeof file, "shards.jsonl");
  path_in(one, sizeof one, "direct.db");
  path_in(two, sizeof two, "sharded.db");
  write_many(file, 3000);
  FILE *f = fopen(file, "a");
  /* the same id twice in one input meets the same shard: one document */
  fprintf(f, "{\"id\":\"c7\",\"title\":\"重复的工单 duplicate\",\"problem\":\"第二个版本\"}\n");
  fclose(f);
  kb_buf err = {0};
  assert_int_equal(import(one, &err, "--shards", "1", file, NULL, NULL), 0);
  kb_buf_reset(&err);
  assert_int_equal(import(two, &err, "--shards", "2", file, NULL, NULL), 0);
  assert_true(tu_contains(err.data, "新增 3000, 更新 1, 未变 0"));
  assert_false(staging_left(two));
  assert_int_equal(doc_count(one), 3000);
  assert_int_equal(doc_count(two), 3000);
  const char *queries[] = {"服务器 响应慢", "duplicate", "连接池", "工单 100"};
  for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
    json_t *a = search(one, queries[i]), *b = search(two, queries[i]);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(json_integer_value(json_object_get(a, "total")),
                     json_integer_value(json_object_get(b, "total")));
    const char *ta = first_title(a), *tb = first_title(b);
    if (ta || tb) assert_string_equal(ta, tb);
    json_decref(a);
    json_decref(b);
  }
  /* a sharded import into an index that holds some of its ids: the
   * unchanged stay, the changed are replaced, nothing duplicates */
  char upd[1100];
  path_in(upd, sizeof upd, "shards-update.jsonl");
  tu_write_str(upd, "{\"id\":\"c1\",\"title\":\"c1 工单 edited\"}\n"
                    "{\"id\":\"c2\",\"title\":\"新的一张 brandnew\"}\n"
                    "{\"id\":\"X1\",\"title\":\"全新工单 brandnew\"}\n");
  kb_buf_reset(&err);
  assert_int_equal(import(two, &err, "--shards", "2", upd, NULL, NULL), 0);
  assert_true(tu_contains(err.data, "新增 1, 更新 2, 未变 0"));
  assert_int_equal(doc_count(two), 3001);
  json_t *j = search(two, "brandnew");
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 2);
  json_decref(j);
  /* the checkpoint came through the merge: a re-run skips the input */
  kb_buf_reset(&err);
  assert_int_equal(import(two, &err, file, NULL, NULL, NULL, NULL), 0);
  assert_true(tu_contains(err.data, "从检查点继续"));
  assert_int_equal(doc_count(two), 3001);
  kb_buf_free(&err);
}

/* The public's total for q (kb-search --public: the public's database). */
static json_int_t public_total(const char *db, const char *q) {
  char bin[1024];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-search"));
  char *argv[] = {bin, "--db", (char *)db, "--public", "--json", "--", (char *)q, NULL};
  kb_buf out = {0};
  tu_run(argv, &out, NULL);
  json_t *j = json_loads(out.data, 0, NULL);
  json_int_t n = json_integer_value(json_object_get(j, "total"));
  json_decref(j);
  kb_buf_free(&out);
  return n;
}

/* A ticket made internal leaves the public's database, by the single
 * writer and through the merge of a sharded import; made public again, it
 * comes back. */
static void test_visibility_change_leaves_public_database(void **state) {
  (void)state;
  char db[1100], a[1100], b[1100], c[1100];
  path_in(db, sizeof db, "vis.db");
  path_in(a, sizeof a, "vis-a.jsonl");
  path_in(b, sizeof b, "vis-b.jsonl");
  path_in(c, sizeof c, "vis-c.jsonl");
  kb_buf lines = {0};
  for (int i = 0; i < 40; i++)
    kb_buf_printf(&lines, "{\"id\":\"v%d\",\"title\":\"zebraprobe %d\",\"visibility\":\"public\"}\n", i, i);
  tu_write_str(a, lines.data);
  kb_buf_free(&lines);
  tu_write_str(b, "{\"id\":\"v1\",\"title\":\"zebraprobe 1\",\"visibility\":\"internal\"}\n"
                  "{\"id\":\"v2\",\"title\":\"zebraprobe 2\",\"visibility\":\"internal\"}\n");
  tu_write_str(c, "{\"id\":\"v3\",\"title\":\"zebraprobe 3\",\"visibility\":\"internal\"}\n"
                  "{\"id\":\"v1\",\"title\":\"zebraprobe 1\",\"visibility\":\"public\"}\n");
  kb_buf err = {0};
  assert_int_equal(import(db, &err, a, NULL, NULL, NULL, NULL), 0);
  assert_int_equal(public_total(db, "zebraprobe"), 40);
  assert_int_equal(public_docs(db), 40);
  assert_int_equal(import(db, &err, "--shards", "2", b, NULL, NULL), 0);
  assert_false(staging_left(db));
  assert_int_equal(public_total(db, "zebraprobe"), 38);
  assert_int_equal(public_docs(db), 38);
  assert_int_equal(doc_count(db), 40); /* the engineers still have them */
  assert_int_equal(import(db, &err, c, NULL, NULL, NULL, NULL), 0);
  assert_int_equal(public_total(db, "zebraprobe"), 38); /* v3 out, v1 back */
  assert_int_equal(public_docs(db), 38);
  json_t *j = search(db, "zebraprobe");
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 40);
  json_decref(j);
  kb_buf_free(&err);
}

/* The byte offset of the end of line n of path. */
static uint64_t end_of_line(const char *path, int n) {
  kb_buf text = {0};
  assert_int_equal(tu_read_file(path, &text), 0);
  uint64_t off = 0;
  for (int seen = 0; off < text.len && seen < n; off++)
    if (text.data[off] == '\n') seen++;
  kb_buf_free(&text);
  return off;
}

/* Shard 1 as if killed after its share of the first cut records: its
 * checkpoint there (none for 0), none of its later documents. Returns how
 * many it lost. */
static int cut_shard(const char *db, const char *file, int cut, int total) {
  char sp[1200], v[96] = "";
  snprintf(sp, sizeof sp, "%s/staging-1", db);
  kb_index *s = NULL;
  kb_error e = {0};
  assert_int_equal(kb_index_open(sp, KB_INDEX_WRITE, &s, &e), KB_OK);
  kb_buf key = {0};
  assert_int_equal(kb_index_each_meta(s, "kb:import:", find_checkpoint, &key, &e), 1);
  if (cut) snprintf(v, sizeof v, "%llu %d %d", (unsigned long long)end_of_line(file, cut), cut, cut);
  assert_int_equal(kb_index_set_meta(s, key.data, v, &e), KB_OK);
  int lost = 0;
  for (int i = cut; i < total; i++) {
    char id[32];
    bool found = false;
    kb_buf term = {0};
    snprintf(id, sizeof id, "t/c%d", i);
    assert_int_equal(kb_id_term(id, &term), KB_OK);
    assert_int_equal(kb_index_delete(s, term.data, &found, &e), KB_OK);
    lost += found;
    kb_buf_free(&term);
  }
  assert_int_equal(kb_index_commit(s, &e), KB_OK);
  kb_index_free(s);
  kb_buf_free(&key);
  return lost;
}

/* A sharded import of 40 records with shard 1 cut after cut of them, then
 * merged; importing the input again must resume after cut records and
 * bring in what shard 1 had lost. */
static void merge_after_cut(const char *name, int cut) {
  const int total = 40;
  char file[1100], db[1100];
  path_in(file, sizeof file, name);
  path_in(db, sizeof db, "merge-ck.db");
  tu_rmtree(db);
  write_many(file, total);
  kb_error e = {0};
  kb_lexicon *lex = NULL;
  kb_index *idx = NULL;
  assert_int_equal(kb_lexicon_new_builtin("lexicon", &lex, &e), KB_OK);
  assert_int_equal(kb_index_open(db, KB_INDEX_WRITE, &idx, &e), KB_OK);
  kb_import_opts o = {.shards = 2, .lexicon = lex};
  kb_import_stats st = {0};
  assert_int_equal(kb_import_file(idx, file, &o, &st, &e), KB_OK);
  int lost = cut_shard(db, file, cut, total);
  assert_true(lost > 0);
  assert_int_equal(kb_import_merge(&idx, &e), KB_OK);
  assert_int_equal(kb_index_doc_count(idx), total - lost);
  o.shards = 1;
  st = (kb_import_stats){0};
  assert_int_equal(kb_import_file(idx, file, &o, &st, &e), KB_OK);
  assert_int_equal(st.resumed, cut);
  assert_int_equal(st.imported, lost);
  assert_int_equal(kb_index_doc_count(idx), total);
  kb_index_free(idx);
  kb_lexicon_free(lex);
}

/* A shard that committed less of an input than shard 0 (a kill between
 * their commits, then another input finishing the sharded import): the
 * merged index keeps the earliest checkpoint, or none when a shard has
 * none. Shard 0's used to be kept, and the records the other shard had
 * not committed were skipped for good. */
static void test_merge_keeps_the_earliest_checkpoint(void **state) {
  (void)state;
  merge_after_cut("merge-ck.jsonl", 10);
  merge_after_cut("merge-ck0.jsonl", 0);
}

/* A shard that cannot be opened (a file where its folder should be) is a
 * fatal error that names it; the caller's index is left whole (the cleanup
 * used to free it with the shards, and kb-index then used it again). */
static void test_shard_open_failure_keeps_the_index(void **state) {
  (void)state;
  char file[1100], db[1100], blocker[1200];
  path_in(file, sizeof file, "blocked.jsonl");
  path_in(db, sizeof db, "blocked.db");
  tu_write_str(file, "{\"id\":\"b1\",\"title\":\"first\"}\n");
  kb_buf err = {0};
  assert_int_equal(import(db, &err, file, NULL, NULL, NULL, NULL), 0);
  snprintf(blocker, sizeof blocker, "%s/staging-1", db);
  tu_write_str(blocker, "x\n");
  kb_buf_reset(&err);
  assert_int_equal(import(db, &err, "--shards", "2", file, NULL, NULL), 1);
  assert_true(tu_contains(err.data, "staging-1"));
  assert_int_equal(doc_count(db), 1);
  kb_buf_free(&err);
}

/* ----------------------------------------------------------------- main */

static int setup(void **state) {
  (void)state;
  g_tmp = tu_tempdir();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char mnt[1100];
  path_in(mnt, sizeof mnt, "small-fs"); /* left mounted by a failed full-tmpfs test */
  umount2(mnt, MNT_DETACH);
  tu_rmtree(g_tmp);
  free(g_tmp);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_jsonl_rejects_and_reimport),
      cmocka_unit_test(test_overlapping_exports_and_updates),
      cmocka_unit_test(test_csv_multiline_bom_crlf_map),
      cmocka_unit_test(test_gbk_gzip_and_stdin),
      cmocka_unit_test(test_one_windows_line_does_not_make_a_file_latin1),
      cmocka_unit_test(test_guessed_charset_never_replaces_a_stored_ticket),
      cmocka_unit_test(test_guessed_charset_never_replaces_a_staged_ticket),
      cmocka_unit_test(test_guessed_charset_keeps_utf8_lines),
      cmocka_unit_test(test_unsure_charset_is_an_error),
      cmocka_unit_test(test_unusable_checkpoint_is_fatal),
      cmocka_unit_test(test_write_error_names_file_and_line),
      cmocka_unit_test(test_full_disk_exits_cleanly_and_resumes),
      cmocka_unit_test(test_full_tmpfs_exits_cleanly_and_resumes),
      cmocka_unit_test(test_full_disk_during_the_merge),
      cmocka_unit_test(test_thread_start_failure_is_fatal),
      cmocka_unit_test(test_sharded_import_is_the_same_index),
      cmocka_unit_test(test_visibility_change_leaves_public_database),
      cmocka_unit_test(test_merge_keeps_the_earliest_checkpoint),
      cmocka_unit_test(test_shard_open_failure_keeps_the_index),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
