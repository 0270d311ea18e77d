/* test_ticket.c — closed-ticket exports: priorities, one JSON record into a
 * doc and its rejections, the JSONL and CSV readers (line numbers of
 * rejects, CRLF, BOM, gzip, size limits, --map), charsets (GBK written
 * with ICU, detected or given), resuming at an offset, and the upsert of a
 * ticket into an index.
 *
 * Every fixture file is written by the test into a temporary folder that
 * the teardown removes. The fixture also owns the open reader, the last
 * doc and the text buffers, so that a failing assertion leaks nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicode/ucnv.h>
#include <zlib.h>

#include "kb/import.h"
#include "kb/ticket.h"
#include "testutil.h"

/* ---------------------------------------------------------------- fixture */

typedef struct fixture {
  char *dir;
  kb_buf path;         /* the current input file */
  kb_buf text;         /* its content, as the test builds it */
  kb_ticket_reader *r; /* the open reader, or NULL */
  kb_doc *d;           /* the last doc a helper returned, or NULL */
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  f->dir = tu_tempdir();
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  kb_doc_free(f->d);
  kb_ticket_reader_free(f->r);
  kb_buf_free(&f->path);
  kb_buf_free(&f->text);
  tu_rmtree(f->dir);
  free(f->dir);
  free(f);
  return 0;
}

/* Sets the current input to dir/name and returns its path. */
static const char *input(fixture *f, const char *name) {
  kb_buf_reset(&f->path);
  kb_buf_printf(&f->path, "%s/%s", f->dir, name);
  return f->path.data;
}

/* Writes f->text to dir/name (the current input). */
static void write_text(fixture *f, const char *name) {
  tu_write_file(input(f, name), f->text.data ? f->text.data : "", f->text.len);
}

/* Writes f->text gzip-compressed to dir/name (the current input). */
static void write_text_gz(fixture *f, const char *name) {
  gzFile gz = gzopen(input(f, name), "wb");
  assert_non_null(gz);
  assert_int_equal(gzwrite(gz, f->text.data, (unsigned)f->text.len), (int)f->text.len);
  assert_int_equal(gzclose(gz), Z_OK);
}

/* Appends UTF-8 text converted to GBK with ICU. */
static void put_gbk(kb_buf *out, const char *utf8) {
  size_t cap = strlen(utf8) * 2 + 16;
  char *gbk = malloc(cap);
  assert_non_null(gbk);
  UErrorCode st = U_ZERO_ERROR;
  int32_t n = ucnv_convert("GBK", "UTF-8", gbk, (int32_t)cap, utf8, (int32_t)strlen(utf8), &st);
  if (U_SUCCESS(st)) kb_buf_append(out, gbk, (size_t)n);
  free(gbk);
  if (U_FAILURE(st)) fail_msg("ucnv_convert: %s", u_errorName(st));
}

/* Opens the current input (closing the reader before). */
static void open_ok(fixture *f, const kb_ticket_opts *opts) {
  kb_ticket_reader_free(f->r);
  f->r = NULL;
  kb_error err = {0};
  int rc = kb_ticket_reader_open(f->path.data, opts, &f->r, &err);
  if (rc != KB_OK) fail_msg("open %s: rc %d: %s", f->path.data, rc, err.message);
  assert_non_null(f->r);
}

/* Opening the current input fails; returns the code, message in *err. */
static int open_fails(fixture *f, const kb_ticket_opts *opts, kb_error *err) {
  kb_ticket_reader_free(f->r);
  f->r = NULL;
  kb_ticket_reader *r = (kb_ticket_reader *)1;
  int rc = kb_ticket_reader_open(f->path.data, opts, &r, err);
  if (rc == KB_OK) {
    kb_ticket_reader_free(r);
    fail_msg("open %s should fail", f->path.data);
  }
  assert_null(r);
  assert_int_equal(err->code, rc);
  return rc;
}

/* Keeps d as the fixture's doc (freeing the one before) and returns it. */
static kb_doc *keep(fixture *f, kb_doc *d) {
  kb_doc_free(f->d);
  f->d = d;
  return d;
}

/* The next record, which must be the ticket "t/<id>". Owned by f. */
static kb_doc *next_doc(fixture *f, const char *id) {
  kb_doc *d = NULL;
  kb_ticket_reject rej;
  kb_error err = {0};
  int rc = kb_ticket_reader_next(f->r, &d, &rej, &err);
  if (rc != KB_OK)
    fail_msg("expected ticket %s: rc %d at line %zu, field '%s': %s (%s)", id, rc, rej.line,
             rej.field, rej.reason, err.message);
  assert_non_null(keep(f, d));
  char want[256];
  snprintf(want, sizeof want, "t/%s", id);
  assert_string_equal(kb_doc_get(d, KB_FIELD_ID), want);
  return d;
}

/* The next record, which must be rejected with code at line (field not
 * checked when NULL). The reject is copied to *out when not NULL; its raw
 * text lives until the next call on the reader. */
static void next_reject(fixture *f, int code, size_t line, const char *field,
                        kb_ticket_reject *out) {
  kb_doc *d = NULL;
  kb_ticket_reject rej;
  kb_error err = {0};
  int rc = kb_ticket_reader_next(f->r, &d, &rej, &err);
  if (rc == KB_OK) {
    keep(f, d);
    fail_msg("expected a reject (rc %d) at line %zu, got ticket %.40s", code, line,
             kb_doc_get(d, KB_FIELD_ID));
  }
  if (rc != code)
    fail_msg("expected rc %d at line %zu, got rc %d at line %zu: %s %s", code, line, rc, rej.line,
             rej.reason, err.message);
  assert_null(d);
  assert_int_equal(rej.line, line);
  if (field) assert_string_equal(rej.field, field);
  assert_true(rej.reason[0] != '\0');
  if (out) *out = rej;
}

static void expect_end(fixture *f) {
  kb_doc *d = NULL;
  kb_ticket_reject rej;
  kb_error err = {0};
  int rc = kb_ticket_reader_next(f->r, &d, &rej, &err);
  if (rc == KB_OK) {
    keep(f, d);
    fail_msg("expected the end, got ticket %.40s", kb_doc_get(d, KB_FIELD_ID));
  }
  if (rc != KB_ENOENT) fail_msg("expected the end, got rc %d at line %zu", rc, rej.line);
  /* and it stays at the end */
  assert_int_equal(kb_ticket_reader_next(f->r, &d, &rej, &err), KB_ENOENT);
  assert_null(d);
}

/* rej.raw is text as it was in the input, give or take its line end. */
static void assert_raw(const kb_ticket_reject *rej, const char *text) {
  assert_non_null(rej->raw);
  size_t n = rej->raw_len;
  while (n && (rej->raw[n - 1] == '\n' || rej->raw[n - 1] == '\r')) n--;
  if (n != strlen(text) || memcmp(rej->raw, text, n) != 0)
    fail_msg("raw '%.*s' is not '%s'", (int)rej->raw_len, rej->raw, text);
}

/* One JSON record that must make a doc. Owned by f. */
static kb_doc *json_ok(fixture *f, const char *json, const char *map) {
  kb_doc *d = NULL;
  kb_ticket_reject rej = {0};
  int rc = kb_ticket_from_json(json, strlen(json), 1, map, &d, &rej);
  if (rc != KB_OK) fail_msg("%s: rc %d, field '%s': %s", json, rc, rej.field, rej.reason);
  assert_non_null(keep(f, d));
  return d;
}

/* One JSON record that must be rejected with code, naming field. */
static void json_rejects(const char *json, size_t len, int code, const char *field) {
  kb_doc *d = (kb_doc *)1;
  kb_ticket_reject rej = {0};
  int rc = kb_ticket_from_json(json, len, 7, NULL, &d, &rej);
  if (rc == KB_OK) kb_doc_free(d);
  if (rc != code) fail_msg("%.80s: rc %d, expected %d (%s)", json, rc, code, rej.reason);
  assert_null(d);
  assert_int_equal(rej.line, 7);
  if (strcmp(rej.field, field) != 0)
    fail_msg("%.80s: field '%s', expected '%s' (%s)", json, rej.field, field, rej.reason);
  assert_true(rej.reason[0] != '\0');
}

/* The i-th segment of a kind, or NULL. */
static const kb_segment *nth_segment(const kb_doc *d, kb_segment_kind kind, size_t nth) {
  for (size_t i = 0; i < kb_doc_segment_count(d); i++) {
    const kb_segment *s = kb_doc_segment(d, i);
    if (s->kind == kind && nth-- == 0) return s;
  }
  return NULL;
}

static void assert_segment(const kb_doc *d, kb_segment_kind kind, const char *text) {
  const kb_segment *s = nth_segment(d, kind, 0);
  if (!s) fail_msg("no segment of kind %d", (int)kind);
  assert_string_equal(s->text, text);
}

/* -------------------------------------------------------------- priority */

static void test_priority_levels(void **state) {
  (void)state;
  static const char *cases[][2] = {
      {"P1", "P1"},     {"P2", "P2"},   {"P3", "P3"},       {"P4", "P4"},     {"1", "P1"},
      {"2", "P2"},      {"3", "P3"},    {"4", "P4"},        {"p2", "P2"},     {"紧急", "P1"},
      {"高", "P2"},     {"中", "P3"},   {"低", "P4"},       {"Critical", "P1"}, {"high", "P2"},
      {"Medium", "P3"}, {"LOW", "P4"},  {" P3 ", "P3"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *got = kb_ticket_priority(cases[i][0]);
    if (!got || strcmp(got, cases[i][1]) != 0)
      fail_msg("priority '%s': got %s, expected %s", cases[i][0], got ? got : "NULL",
               cases[i][1]);
  }
  static const char *bad[] = {"P5", "", "very high", "P0", "   "};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (kb_ticket_priority(bad[i])) fail_msg("priority '%s' should be NULL", bad[i]);
}

/* ------------------------------------------------------------ one record */

static void test_json_full_record(void **state) {
  fixture *f = *state;
  const char *json =
      "{\"id\": \"T-1001\", \"title\": \"打印机脱机\", \"problem\": \"打印机显示脱机，无法打印。\","
      " \"resolution\": \"重启打印服务后恢复。\", \"product\": \"Printer\", \"category\": \"硬件\","
      " \"priority\": \"高\", \"status\": \"closed\","
      " \"created\": \"2024-03-01T10:20:30+08:00\", \"closed\": \"2024-03-05 09:00:00\","
      " \"tags\": [\"printer\", \"脱机\"], \"visibility\": \"public\", \"customer\": \"ACME\"}";
  kb_doc *d = json_ok(f, json, NULL);
  assert_string_equal(kb_doc_get(d, KB_FIELD_ID), "t/T-1001");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TYPE), "ticket");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "打印机脱机");
  assert_string_equal(kb_doc_get(d, KB_FIELD_BODY), "打印机显示脱机，无法打印。");
  assert_string_equal(kb_doc_get(d, KB_FIELD_RESOLUTION), "重启打印服务后恢复。");
  assert_string_equal(kb_doc_get(d, KB_FIELD_PRODUCT), "Printer");
  assert_string_equal(kb_doc_get(d, KB_FIELD_CATEGORY), "硬件");
  assert_string_equal(kb_doc_get(d, KB_FIELD_PRIORITY), "P2");
  assert_string_equal(kb_doc_get(d, KB_FIELD_STATUS), "closed");
  assert_string_equal(kb_doc_get(d, KB_FIELD_CREATED), "2024-03-01");
  assert_string_equal(kb_doc_get(d, KB_FIELD_UPDATED), "2024-03-05"); /* the closed date */
  assert_string_equal(kb_doc_get(d, KB_FIELD_VISIBILITY), "public");
  assert_false(kb_doc_is_internal(d));
  assert_string_equal(kb_doc_get(d, KB_FIELD_TAGS), "printer, 脱机");
  assert_string_equal(kb_doc_get(d, KB_FIELD_CUSTOMER), "ACME");
  assert_segment(d, KB_SEG_TITLE, "打印机脱机");
  assert_segment(d, KB_SEG_PROBLEM, "打印机显示脱机，无法打印。");
  assert_segment(d, KB_SEG_RESOLUTION, "重启打印服务后恢复。");
}

static void test_json_dates(void **state) {
  fixture *f = *state;
  static const char *forms[] = {"2024-03-01T10:20:30+08:00", "2024-03-01 10:20:30", "2024/03/01",
                                "2024-03-01", "2024-03-01T02:20:30Z"};
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    char json[256];
    /* only created: updated falls back to it */
    snprintf(json, sizeof json, "{\"id\":\"d%zu\",\"title\":\"t\",\"created\":\"%s\"}", i,
             forms[i]);
    kb_doc *d = json_ok(f, json, NULL);
    assert_string_equal(kb_doc_get(d, KB_FIELD_CREATED), "2024-03-01");
    assert_string_equal(kb_doc_get(d, KB_FIELD_UPDATED), "2024-03-01");
    /* only closed */
    snprintf(json, sizeof json, "{\"id\":\"d%zu\",\"title\":\"t\",\"closed\":\"%s\"}", i,
             forms[i]);
    d = json_ok(f, json, NULL);
    assert_null(kb_doc_get(d, KB_FIELD_CREATED));
    assert_string_equal(kb_doc_get(d, KB_FIELD_UPDATED), "2024-03-01");
  }
  /* closed wins over created */
  kb_doc *d = json_ok(f,
                      "{\"id\":\"x\",\"title\":\"t\",\"created\":\"2023/12/31\","
                      "\"closed\":\"2024-01-02T08:00:00+08:00\"}",
                      NULL);
  assert_string_equal(kb_doc_get(d, KB_FIELD_CREATED), "2023-12-31");
  assert_string_equal(kb_doc_get(d, KB_FIELD_UPDATED), "2024-01-02");
}

/* A time out of range is no time: the date it comes with is not trusted. */
static void test_json_time_ranges(void **state) {
  fixture *f = *state;
  static const char *bad[] = {"2026-01-01T25:61:61Z", "2026-01-01T24:00:00", "2026-01-01 10:60:00",
                              "2026-01-01T10:00:61Z", "2026-01-01T10:00:00+25:00",
                              "2026-01-01T10:00:00+08:60", "2026-01-01T1:00:00",
                              "2026-01-01T10:00:00Zjunk", "2026-01-01T", "2026-02-29T10:00:00"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char json[256];
    snprintf(json, sizeof json, "{\"id\":\"d\",\"title\":\"t\",\"closed\":\"%s\"}", bad[i]);
    json_rejects(json, strlen(json), KB_EPARSE, "closed");
    snprintf(json, sizeof json, "{\"id\":\"d\",\"title\":\"t\",\"created\":\"%s\"}", bad[i]);
    json_rejects(json, strlen(json), KB_EPARSE, "created");
  }
  /* a leap second, fractions, zones with and without a colon, blanks */
  static const char *good[] = {"2016-12-31T23:59:60Z", "2024-03-01T10:20:30.123+0800",
                               "2024-03-01 10:20", "2024-03-01T00:00:00-05:30",
                               "2024-03-01 10:20:30 "};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    char json[256];
    snprintf(json, sizeof json, "{\"id\":\"d\",\"title\":\"t\",\"closed\":\"%s\"}", good[i]);
    kb_doc *d = json_ok(f, json, NULL);
    assert_int_equal(strlen(kb_doc_get(d, KB_FIELD_UPDATED)), 10);
  }
}

/* Ids that make links that do not work or lie are refused, one by one. */
static void test_json_ids_that_make_bad_links(void **state) {
  fixture *f = *state;
  static const char *bad[] = {"..", ".", "%2e%2e", "%2E.", "evil\\u202Egpj.exe", "a\\u200Fb",
                              "a\\u2066b", "x\\u007f", "x\\u0085y", "x\\u00a0\\u200by",
                              "12\\ufeff34"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char json[128];
    snprintf(json, sizeof json, "{\"id\":\"%s\",\"title\":\"t\"}", bad[i]);
    json_rejects(json, strlen(json), KB_EPARSE, "id");
  }
  /* spaces, %, # and the like are kept: every link encodes them */
  kb_doc *d = json_ok(f, "{\"id\":\"INC 12%#3\",\"title\":\"t\"}", NULL);
  assert_string_equal(kb_doc_get(d, KB_FIELD_ID), "t/INC 12%#3");
  d = json_ok(f, "{\"id\":\"a..b\",\"title\":\"t\"}", NULL);
  assert_string_equal(kb_doc_get(d, KB_FIELD_ID), "t/a..b");
  /* a byte-order mark before the id (or the line) is not part of it */
  d = json_ok(f, "{\"id\":\"\\ufeff1234\",\"title\":\"t\"}", NULL);
  assert_string_equal(kb_doc_get(d, KB_FIELD_ID), "t/1234");
  d = json_ok(f, "\xEF\xBB\xBF{\"id\":\"1235\",\"title\":\"t\"}", NULL);
  assert_string_equal(kb_doc_get(d, KB_FIELD_ID), "t/1235");
}

static void test_json_defaults_and_numbers(void **state) {
  fixture *f = *state;
  kb_doc *d = json_ok(f, "{\"id\": 12345, \"problem\": \"disk full\", \"priority\": 3}", NULL);
  assert_string_equal(kb_doc_get(d, KB_FIELD_ID), "t/12345");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TYPE), "ticket");
  assert_string_equal(kb_doc_get(d, KB_FIELD_VISIBILITY), "internal");
  assert_true(kb_doc_is_internal(d));
  assert_string_equal(kb_doc_get(d, KB_FIELD_PRIORITY), "P3");
  assert_null(kb_doc_get(d, KB_FIELD_UPDATED));
  assert_null(kb_doc_get(d, KB_FIELD_CREATED));
  assert_null(kb_doc_get(d, KB_FIELD_RESOLUTION));
  assert_null(nth_segment(d, KB_SEG_RESOLUTION, 0));
  /* visibility spelled differently */
  d = json_ok(f, "{\"id\":\"v\",\"title\":\"t\",\"visibility\":\"Public\"}", NULL);
  assert_string_equal(kb_doc_get(d, KB_FIELD_VISIBILITY), "public");
  d = json_ok(f, "{\"id\":\"v\",\"title\":\"t\",\"visibility\":\"internal\"}", NULL);
  assert_string_equal(kb_doc_get(d, KB_FIELD_VISIBILITY), "internal");
  /* a null value is an absent one */
  d = json_ok(f, "{\"id\":\"n\",\"title\":\"t\",\"priority\":null,\"closed\":null}", NULL);
  assert_null(kb_doc_get(d, KB_FIELD_PRIORITY));
  assert_null(kb_doc_get(d, KB_FIELD_UPDATED));
}

static void test_json_title_from_problem(void **state) {
  fixture *f = *state;
  kb_doc *d = json_ok(f,
                      "{\"id\":\"1\",\"problem\":\"打印机无法连接网络\\n详细情况如下\","
                      "\"resolution\":\"改用静态 IP\"}",
                      NULL);
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "打印机无法连接网络");
  assert_segment(d, KB_SEG_TITLE, "打印机无法连接网络");
  assert_segment(d, KB_SEG_PROBLEM, "打印机无法连接网络\n详细情况如下");
  /* a long first line: only its first characters, cut on a character */
  d = json_ok(f,
              "{\"id\":\"2\",\"problem\":\"The print spooler service stops every morning after "
              "the nightly backup job runs on the file server\"}",
              NULL);
  const char *title = kb_doc_get(d, KB_FIELD_TITLE);
  assert_non_null(title);
  assert_true(strlen(title) > 10);
  assert_true(strlen(title) < 100);
  assert_true(strncmp(title, "The print spooler service", 25) == 0);
  d = json_ok(f,
              "{\"id\":\"3\",\"problem\":\"数据库连接超时数据库连接超时数据库连接超时数据库连接超时"
              "数据库连接超时数据库连接超时数据库连接超时\"}",
              NULL);
  title = kb_doc_get(d, KB_FIELD_TITLE);
  assert_true(strncmp(title, "数据库连接超时", strlen("数据库连接超时")) == 0);
  assert_true(kb_utf8_valid(title, strlen(title), NULL));
  assert_true(strlen(title) < strlen(kb_doc_get(d, KB_FIELD_BODY)));
  /* only a resolution: it gives the title */
  d = json_ok(f, "{\"id\":\"4\",\"resolution\":\"Reinstalled the driver\"}", NULL);
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "Reinstalled the driver");
}

/* A problem written with CRLF line ends (as exports from Windows carry
 * them) gives a title without the carriage return. */
static void test_json_title_from_crlf_problem(void **state) {
  fixture *f = *state;
  kb_doc *d = json_ok(f, "{\"id\":\"5\",\"problem\":\"VPN drops\\r\\nevery hour\"}", NULL);
  /* a title taken from the problem stops at the line end, \r included */
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "VPN drops");
}

/* Leading blank lines of the problem do not make an empty title. */
static void test_json_title_skips_leading_blank_lines(void **state) {
  fixture *f = *state;
  kb_doc *d =
      json_ok(f, "{\"id\":\"6\",\"problem\":\"\\n\\nPrinter offline\\nsince Monday\"}", NULL);
  /* leading blank lines are not the title */
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "Printer offline");
  assert_segment(d, KB_SEG_TITLE, "Printer offline");
}

static void test_json_map_and_chinese_keys(void **state) {
  fixture *f = *state;
  kb_doc *d = json_ok(f, "{\"id\":\"m1\",\"subject_line\":\"Disk full on /var\",\"problem\":\"x\"}",
                      "title=subject_line");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "Disk full on /var");
  /* without the map the key is unknown: the title comes from the problem */
  d = json_ok(f, "{\"id\":\"m1\",\"subject_line\":\"Disk full on /var\",\"problem\":\"x\"}", NULL);
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "x");
  d = json_ok(f,
              "{\"工单号\":\"GD-7\",\"主题\":\"VPN 无法连接\",\"问题描述\":\"客户端提示 809 错误\","
              "\"解决方案\":\"开放 UDP 500 和 4500 端口\",\"优先级\":\"紧急\"}",
              NULL);
  assert_string_equal(kb_doc_get(d, KB_FIELD_ID), "t/GD-7");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "VPN 无法连接");
  assert_string_equal(kb_doc_get(d, KB_FIELD_BODY), "客户端提示 809 错误");
  assert_string_equal(kb_doc_get(d, KB_FIELD_RESOLUTION), "开放 UDP 500 和 4500 端口");
  assert_string_equal(kb_doc_get(d, KB_FIELD_PRIORITY), "P1");
  /* English default names, case and spaces ignored */
  d = json_ok(f,
              "{\"Ticket ID\":\"E-1\",\"Ticket Subject\":\"Login fails\","
              "\"Ticket Description\":\"SSO loop\"}",
              NULL);
  assert_string_equal(kb_doc_get(d, KB_FIELD_ID), "t/E-1");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "Login fails");
  assert_string_equal(kb_doc_get(d, KB_FIELD_BODY), "SSO loop");
}

static void test_json_rejections(void **state) {
  (void)state;
  static const struct {
    const char *json;
    int code;
    const char *field;
  } cases[] = {
      {"{\"id\": \"1\", \"title\": ", KB_EPARSE, ""},
      {"not json at all", KB_EPARSE, ""},
      {"[1,2]", KB_EPARSE, ""},
      {"\"a string\"", KB_EPARSE, ""},
      {"{\"title\":\"no id\",\"problem\":\"p\"}", KB_EPARSE, "id"},
      {"{\"id\":\"\",\"title\":\"empty id\"}", KB_EPARSE, "id"},
      {"{\"id\":\"1\",\"product\":\"p\",\"priority\":\"P1\"}", KB_EPARSE, ""},
      {"{\"id\":\"1\",\"title\":\"\",\"problem\":\"\"}", KB_EPARSE, ""},
      {"{\"id\":\"1\",\"title\":\"t\",\"priority\":\"very high\"}", KB_EPARSE, "priority"},
      {"{\"id\":\"1\",\"title\":\"t\",\"priority\":\"P5\"}", KB_EPARSE, "priority"},
      {"{\"id\":\"1\",\"title\":\"t\",\"closed\":\"2024-13-01\"}", KB_EPARSE, "closed"},
      {"{\"id\":\"1\",\"title\":\"t\",\"closed\":\"2024-02-30 10:00:00\"}", KB_EPARSE, "closed"},
      {"{\"id\":\"1\",\"title\":\"t\",\"created\":\"yesterday\"}", KB_EPARSE, "created"},
      {"{\"id\":\"1\",\"title\":\"t\",\"created\":\"01/03/2024\"}", KB_EPARSE, "created"},
      {"{\"id\":\"1\",\"title\":\"t\",\"visibility\":\"secret\"}", KB_EPARSE, "visibility"},
      {"{\"id\":\"a/b\",\"title\":\"t\"}", KB_EPARSE, "id"},
      {"{\"id\":\"../x\",\"title\":\"t\"}", KB_EPARSE, "id"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    json_rejects(cases[i].json, strlen(cases[i].json), cases[i].code, cases[i].field);
}

static void test_json_field_too_big(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text, "{\"id\":\"big\",\"title\":\"");
  for (int i = 0; i < 5000; i++) kb_buf_putc(&f->text, 'x');
  kb_buf_puts(&f->text, "\",\"problem\":\"p\"}");
  json_rejects(f->text.data, f->text.len, KB_ETOOBIG, "title");
  kb_buf_reset(&f->text);
  kb_buf_puts(&f->text, "{\"id\":\"");
  for (int i = 0; i < 300; i++) kb_buf_putc(&f->text, '7');
  kb_buf_puts(&f->text, "\",\"title\":\"t\"}");
  json_rejects(f->text.data, f->text.len, KB_ETOOBIG, "id");
}

/* ------------------------------------------------------------------ JSONL */

static void test_jsonl_reject_lines(void **state) {
  fixture *f = *state;
  const char *bad3 = "{\"id\": \"3\", \"title\": \"broken";
  const char *bad5 = "{\"title\": \"no id here\", \"problem\": \"x\"}";
  kb_buf_printf(&f->text,
                "{\"id\": \"1\", \"title\": \"one\"}\n"
                "{\"id\": \"2\", \"title\": \"two\"}\n"
                "%s\n"
                "{\"id\": \"4\", \"title\": \"four\"}\n"
                "%s\n",
                bad3, bad5);
  write_text(f, "t.jsonl");
  open_ok(f, NULL);
  kb_ticket_reject rej;
  kb_doc *d = next_doc(f, "1");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "one");
  next_doc(f, "2");
  next_reject(f, KB_EPARSE, 3, "", &rej);
  assert_raw(&rej, bad3);
  next_doc(f, "4");
  next_reject(f, KB_EPARSE, 5, "id", &rej);
  assert_raw(&rej, bad5);
  expect_end(f);
}

static void test_jsonl_blank_lines_crlf_bom(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text,
              "\xEF\xBB\xBF{\"id\":\"a\",\"title\":\"first\"}\r\n"  /* 1 */
              "\r\n"                                                /* 2 */
              "   \t \r\n"                                          /* 3 */
              "{\"id\":\"b\",\"title\":\"second\",\"problem\":\"line\"}\r\n" /* 4 */
              "\n"                                                  /* 5 */
              "{\"id\":\"c\",\"title\":\"t\",\"priority\":\"P9\"}\r\n" /* 6 */
              "{\"id\":\"d\",\"title\":\"last, no line end\"}");     /* 7 */
  write_text(f, "crlf.jsonl");
  open_ok(f, NULL);
  kb_doc *d = next_doc(f, "a"); /* the BOM is not part of the JSON */
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "first");
  d = next_doc(f, "b");
  assert_string_equal(kb_doc_get(d, KB_FIELD_BODY), "line"); /* no '\r' */
  kb_ticket_reject rej;
  next_reject(f, KB_EPARSE, 6, "priority", &rej);
  assert_raw(&rej, "{\"id\":\"c\",\"title\":\"t\",\"priority\":\"P9\"}");
  d = next_doc(f, "d");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "last, no line end");
  expect_end(f);
  assert_int_equal(kb_ticket_reader_line(f->r), 7);
  assert_int_equal(kb_ticket_reader_offset(f->r), f->text.len);
}

/* A BOM-marked first line that is rejected keeps its line number 1. */
static void test_jsonl_bom_on_rejected_first_line(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text, "\xEF\xBB\xBF{\"title\":\"no id\"}\n{\"id\":\"2\",\"title\":\"t\"}\n");
  write_text(f, "bom.jsonl");
  open_ok(f, NULL);
  next_reject(f, KB_EPARSE, 1, "id", NULL);
  next_doc(f, "2");
  expect_end(f);
}

static void test_jsonl_record_over_max(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text, "{\"id\":\"1\",\"title\":\"small\"}\n{\"id\":\"big\",\"title\":\"");
  for (int i = 0; i < 300; i++) kb_buf_putc(&f->text, 'x');
  kb_buf_puts(&f->text, "\"}\n{\"id\":\"3\",\"title\":\"after\"}\n");
  write_text(f, "max.jsonl");
  kb_ticket_opts opts = {.max_record = 200};
  open_ok(f, &opts);
  next_doc(f, "1");
  next_reject(f, KB_ETOOBIG, 2, "", NULL);
  kb_doc *d = next_doc(f, "3");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "after");
  expect_end(f);
}

/* The limit is on the record: one of exactly max_record bytes is read, one
 * of max_record + 1 is not, whatever its line end. */
static void test_jsonl_max_record_boundary(void **state) {
  fixture *f = *state;
  const char *head = "{\"id\":\"";
  const char *tail = "\",\"title\":\"t\"}";
  for (size_t extra = 0; extra <= 1; extra++) {
    size_t pad = 200 + extra - strlen(head) - strlen(tail);
    kb_buf_puts(&f->text, head);
    for (size_t i = 0; i < pad; i++) kb_buf_putc(&f->text, extra ? 'b' : 'a');
    kb_buf_puts(&f->text, tail);
    kb_buf_puts(&f->text, "\n");
  }
  write_text(f, "edge.jsonl");
  kb_ticket_opts opts = {.max_record = 200};
  open_ok(f, &opts);
  kb_doc *d = NULL;
  kb_ticket_reject rej;
  kb_error err = {0};
  assert_int_equal(kb_ticket_reader_next(f->r, &d, &rej, &err), KB_OK); /* 200 bytes */
  keep(f, d);
  /* max_record counts the record without its line end: 201 bytes is over */
  next_reject(f, KB_ETOOBIG, 2, "", NULL);
  expect_end(f);
}

static void test_jsonl_gzip(void **state) {
  fixture *f = *state;
  for (int i = 1; i <= 50; i++)
    kb_buf_printf(&f->text, "{\"id\":\"g%d\",\"title\":\"压缩的工单 %d\",\"priority\":\"low\"}\n",
                  i, i);
  kb_buf_puts(&f->text, "{\"id\":\"bad\"}\n");
  write_text_gz(f, "t.jsonl.gz");
  open_ok(f, NULL);
  for (int i = 1; i <= 50; i++) {
    char id[16], title[64];
    snprintf(id, sizeof id, "g%d", i);
    snprintf(title, sizeof title, "压缩的工单 %d", i);
    kb_doc *d = next_doc(f, id);
    assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), title);
    assert_string_equal(kb_doc_get(d, KB_FIELD_PRIORITY), "P4");
  }
  next_reject(f, KB_EPARSE, 51, "", NULL);
  expect_end(f);
  /* offsets count the uncompressed input; the raw offset the file */
  assert_int_equal(kb_ticket_reader_offset(f->r), f->text.len);
  assert_true(kb_ticket_reader_raw_offset(f->r) > 0);
  assert_true(kb_ticket_reader_raw_offset(f->r) < f->text.len);
  assert_string_equal(kb_ticket_reader_charset(f->r)->name, "UTF-8");
  assert_int_equal(kb_ticket_reader_charset(f->r)->origin, KB_CHARSET_UTF8);
}

static void test_reader_open_missing_file(void **state) {
  fixture *f = *state;
  input(f, "absent.jsonl");
  kb_error err = {0};
  open_fails(f, NULL, &err);
  assert_true(tu_contains(err.message, "absent.jsonl"));
}

/* -------------------------------------------------------------------- CSV */

static void test_csv_english_header(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text,
              "Ticket ID,Ticket Subject,Ticket Description,Resolution,Ticket Priority\n"
              "101,Printer offline,\"Shows offline, cannot print\","
              "\"Restart the \"\"spooler\"\" service\",High\n"
              "102,VPN drops,Drops every hour,Renew the certificate,Critical\n");
  write_text(f, "en.csv");
  open_ok(f, NULL); /* CSV by its name */
  kb_doc *d = next_doc(f, "101");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "Printer offline");
  assert_string_equal(kb_doc_get(d, KB_FIELD_BODY), "Shows offline, cannot print");
  assert_string_equal(kb_doc_get(d, KB_FIELD_RESOLUTION), "Restart the \"spooler\" service");
  assert_string_equal(kb_doc_get(d, KB_FIELD_PRIORITY), "P2");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TYPE), "ticket");
  assert_string_equal(kb_doc_get(d, KB_FIELD_VISIBILITY), "internal");
  assert_segment(d, KB_SEG_TITLE, "Printer offline");
  assert_segment(d, KB_SEG_PROBLEM, "Shows offline, cannot print");
  assert_segment(d, KB_SEG_RESOLUTION, "Restart the \"spooler\" service");
  d = next_doc(f, "102");
  assert_string_equal(kb_doc_get(d, KB_FIELD_PRIORITY), "P1");
  expect_end(f);
}

/* found by fuzz/fuzz_csv.c: a NUL byte in a CSV field was kept, and the
 * stored title (a C string) ended there: "" here, with no fallback */
static void test_csv_nul_byte_rejected(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text, "id,title,problem\n1,");
  kb_buf_append(&f->text, "\0after", 6);
  kb_buf_puts(&f->text, ",disk full\n2,ok,fine\n");
  write_text(f, "nul.csv");
  open_ok(f, NULL);
  next_reject(f, KB_EENCODING, 2, "title", NULL);
  next_doc(f, "2");
  expect_end(f);
}

static void test_csv_chinese_header(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text,
              "工单号,主题,问题描述,解决方案,优先级\n"
              "GD-1,打印机脱机,打印机显示脱机，无法打印,重启打印服务,紧急\n"
              "GD-2,邮箱满,\"收件箱已满，无法收信\",清理邮件,低\n");
  write_text(f, "zh.csv");
  open_ok(f, NULL);
  kb_doc *d = next_doc(f, "GD-1");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "打印机脱机");
  assert_string_equal(kb_doc_get(d, KB_FIELD_BODY), "打印机显示脱机，无法打印");
  assert_string_equal(kb_doc_get(d, KB_FIELD_RESOLUTION), "重启打印服务");
  assert_string_equal(kb_doc_get(d, KB_FIELD_PRIORITY), "P1");
  d = next_doc(f, "GD-2");
  assert_string_equal(kb_doc_get(d, KB_FIELD_BODY), "收件箱已满，无法收信");
  assert_string_equal(kb_doc_get(d, KB_FIELD_PRIORITY), "P4");
  expect_end(f);
}

static void test_csv_map_override(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text, "编号X,标题Y,问题描述\nM-1,自定义标题,自定义问题\n");
  write_text(f, "map.csv");
  kb_error err = {0};
  open_fails(f, NULL, &err); /* without the map there is no id column */
  kb_ticket_opts opts = {.map = "id=编号X,title=标题Y"};
  open_ok(f, &opts);
  kb_doc *d = next_doc(f, "M-1");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "自定义标题");
  assert_string_equal(kb_doc_get(d, KB_FIELD_BODY), "自定义问题");
  expect_end(f);
  /* a malformed --map is an open error */
  kb_ticket_opts bad = {.map = "nosuchfield=x"};
  assert_int_equal(open_fails(f, &bad, &err), KB_EINVAL);
  assert_true(tu_contains(err.message, "--map"));
}

/* --map wins over the default names (lib/data/ticket_fields.txt says so):
 * a column the map names fills its field even when an earlier column has
 * a default name for that field. */
static void test_csv_map_beats_default_column(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text, "编号,编号X,主题,标题Y\n999,M-1,默认标题,自定义标题\n");
  write_text(f, "map2.csv");
  kb_ticket_opts opts = {.map = "id=编号X,title=标题Y"};
  open_ok(f, &opts);
  /* a column named by --map wins over one with a default name */
  kb_doc *d = next_doc(f, "M-1");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "自定义标题");
  expect_end(f);
}

static void test_csv_multiline_records_and_lines(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text,
              "id,title,problem,resolution,priority\n"                        /* 1 */
              "1,One,\"a\nb, with comma\",\"say \"\"hi\"\"\",P1\n"            /* 2-3 */
              "2,Two,plain,plain,P2\n"                                        /* 4 */
              "3,Bad priority,\"first line\nsecond line\nthird line\",fix,P7\n" /* 5-7 */
              "\n"                                                            /* 8 */
              "4,Four,\"x\n\ny\",z,P4\n"                                      /* 9-11 */
              "5,Five,p,r,P3,extra\n"                                         /* 12 */
              "6,Six,p,r,P3\n");                                              /* 13 */
  write_text(f, "ml.csv");
  open_ok(f, NULL);
  kb_doc *d = next_doc(f, "1");
  assert_string_equal(kb_doc_get(d, KB_FIELD_BODY), "a\nb, with comma");
  assert_string_equal(kb_doc_get(d, KB_FIELD_RESOLUTION), "say \"hi\"");
  assert_int_equal(kb_ticket_reader_line(f->r), 3);
  next_doc(f, "2");
  kb_ticket_reject rej;
  next_reject(f, KB_EPARSE, 5, "priority", &rej);
  assert_raw(&rej, "3,Bad priority,\"first line\nsecond line\nthird line\",fix,P7");
  d = next_doc(f, "4");
  assert_string_equal(kb_doc_get(d, KB_FIELD_BODY), "x\n\ny");
  next_reject(f, KB_EPARSE, 12, "", &rej); /* more fields than the header */
  assert_raw(&rej, "5,Five,p,r,P3,extra");
  next_doc(f, "6");
  expect_end(f);
}

/* Two exports joined: the second one's byte-order mark and header are
 * no ticket, and a mark at the start of a field is not part of the id
 * (else the next clean export would store the case twice). */
static void test_csv_bom_inside_the_file(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text,
              "\xEF\xBB\xBFid,title,resolution\n" /* 1 */
              "C-1,first,fixed\n"             /* 2 */
              "\xEF\xBB\xBFid,title,resolution\n" /* 3: the second export */
              "C-2,second,fixed\n"            /* 4 */
              "\xEF\xBB\xBF" "C-3,third,fixed\n"   /* 5 */
              "\"\xEF\xBB\xBF" "C-4\",fourth,fixed\n"); /* 6 */
  write_text(f, "joined.csv");
  open_ok(f, NULL);
  next_doc(f, "C-1");
  kb_ticket_reject rej;
  next_reject(f, KB_EPARSE, 3, "", &rej);
  assert_true(tu_contains(rej.reason, "header"));
  next_doc(f, "C-2");
  next_doc(f, "C-3");
  next_doc(f, "C-4");
  expect_end(f);
}

static void test_csv_crlf_and_bom(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text,
              "\xEF\xBB\xBFTicket ID,Ticket Subject,Ticket Description,Resolution,"
              "Ticket Priority\r\n"                                                   /* 1 */
              "W-1,Outlook hangs,\"Hangs on start\r\nafter update\",Safe mode,Medium\r\n" /* 2-3 */
              "\r\n"                                                                  /* 4 */
              "W-2,Bad one,desc,res,whenever\r\n"                                     /* 5 */
              "W-3,Last,desc,res,4\r\n");                                             /* 6 */
  write_text(f, "win.csv");
  open_ok(f, NULL);
  kb_doc *d = next_doc(f, "W-1"); /* the BOM did not hide the id column */
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "Outlook hangs");
  assert_string_equal(kb_doc_get(d, KB_FIELD_RESOLUTION), "Safe mode"); /* no '\r' */
  assert_string_equal(kb_doc_get(d, KB_FIELD_PRIORITY), "P3");
  assert_true(strncmp(kb_doc_get(d, KB_FIELD_BODY), "Hangs on start", 14) == 0);
  assert_true(tu_contains(kb_doc_get(d, KB_FIELD_BODY), "after update"));
  next_reject(f, KB_EPARSE, 5, "priority", NULL);
  d = next_doc(f, "W-3");
  assert_string_equal(kb_doc_get(d, KB_FIELD_RESOLUTION), "res");
  assert_string_equal(kb_doc_get(d, KB_FIELD_PRIORITY), "P4");
  expect_end(f);
}

static void test_csv_header_without_id(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text, "Subject,Description\nA,B\n");
  write_text(f, "noid.csv");
  kb_error err = {0};
  open_fails(f, NULL, &err);
  assert_true(tu_contains(err.message, "--map"));
  assert_true(tu_contains(err.message, "noid.csv"));
  /* and the map fixes it */
  kb_ticket_opts opts = {.map = "id=Subject"};
  open_ok(f, &opts);
  kb_doc *d = next_doc(f, "A");
  assert_string_equal(kb_doc_get(d, KB_FIELD_BODY), "B");
  expect_end(f);
}

/* A CSV record over max_record is rejected (never dropped without a word),
 * and the records after it are read. */
static void test_csv_record_over_max(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text, "id,title,problem\n1,small,p\n2,long,"); /* 1, 2, 3 */
  for (int i = 0; i < 400; i++) kb_buf_putc(&f->text, 'x');
  kb_buf_puts(&f->text, "\n3,after,p\n4,\"multi\n"); /* 4, 5 */
  for (int i = 0; i < 400; i++) kb_buf_putc(&f->text, 'y');
  kb_buf_puts(&f->text, "\nline\",r\n5,last,p\n"); /* 6, 7, 8 */
  write_text(f, "max.csv");
  kb_ticket_opts opts = {.max_record = 200};
  open_ok(f, &opts);
  next_doc(f, "1");
  /* a single line longer than max_record is rejected at its line, and
   * reading goes on with the next record */
  next_reject(f, KB_ETOOBIG, 3, "", NULL);
  next_doc(f, "3");
  /* a multi-line record whose second line is too long: rejected at its
   * start, and the reader picks up again after its closing quote */
  next_reject(f, KB_ETOOBIG, 5, "", NULL);
  next_doc(f, "5");
  expect_end(f);
}

/* Malformed quoting rejects that record only; an unterminated quote at the
 * end of the input rejects the record where it starts. */
static void test_csv_bad_quotes(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text,
              "id,title\n"
              "1,\"ab\"c\n"
              "2,ok\n"
              "3,\"never closed\n"
              "4,swallowed\n");
  write_text(f, "quotes.csv");
  open_ok(f, NULL);
  kb_ticket_reject rej;
  next_reject(f, KB_EPARSE, 2, "", &rej);
  assert_raw(&rej, "1,\"ab\"c");
  next_doc(f, "2");
  next_reject(f, KB_EPARSE, 4, "", &rej);
  assert_raw(&rej, "3,\"never closed\n4,swallowed");
  expect_end(f);
}

static void test_csv_gzip_by_name(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text, "id,title\nz1,压缩\nz2,CSV\n");
  write_text_gz(f, "t.csv.gz");
  open_ok(f, NULL);
  kb_doc *d = next_doc(f, "z1");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "压缩");
  next_doc(f, "z2");
  expect_end(f);
}

/* -------------------------------------------------------------- encodings */

/* A Chinese CSV export: header and rows (UTF-8, to be converted). */
static const char *const zh_csv =
    "工单号,主题,问题描述,解决方案,优先级\n"
    "GD-101,打印机脱机无法打印,财务部的打印机显示脱机状态，重新插拔网线以后仍然无法打印文件,"
    "重启打印后台处理程序服务并重新添加打印机端口,高\n"
    "GD-102,邮箱收不到外部邮件,销售部门反映从昨天下午开始收不到客户发来的邮件,"
    "清理邮件网关的队列并更新反垃圾邮件规则,中\n"
    "GD-103,无线网络频繁断开,会议室的无线网络每隔几分钟断开一次，影响视频会议,"
    "调整无线接入点的信道并升级固件版本,紧急\n";

static void test_encoding_gbk_detected(void **state) {
  fixture *f = *state;
  put_gbk(&f->text, zh_csv);
  write_text(f, "gbk.csv");
  open_ok(f, NULL); /* encoding auto */
  const char *enc = kb_ticket_reader_charset(f->r)->name;
  if (strncasecmp(enc, "GB", 2) != 0) fail_msg("detected '%s', expected a GB charset", enc);
  assert_int_equal(kb_ticket_reader_charset(f->r)->origin, KB_CHARSET_GUESSED);
  kb_doc *d = next_doc(f, "GD-101");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "打印机脱机无法打印");
  assert_string_equal(kb_doc_get(d, KB_FIELD_RESOLUTION),
                      "重启打印后台处理程序服务并重新添加打印机端口");
  assert_string_equal(kb_doc_get(d, KB_FIELD_PRIORITY), "P2");
  d = next_doc(f, "GD-102");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "邮箱收不到外部邮件");
  d = next_doc(f, "GD-103");
  assert_string_equal(kb_doc_get(d, KB_FIELD_PRIORITY), "P1");
  assert_string_equal(kb_doc_get(d, KB_FIELD_LANGUAGE), "zh");
  expect_end(f);
}

static void test_encoding_gbk_given(void **state) {
  fixture *f = *state;
  put_gbk(&f->text, zh_csv);
  write_text(f, "given.csv");
  kb_ticket_opts opts = {.encoding = "gbk"};
  open_ok(f, &opts);
  const char *enc = kb_ticket_reader_charset(f->r)->name;
  assert_int_equal(kb_ticket_reader_charset(f->r)->origin, KB_CHARSET_GIVEN);
  assert_true(strcasecmp(enc, "gbk") == 0);
  kb_doc *d = next_doc(f, "GD-101");
  assert_string_equal(kb_doc_get(d, KB_FIELD_BODY),
                      "财务部的打印机显示脱机状态，重新插拔网线以后仍然无法打印文件");
  next_doc(f, "GD-102");
  next_doc(f, "GD-103");
  expect_end(f);
  /* an unknown charset name is an open error */
  kb_ticket_opts bad = {.encoding = "no-such-charset"};
  kb_error err = {0};
  open_fails(f, &bad, &err);
  assert_true(tu_contains(err.message, "no-such-charset"));
}

static void test_encoding_invalid_sequence(void **state) {
  fixture *f = *state;
  put_gbk(&f->text,
          "工单号,主题,问题描述,解决方案,优先级\n"
          "GD-101,打印机脱机无法打印,财务部的打印机显示脱机状态，重新插拔网线以后仍然无法打印,"
          "重启打印后台处理程序服务,高\n"
          "GD-102,邮箱收不到外部邮件,销售部门反映");
  kb_buf_append(&f->text, "\x81\x20", 2); /* line 3: a lead byte without its trail byte */
  put_gbk(&f->text,
          "收不到客户邮件,清理邮件网关队列,中\n"
          "GD-103,无线网络频繁断开,会议室的无线网络每隔几分钟断开一次,调整无线接入点的信道,低\n");
  write_text(f, "badgbk.csv");
  static const char *encodings[] = {"gbk", NULL}; /* given, and detected */
  for (size_t i = 0; i < 2; i++) {
    kb_ticket_opts opts = {.encoding = encodings[i]};
    open_ok(f, &opts);
    kb_doc *d = next_doc(f, "GD-101");
    assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "打印机脱机无法打印");
    kb_ticket_reject rej;
    next_reject(f, KB_EENCODING, 3, NULL, &rej);
    assert_non_null(rej.raw);
    assert_non_null(memchr(rej.raw, '\x81', rej.raw_len)); /* the bytes as they were */
    d = next_doc(f, "GD-103");
    assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "无线网络频繁断开");
    assert_string_equal(kb_doc_get(d, KB_FIELD_PRIORITY), "P4");
    expect_end(f);
  }
}

static void test_encoding_gbk_jsonl(void **state) {
  fixture *f = *state;
  put_gbk(&f->text,
          "{\"工单号\":\"J-1\",\"主题\":\"服务器硬盘空间不足\",\"问题描述\":\"数据库服务器的日志分区"
          "已满，应用程序无法写入新的记录\"}\n"
          "{\"工单号\":\"J-2\",\"主题\":\"域账户被锁定\",\"问题描述\":\"用户连续输错密码导致域账户"
          "被锁定，无法登录办公电脑\"}\n");
  kb_buf_puts(&f->text, "{\"id\":\"J-3\",\"title\":\"\x81\x20\"}\n");
  put_gbk(&f->text, "{\"工单号\":\"J-4\",\"主题\":\"投影仪没有信号\"}\n");
  write_text(f, "gbk.jsonl");
  kb_ticket_opts opts = {.encoding = "GB18030"};
  open_ok(f, &opts);
  kb_doc *d = next_doc(f, "J-1");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "服务器硬盘空间不足");
  next_doc(f, "J-2");
  next_reject(f, KB_EENCODING, 3, NULL, NULL);
  d = next_doc(f, "J-4");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "投影仪没有信号");
  expect_end(f);
}

static void test_encoding_utf8_reported(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text, zh_csv);
  write_text(f, "u.csv");
  open_ok(f, NULL);
  assert_string_equal(kb_ticket_reader_charset(f->r)->name, "UTF-8");
  assert_int_equal(kb_ticket_reader_charset(f->r)->origin, KB_CHARSET_UTF8);
  kb_doc *d = next_doc(f, "GD-101");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "打印机脱机无法打印");
  /* given as utf-8 */
  kb_ticket_opts opts = {.encoding = "utf-8"};
  open_ok(f, &opts);
  assert_string_equal(kb_ticket_reader_charset(f->r)->name, "UTF-8");
  assert_int_equal(kb_ticket_reader_charset(f->r)->origin, KB_CHARSET_GIVEN);
  /* invalid UTF-8 in a UTF-8 file is a reject of that line only */
  kb_buf_reset(&f->text);
  kb_buf_puts(&f->text,
              "{\"id\":\"1\",\"title\":\"ok\"}\n{\"id\":\"2\",\"title\":\"bro\xC0\xAFken\"}\n"
              "{\"id\":\"3\",\"title\":\"ok\"}\n");
  write_text(f, "u.jsonl");
  open_ok(f, &opts);
  next_doc(f, "1");
  next_reject(f, KB_EENCODING, 2, NULL, NULL);
  next_doc(f, "3");
  expect_end(f);
}

/* ----------------------------------------------------------------- resume */

static void test_resume_jsonl(void **state) {
  fixture *f = *state;
  const char *first_two = "{\"id\":\"r1\",\"title\":\"one\"}\n" /* 1 */
                          "\n"                                /* 2 */
                          "{\"id\":\"r2\",\"title\":\"two\"}\n"; /* 3 */
  kb_buf_puts(&f->text, first_two);
  kb_buf_puts(&f->text,
              "{\"id\":\"r3\",\"title\":\"three\"}\n"  /* 4 */
              "{\"id\":\"r4\"}\n"                      /* 5 */
              "{\"id\":\"r5\",\"title\":\"five\"}\n"); /* 6 */
  write_text(f, "resume.jsonl");
  open_ok(f, NULL);
  next_doc(f, "r1");
  next_doc(f, "r2");
  uint64_t offset = kb_ticket_reader_offset(f->r);
  size_t line = kb_ticket_reader_line(f->r);
  assert_int_equal(line, 3);
  assert_int_equal(offset, strlen(first_two));

  open_ok(f, NULL);
  kb_error err = {0};
  assert_int_equal(kb_ticket_reader_skip_to(f->r, offset, line, &err), KB_OK);
  kb_doc *d = next_doc(f, "r3");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "three");
  assert_int_equal(kb_ticket_reader_line(f->r), 4);
  next_reject(f, KB_EPARSE, 5, "", NULL);
  next_doc(f, "r5");
  expect_end(f);
  /* only forward */
  assert_int_not_equal(kb_ticket_reader_skip_to(f->r, offset, line, &err), KB_OK);

  /* past the end of the input */
  open_ok(f, NULL);
  assert_int_not_equal(kb_ticket_reader_skip_to(f->r, 100000, 9999, &err), KB_OK);
}

static void test_resume_csv(void **state) {
  fixture *f = *state;
  kb_buf_puts(&f->text,
              "id,title,problem\n"         /* 1 */
              "c1,one,\"multi\nline\"\n"   /* 2-3 */
              "c2,two,p\n"                 /* 4 */
              "c3,three,\"also\nmulti\"\n" /* 5-6 */
              "c4,,\n"                     /* 7: nothing to index */
              "c5,five,p\n");              /* 8 */
  write_text_gz(f, "resume.csv.gz");
  open_ok(f, NULL);
  next_doc(f, "c1");
  next_doc(f, "c2");
  uint64_t offset = kb_ticket_reader_offset(f->r);
  size_t line = kb_ticket_reader_line(f->r);
  assert_int_equal(line, 4);
  assert_int_equal(offset, strlen("id,title,problem\nc1,one,\"multi\nline\"\nc2,two,p\n"));

  open_ok(f, NULL);
  kb_error err = {0};
  assert_int_equal(kb_ticket_reader_skip_to(f->r, offset, line, &err), KB_OK);
  kb_doc *d = next_doc(f, "c3");
  assert_string_equal(kb_doc_get(d, KB_FIELD_BODY), "also\nmulti");
  assert_int_equal(kb_ticket_reader_line(f->r), 6);
  next_reject(f, KB_EPARSE, 7, "", NULL);
  next_doc(f, "c5");
  expect_end(f);
}

/* ----------------------------------------------------------------- import */

typedef tu_index index_fixture;

/* Parses json and stores it; returns the outcome. */
static kb_upsert import_json(index_fixture *f, const char *json) {
  kb_doc *d = NULL;
  kb_ticket_reject rej = {0};
  int rc = kb_ticket_from_json(json, strlen(json), 1, NULL, &d, &rej);
  if (rc != KB_OK) fail_msg("%s: rc %d: %s", json, rc, rej.reason);
  kb_upsert outcome = KB_UPSERT_NEW;
  kb_error err = {0};
  rc = kb_import_doc(f->idx, f->tk, d, &outcome, &err);
  bool hashed = kb_doc_get(d, KB_FIELD_HASH) != NULL;
  kb_doc_free(d);
  if (rc != KB_OK) fail_msg("import: rc %d: %s", rc, err.message);
  assert_true(hashed);
  return outcome;
}

static void test_import_upsert(void **state) {
  index_fixture *f = *state;
  const char *v1 = "{\"id\":\"U-1\",\"title\":\"打印机脱机\",\"problem\":\"无法打印\","
                   "\"resolution\":\"重启服务\",\"priority\":\"P2\",\"closed\":\"2024-03-05\"}";
  const char *v2 = "{\"id\":\"U-1\",\"title\":\"打印机脱机\",\"problem\":\"无法打印\","
                   "\"resolution\":\"更换驱动程序\",\"priority\":\"P2\",\"closed\":\"2024-03-05\"}";
  assert_int_equal(import_json(f, v1), KB_UPSERT_NEW);
  assert_int_equal(kb_index_doc_count(f->idx), 1);
  assert_int_equal(import_json(f, v1), KB_UPSERT_UNCHANGED);
  assert_int_equal(kb_index_doc_count(f->idx), 1);
  assert_int_equal(import_json(f, v2), KB_UPSERT_UPDATED);
  assert_int_equal(kb_index_doc_count(f->idx), 1);
  kb_error err = {0};
  assert_int_equal(kb_index_commit(f->idx, &err), KB_OK);
  assert_int_equal(kb_index_doc_count(f->idx), 1);
  /* after the commit, the stored content is the new one */
  assert_int_equal(import_json(f, v2), KB_UPSERT_UNCHANGED);
  assert_int_equal(import_json(f, v1), KB_UPSERT_UPDATED);
  /* another id is another document */
  assert_int_equal(import_json(f, "{\"id\":\"U-2\",\"title\":\"t\"}"), KB_UPSERT_NEW);
  assert_int_equal(kb_index_doc_count(f->idx), 2);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_priority_levels),
      T(test_json_full_record),
      T(test_json_dates),
      T(test_json_time_ranges),
      T(test_json_ids_that_make_bad_links),
      T(test_json_defaults_and_numbers),
      T(test_json_title_from_problem),
      T(test_json_title_from_crlf_problem),
      T(test_json_title_skips_leading_blank_lines),
      T(test_json_map_and_chinese_keys),
      cmocka_unit_test(test_json_rejections),
      T(test_json_field_too_big),
      T(test_jsonl_reject_lines),
      T(test_jsonl_blank_lines_crlf_bom),
      T(test_jsonl_bom_on_rejected_first_line),
      T(test_jsonl_record_over_max),
      T(test_jsonl_max_record_boundary),
      T(test_jsonl_gzip),
      T(test_reader_open_missing_file),
      T(test_csv_english_header),
      T(test_csv_nul_byte_rejected),
      T(test_csv_chinese_header),
      T(test_csv_map_override),
      T(test_csv_map_beats_default_column),
      T(test_csv_multiline_records_and_lines),
      T(test_csv_bom_inside_the_file),
      T(test_csv_crlf_and_bom),
      T(test_csv_header_without_id),
      T(test_csv_record_over_max),
      T(test_csv_bad_quotes),
      T(test_csv_gzip_by_name),
      T(test_encoding_gbk_detected),
      T(test_encoding_gbk_given),
      T(test_encoding_invalid_sequence),
      T(test_encoding_gbk_jsonl),
      T(test_encoding_utf8_reported),
      T(test_resume_jsonl),
      T(test_resume_csv),
      cmocka_unit_test_setup_teardown(test_import_upsert, tu_index_setup, tu_index_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
