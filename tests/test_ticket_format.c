/* test_ticket_format.c — the exports of other ticket systems: each fixture
 * of tests/data/exports/ read with no --map, every field of a record
 * checked, the priority scales, where the fix came from and the tickets
 * without one; --map over a format; the HTML and Jira wiki conversions
 * (richtext); and kb-index import --dry-run and has_fix in kb-search's
 * JSON with the real binaries.
 *
 * The fixture owns the open reader, the last doc and a temporary folder
 * (for the inputs a test writes and the index the CLI tests use), so a
 * failing assertion leaks nothing. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kb/import.h"
#include "kb/richtext.h"
#include "kb/ticket.h"
#include "kb/ticket_format.h"
#include "testutil.h"

#define EXPORTS "tests/data/exports/"

typedef struct fixture {
  char *dir;
  kb_buf path, out, err, text;
  kb_ticket_reader *r;
  kb_doc *d;
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
  kb_buf_free(&f->out);
  kb_buf_free(&f->err);
  kb_buf_free(&f->text);
  tu_rmtree(f->dir);
  free(f->dir);
  free(f);
  return 0;
}

static void open_ok(fixture *f, const char *path, const char *map) {
  kb_ticket_reader_free(f->r);
  f->r = NULL;
  kb_ticket_opts o = {.map = map};
  kb_error err = {0};
  if (kb_ticket_reader_open(path, &o, &f->r, &err) != KB_OK) fail_msg("open %s: %s", path, err.message);
}

/* The record of ticket id in the open input (every record before it must
 * import). Owned by f. */
static const kb_doc *find(fixture *f, const char *id) {
  char want[256];
  snprintf(want, sizeof want, "t/%s", id);
  for (;;) {
    kb_doc *d = NULL;
    kb_ticket_reject rej;
    kb_error err = {0};
    int rc = kb_ticket_reader_next(f->r, &d, &rej, &err);
    if (rc == KB_ENOENT) fail_msg("no ticket %s", id);
    if (rc != KB_OK) fail_msg("line %zu rejected, field '%s': %s", rej.line, rej.field, rej.reason);
    kb_doc_free(f->d);
    f->d = d;
    if (strcmp(kb_doc_get(d, KB_FIELD_ID), want) == 0) return d;
  }
}

/* The ticket id of the fixture file, read with no --map. */
static const kb_doc *fixture_ticket(fixture *f, const char *file, const char *id) {
  char path[512];
  snprintf(path, sizeof path, EXPORTS "%s", file);
  open_ok(f, path, NULL);
  return find(f, id);
}

static void field_is(const kb_doc *d, kb_field field, const char *want) {
  const char *v = kb_doc_get(d, field);
  if (!want && v) fail_msg("%s: expected no value, got '%s'", kb_field_name(field), v);
  if (want && (!v || strcmp(v, want) != 0))
    fail_msg("%s: expected '%s', got '%s'", kb_field_name(field), want, v ? v : "(none)");
}

/* Writes text to dir/name and returns the path (in f->path). */
static const char *write_input(fixture *f, const char *name, const char *text) {
  kb_buf_reset(&f->path);
  kb_buf_printf(&f->path, "%s/%s", f->dir, name);
  tu_write_str(f->path.data, text);
  return f->path.data;
}

/* ------------------------------------------------------------- formats */

static void test_builtin_formats_parse(void **state) {
  (void)state;
  kb_tformats *t = NULL;
  kb_error err = {0};
  assert_int_equal(kb_tformats_new(&t, &err), KB_OK);
  char *jira[] = {"summary", "issuekey", "status"}, *generic[] = {"ticketid", "subject"};
  const kb_tformat *j = kb_tformats_detect(t, jira, 3);
  assert_non_null(j);
  assert_string_equal(kb_tformat_name(j), "jira");
  assert_null(kb_tformats_detect(t, generic, 2));
  kb_tformats_free(t);
}

static void test_servicenow_csv(void **state) {
  fixture *f = *state;
  const kb_doc *d = fixture_ticket(f, "servicenow_incidents.csv", "INC0010001");
  field_is(d, KB_FIELD_TYPE, "ticket");
  field_is(d, KB_FIELD_TITLE, "Oracle 数据库连接超时 ORA-12170");
  /* rich text made plain: tags gone, entities decoded, the script dropped */
  field_is(d, KB_FIELD_BODY, "客户反馈应用服务器连接 Oracle 数据库时报 ORA-12170。\n\n"
                             "影响：订单系统无法下单 & 查询。");
  field_is(d, KB_FIELD_RESOLUTION, "防火墙会话超时为 30 分钟，连接池空闲连接被静默丢弃。\n"
                                   "在 sqlnet.ora 中设置 SQLNET.EXPIRE_TIME=10，并重启监听后恢复。");
  field_is(d, KB_FIELD_PRIORITY, "P1"); /* 1 - Critical */
  field_is(d, KB_FIELD_STATUS, "Closed / Solved (Permanently)");
  field_is(d, KB_FIELD_CATEGORY, "数据库");
  field_is(d, KB_FIELD_PRODUCT, "ORCL-PROD-01");
  field_is(d, KB_FIELD_CUSTOMER, "华东制造有限公司");
  field_is(d, KB_FIELD_CREATED, "2024-03-01");
  field_is(d, KB_FIELD_UPDATED, "2024-03-01"); /* resolved_at before closed_at */
  field_is(d, KB_FIELD_VISIBILITY, "internal");
  field_is(d, KB_FIELD_LANGUAGE, "zh");
  field_is(d, KB_FIELD_FIX, "yes");
  field_is(d, KB_FIELD_RESOLUTION_FROM, "close_notes");
  field_is(d, KB_FIELD_TAGS, NULL);
  d = find(f, "INC0010002");
  field_is(d, KB_FIELD_PRIORITY, "P4"); /* 4 - Low */
  field_is(d, KB_FIELD_UPDATED, "2024-03-05");
  /* closed without close notes: imported, marked */
  d = find(f, "INC0010003");
  field_is(d, KB_FIELD_PRIORITY, "P4"); /* 5 - Planning */
  field_is(d, KB_FIELD_RESOLUTION, NULL);
  field_is(d, KB_FIELD_FIX, "no");
  field_is(d, KB_FIELD_RESOLUTION_FROM, NULL);
  field_is(d, KB_FIELD_UPDATED, "2024-03-07"); /* closed_at when resolved_at is empty */
  assert_string_equal(kb_ticket_reader_format_title(f->r),
                      "ServiceNow 事件单 (ServiceNow incidents, CSV or JSON)");
}

static void test_servicenow_json(void **state) {
  fixture *f = *state;
  const kb_doc *d = fixture_ticket(f, "servicenow_incidents.jsonl", "INC0020001");
  field_is(d, KB_FIELD_TITLE, "Exchange mailbox over quota");
  field_is(d, KB_FIELD_BODY, "Mailbox of the finance team is full; mail bounces.");
  field_is(d, KB_FIELD_RESOLUTION, "Raised the quota to 100 GB and archived items older than two years.");
  field_is(d, KB_FIELD_PRIORITY, "P2");
  field_is(d, KB_FIELD_STATUS, "Resolved / Solved (Work Around)"); /* state 6 */
  field_is(d, KB_FIELD_CATEGORY, "software");
  field_is(d, KB_FIELD_PRODUCT, "EXCH-01");
  field_is(d, KB_FIELD_CREATED, "2024-04-02");
  field_is(d, KB_FIELD_UPDATED, "2024-04-02");
  field_is(d, KB_FIELD_RESOLUTION_FROM, "close_notes");
  d = find(f, "INC0020002");
  field_is(d, KB_FIELD_FIX, "no");
  field_is(d, KB_FIELD_UPDATED, "2024-04-05");
}

/* One JSON document (ServiceNow's JSONv2 export), pretty-printed: its
 * records, each reported at the line it starts on. */
static void test_servicenow_json_document(void **state) {
  fixture *f = *state;
  const kb_doc *d = fixture_ticket(f, "servicenow_incidents.json", "INC0030001");
  assert_int_equal(kb_ticket_reader_record_line(f->r), 3);
  field_is(d, KB_FIELD_TITLE, "SAN 存储链路抖动");
  field_is(d, KB_FIELD_BODY, "两台数据库主机的多路径日志出现 path down。");
  field_is(d, KB_FIELD_RESOLUTION, "更换了交换机 A 的 SFP 模块，链路误码清零。");
  field_is(d, KB_FIELD_RESOLUTION_FROM, "close_notes");
  field_is(d, KB_FIELD_PRIORITY, "P2");
  field_is(d, KB_FIELD_STATUS, "Resolved / Solved (Permanently)");
  field_is(d, KB_FIELD_PRODUCT, "SAN-FAB-A");
  field_is(d, KB_FIELD_CATEGORY, "存储");
  field_is(d, KB_FIELD_CREATED, "2024-07-01");
  field_is(d, KB_FIELD_UPDATED, "2024-07-01");
  d = find(f, "INC0030002");
  assert_int_equal(kb_ticket_reader_record_line(f->r), 17);
  field_is(d, KB_FIELD_PRIORITY, "P3");
  kb_doc *none = NULL;
  kb_ticket_reject rej;
  kb_error err = {0};
  assert_int_equal(kb_ticket_reader_next(f->r, &none, &rej, &err), KB_ENOENT);
}

/* A bad element of a JSON document is rejected at its line; the others
 * import; strings holding brackets and escaped quotes do not end one. */
static void test_json_document_rejects_one_element(void **state) {
  fixture *f = *state;
  open_ok(f, write_input(f, "t.json",
                         "{\"tickets\": [\n"
                         "  {\"id\": 1, \"subject\": \"a } ] \\\" b\", \"requester_id\": 7},\n"
                         "  {\"subject\": \"no id\", \"requester_id\": 7},\n"
                         "  {\"id\": 3, \"subject\": \"three\", \"requester_id\": 7}\n"
                         "], \"next_page\": null}\n"),
          NULL);
  field_is(find(f, "1"), KB_FIELD_TITLE, "a } ] \" b");
  kb_doc *d = NULL;
  kb_ticket_reject rej;
  kb_error err = {0};
  assert_int_equal(kb_ticket_reader_next(f->r, &d, &rej, &err), KB_EPARSE);
  assert_int_equal(rej.line, 3);
  assert_string_equal(rej.field, "id");
  assert_true(tu_contains(rej.raw, "no id"));
  field_is(find(f, "3"), KB_FIELD_TITLE, "three");
  assert_int_equal(kb_ticket_reader_next(f->r, &d, &rej, &err), KB_ENOENT);
}

static void test_jira_csv(void **state) {
  fixture *f = *state;
  const kb_doc *d = fixture_ticket(f, "jira_issues.csv", "OPS-101");
  field_is(d, KB_FIELD_TITLE, "Nightly backup job fails with ORA-19809");
  /* wiki markup readable: heading, code fence, link */
  field_is(d, KB_FIELD_BODY,
           "## Symptom\nThe RMAN job stops with *ORA-19809: limit exceeded for recovery files*.\n"
           "```\nSELECT * FROM v$recovery_file_dest;\n```\n"
           "See runbook (https://wiki.example.com/rman) for the schedule.");
  /* the last comment before the resolution date, not the thanks after it */
  field_is(d, KB_FIELD_RESOLUTION,
           "Raised DB_RECOVERY_FILE_DEST_SIZE to 200G and deleted obsolete backups with "
           "`DELETE OBSOLETE`; the job ran clean.");
  field_is(d, KB_FIELD_RESOLUTION_FROM, "Comment 2 (jsmith, 2024-03-05 16:30)");
  field_is(d, KB_FIELD_FIX, "yes");
  /* Resolution is the resolution's name: it goes with the status */
  field_is(d, KB_FIELD_STATUS, "Closed / Fixed");
  field_is(d, KB_FIELD_PRIORITY, "P1"); /* Highest */
  field_is(d, KB_FIELD_PRODUCT, "Oracle");
  field_is(d, KB_FIELD_CATEGORY, "Incident");
  /* repeated columns joined: Component/s then Labels, as in the header */
  field_is(d, KB_FIELD_TAGS, "Oracle, Backup, backup, rman");
  field_is(d, KB_FIELD_CREATED, "2024-03-04"); /* 04/Mar/24 10:15 AM */
  field_is(d, KB_FIELD_UPDATED, "2024-03-05");
  field_is(d, KB_FIELD_LANGUAGE, "en");
  d = find(f, "OPS-102");
  field_is(d, KB_FIELD_PRIORITY, "P3"); /* Medium */
  field_is(d, KB_FIELD_RESOLUTION, "已将打印机驱动回退到 6.1 版本，观察三天未再复现。");
  field_is(d, KB_FIELD_LANGUAGE, "zh");
  d = find(f, "OPS-103");
  field_is(d, KB_FIELD_PRIORITY, "P4"); /* Lowest */
  field_is(d, KB_FIELD_FIX, "no");
  field_is(d, KB_FIELD_STATUS, "Closed / Won't Do");
}

static void test_zendesk_jsonl(void **state) {
  fixture *f = *state;
  const kb_doc *d = fixture_ticket(f, "zendesk_tickets.jsonl", "35436");
  field_is(d, KB_FIELD_TITLE, "Cannot log in after password reset");
  field_is(d, KB_FIELD_BODY, "I reset my password yesterday and now the portal says my account is locked.");
  /* the last public comment of an agent (html_body made text): not the
   * private note after it, nor the requester's thanks */
  field_is(d, KB_FIELD_RESOLUTION,
           "Your account was locked by five failed attempts.\n\nI have unlocked it; please sign "
           "in with the new password & clear the browser's saved one.");
  field_is(d, KB_FIELD_RESOLUTION_FROM, "comments 2 (235323, 2024-05-06T09:00:00Z)");
  field_is(d, KB_FIELD_PRIORITY, "P2"); /* high */
  field_is(d, KB_FIELD_STATUS, "solved");
  field_is(d, KB_FIELD_TAGS, "login, account-lock");
  field_is(d, KB_FIELD_CATEGORY, "incident"); /* type, by the default names */
  field_is(d, KB_FIELD_CREATED, "2024-05-06");
  field_is(d, KB_FIELD_UPDATED, "2024-05-07");
  field_is(d, KB_FIELD_PRODUCT, NULL);
  /* only the requester spoke: no fix */
  d = find(f, "35437");
  field_is(d, KB_FIELD_PRIORITY, "P1"); /* urgent */
  field_is(d, KB_FIELD_FIX, "no");
  field_is(d, KB_FIELD_RESOLUTION, NULL);
  field_is(d, KB_FIELD_TAGS, "billing, 发票");
}

/* Only a true public flag makes a comment public: a private note written
 * as "false" or 0 (a converted export) is never the fix. */
static void test_zendesk_private_flags_as_text(void **state) {
  fixture *f = *state;
  const char *path = write_input(f, "flags.jsonl",
      "{\"id\":7,\"subject\":\"VPN drops\",\"requester_id\":1,\"comments\":["
      "{\"author_id\":1,\"public\":true,\"plain_body\":\"It drops every hour.\"},"
      "{\"author_id\":2,\"public\":true,\"plain_body\":\"Raise the idle timeout to 8 h.\"},"
      "{\"author_id\":2,\"public\":\"false\",\"plain_body\":\"internal: customer is rude\"},"
      "{\"author_id\":2,\"public\":0,\"plain_body\":\"internal: escalate\"}]}\n");
  open_ok(f, path, NULL);
  const kb_doc *d = find(f, "7");
  field_is(d, KB_FIELD_RESOLUTION, "Raise the idle timeout to 8 h.");
  field_is(d, KB_FIELD_FIX, "yes");
}

static void test_zentao_csv(void **state) {
  fixture *f = *state;
  const kb_doc *d = fixture_ticket(f, "zentao_bugs.csv", "101");
  field_is(d, KB_FIELD_TITLE, "RMAN 备份报 ORA-19809");
  field_is(d, KB_FIELD_BODY, "[步骤]\n\n1. 每晚 23:00 运行备份脚本\n\n2. 查看 rman.log\n\n[结果]\n\n"
                             "报 ORA-19809：恢复区空间不足\n\n[期望]\n\n备份成功");
  field_is(d, KB_FIELD_PRODUCT, "Oracle 数据库"); /* "(#3)" cut */
  field_is(d, KB_FIELD_TAGS, "备份恢复, 备份,RMAN");
  field_is(d, KB_FIELD_PRIORITY, "P1"); /* 严重程度 1 before 优先级 2 */
  /* 解决方案 is an outcome (已解决, 设计如此…), not the fix: ZenTao's export
   * has no fix text */
  field_is(d, KB_FIELD_STATUS, "已关闭 / 已解决");
  field_is(d, KB_FIELD_RESOLUTION, NULL);
  field_is(d, KB_FIELD_FIX, "no");
  field_is(d, KB_FIELD_CREATED, "2024-03-04");
  field_is(d, KB_FIELD_UPDATED, "2024-03-05");
  field_is(d, KB_FIELD_LANGUAGE, "zh");
  /* 0000-00-00 is no date, not a bad one */
  d = find(f, "102");
  field_is(d, KB_FIELD_UPDATED, "2024-04-12");
  field_is(d, KB_FIELD_PRIORITY, "P3");
  field_is(d, KB_FIELD_STATUS, "激活");
  field_is(d, KB_FIELD_PRODUCT, "打印管理");
}

/* ZenTao's ticket module (工单): its 解决方案 is the fix text the
 * "finish" form asks for, unlike a bug's. */
static void test_zentao_ticket_csv(void **state) {
  fixture *f = *state;
  const kb_doc *d = fixture_ticket(f, "zentao_tickets.csv", "2001");
  field_is(d, KB_FIELD_TITLE, "应用连不上 Oracle，报 ORA-12170");
  field_is(d, KB_FIELD_BODY, "客户反映应用服务器每隔几分钟报 ORA-12170: TNS 连接超时。\n\n数据库本身运行正常。");
  field_is(d, KB_FIELD_PRODUCT, "数据库服务");
  field_is(d, KB_FIELD_CATEGORY, "程序报错");
  field_is(d, KB_FIELD_PRIORITY, "P1");
  field_is(d, KB_FIELD_STATUS, "已关闭");
  field_is(d, KB_FIELD_CUSTOMER, "华东某银行");
  field_is(d, KB_FIELD_FIX, "yes");
  assert_true(tu_contains(kb_doc_get(d, KB_FIELD_RESOLUTION), "SQLNET.EXPIRE_TIME=10"));
  assert_false(tu_contains(kb_doc_get(d, KB_FIELD_RESOLUTION), "<li>"));
  field_is(d, KB_FIELD_CREATED, "2024-06-03");
  field_is(d, KB_FIELD_UPDATED, "2024-06-03");
  d = find(f, "2002");
  field_is(d, KB_FIELD_PRIORITY, "P4");
  field_is(d, KB_FIELD_FIX, "no");
  field_is(d, KB_FIELD_RESOLUTION, NULL);
  field_is(d, KB_FIELD_UPDATED, "2024-06-05");
}

static void test_redmine_csv(void **state) {
  fixture *f = *state;
  const kb_doc *d = fixture_ticket(f, "redmine_issues.csv", "4021");
  field_is(d, KB_FIELD_TITLE, "NFS mount hangs on boot");
  field_is(d, KB_FIELD_BODY, "Servers hang at boot while mounting /data over NFS.\n"
                             "Only after the switch firmware upgrade.");
  field_is(d, KB_FIELD_RESOLUTION, "Added _netdev,nofail to the fstab entry; the mount now waits for the network.");
  field_is(d, KB_FIELD_RESOLUTION_FROM, "Last notes");
  field_is(d, KB_FIELD_PRIORITY, "P1"); /* Immediate */
  field_is(d, KB_FIELD_PRODUCT, "Storage");
  field_is(d, KB_FIELD_CATEGORY, "NFS");
  field_is(d, KB_FIELD_STATUS, "Closed");
  field_is(d, KB_FIELD_CREATED, "2024-06-01");
  field_is(d, KB_FIELD_UPDATED, "2024-06-02");
  d = find(f, "4022");
  field_is(d, KB_FIELD_PRIORITY, "P4");
  field_is(d, KB_FIELD_FIX, "no");
}

/* A value outside a format's scale and the default one is rejected with
 * the value named; the default table still reads what a scale lacks. */
static void test_priority_outside_scale_rejected(void **state) {
  fixture *f = *state;
  open_ok(f, write_input(f, "jira.csv",
                         "Issue key,Summary,Priority\n"
                         "A-1,one,Lowest\n"
                         "A-2,two,Showstopper\n"
                         "A-3,three,P2\n"),
          NULL);
  field_is(find(f, "A-1"), KB_FIELD_PRIORITY, "P4");
  kb_doc *d = NULL;
  kb_ticket_reject rej;
  kb_error err = {0};
  assert_int_equal(kb_ticket_reader_next(f->r, &d, &rej, &err), KB_EPARSE);
  assert_null(d);
  assert_int_equal(rej.line, 3);
  assert_string_equal(rej.field, "priority");
  assert_true(tu_contains(rej.reason, "Showstopper"));
  field_is(find(f, "A-3"), KB_FIELD_PRIORITY, "P2");
}

/* --map wins over the format: here the description is taken as the fix. */
static void test_map_over_format(void **state) {
  fixture *f = *state;
  open_ok(f, EXPORTS "jira_issues.csv", "resolution=Description");
  const kb_doc *d = find(f, "OPS-103");
  field_is(d, KB_FIELD_RESOLUTION, "Please upgrade the agent to 7.x.");
  field_is(d, KB_FIELD_RESOLUTION_FROM, "Description");
  field_is(d, KB_FIELD_FIX, "yes");
}

/* A generic export (no known format) is marked too: by its resolution. */
static void test_generic_has_fix(void **state) {
  fixture *f = *state;
  open_ok(f, write_input(f, "g.csv", "工单号,问题描述,解决方案\n1,打印机卡纸,清理搓纸轮\n2,蓝屏,\n"), NULL);
  assert_null(kb_ticket_reader_format_title(f->r));
  const kb_doc *d = find(f, "1");
  field_is(d, KB_FIELD_FIX, "yes");
  field_is(d, KB_FIELD_RESOLUTION_FROM, "解决方案");
  d = find(f, "2");
  field_is(d, KB_FIELD_FIX, "no");
  field_is(d, KB_FIELD_RESOLUTION_FROM, NULL);
}

/* A ticket's has_fix is a boolean term (XFyes, XFno) for what ranks or
 * filters by it later; a term of weight zero, so ranking is unchanged. */
static void test_has_fix_term(void **state) {
  tu_index *ix = *state;
  const char *with = "{\"id\":\"F-1\",\"title\":\"打印机脱机\",\"resolution\":\"重启服务\"}";
  const char *without = "{\"id\":\"F-2\",\"title\":\"打印机脱机\"}";
  const char *both[] = {with, without};
  for (int i = 0; i < 2; i++) {
    kb_doc *d = NULL;
    kb_ticket_reject rej = {0};
    assert_int_equal(kb_ticket_from_json(both[i], strlen(both[i]), 1, NULL, &d, &rej), KB_OK);
    kb_upsert outcome;
    kb_error err = {0};
    int rc = kb_import_doc(ix->idx, ix->tk, d, &outcome, &err);
    kb_doc_free(d);
    assert_int_equal(rc, KB_OK);
  }
  kb_error err = {0};
  assert_int_equal(kb_index_commit(ix->idx, &err), KB_OK);
  assert_int_equal(kb_index_term_freq(ix->idx, "XFyes"), 1);
  assert_int_equal(kb_index_term_freq(ix->idx, "XFno"), 1);
}

/* ------------------------------------------------------------ richtext */

static void html_is(const char *html, const char *want) {
  kb_buf b = {0};
  assert_int_equal(kb_richtext_html(html, strlen(html), &b), KB_OK);
  if (strcmp(b.data, want) != 0) {
    char got[512];
    snprintf(got, sizeof got, "%s", b.data);
    kb_buf_free(&b);
    fail_msg("html '%s': expected '%s', got '%s'", html, want, got);
  }
  kb_buf_free(&b);
}

static void test_html_to_text(void **state) {
  (void)state;
  html_is("<p>One</p><p>Two<br>three</p>", "One\n\nTwo\nthree");
  html_is("<ul><li>a</li><li>b &amp; c</li></ul>", "- a\n- b & c");
  html_is("x<script>alert('<p>')</script>y<style>p{}</style>z", "xyz");
  html_is("<!-- <p>hidden</p> -->shown", "shown");
  html_is("a &lt; b &#x4e2d;&#25991; &#0; &#xD800; &bogus;", "a < b 中文 \xEF\xBF\xBD \xEF\xBF\xBD &bogus;");
  html_is("  many   spaces\n\nhere  ", "many spaces here");
  html_is("<pre>line 1\n  line 2</pre>after", "line 1\n  line 2\n\nafter");
  html_is("<a href=\"x>y\">link</a> 5 < 6", "link 5 < 6");
  html_is("<td>a</td><td>b</td>", "a b");
  html_is("unclosed <b", "unclosed");
  assert_true(kb_richtext_looks_html("<p>x</p>", 8));
  assert_false(kb_richtext_looks_html("a < b and <none>", 16));
}

static void test_jira_to_text(void **state) {
  (void)state;
  const char *src = "h1. Title\nbq. quoted\n{code:java}int x;{code}\n[~jsmith] see [docs|http://d] "
                    "and [http://e]\n{color:red}red{color} {{mono}}";
  kb_buf b = {0};
  assert_int_equal(kb_richtext_jira(src, strlen(src), &b), KB_OK);
  assert_string_equal(b.data, "# Title\n> quoted\n```\nint x;\n```\n@jsmith see docs (http://d) and "
                              "http://e\nred `mono`");
  kb_buf_free(&b);
}

/* ------------------------------------------------------------------ CLI */

static int run_import(fixture *f, const char *db, const char *a1, const char *a2, const char *a3) {
  char bin[4096];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-index"));
  char *argv[] = {bin, "--db", (char *)db, "import", (char *)a1, (char *)a2, (char *)a3, NULL};
  kb_buf_reset(&f->out);
  kb_buf_reset(&f->err);
  return tu_run(argv, &f->out, &f->err);
}

static void test_dry_run_writes_nothing(void **state) {
  fixture *f = *state;
  char db[1024];
  snprintf(db, sizeof db, "%s/kb.db", f->dir);
  assert_int_equal(run_import(f, db, "--dry-run", EXPORTS "jira_issues.csv", NULL), 0);
  struct stat st;
  assert_int_not_equal(stat(db, &st), 0); /* no index folder */
  const char *o = f->out.data;
  assert_true(tu_contains(o, "格式 (format): Jira 问题 (Jira issues, CSV)"));
  assert_true(tu_contains(o, "编码 (charset): UTF-8"));
  assert_true(tu_contains(o, "Resolution               status (解决结果名称 the resolution's name)"));
  assert_true(tu_contains(o, "Issue id                 忽略 (ignored)"));
  assert_true(tu_contains(o, "Description              problem (Jira wiki → 文本 text)"));
  assert_true(tu_contains(o, "记录 (records as kb would store them): 3"));
  assert_true(tu_contains(o, "\"resolution_from\": \"Comment 2 (jsmith, 2024-03-05 16:30)\""));
  assert_true(tu_contains(o, "\"id\": \"t/OPS-103\""));
  assert_true(tu_contains(o, "未写入任何内容 (dry run: nothing written)"));
  /* an existing index is not changed either */
  assert_int_equal(run_import(f, db, EXPORTS "redmine_issues.csv", NULL, NULL), 0);
  kb_buf after = {0};
  assert_int_equal(run_import(f, db, "--dry-run", EXPORTS "zentao_bugs.csv", NULL), 0);
  char bin[4096];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-search"));
  char *argv[] = {bin, "--db", db, "--json", "--", "RMAN", NULL};
  tu_run(argv, &after, NULL);
  json_t *j = json_loads(after.data, 0, NULL);
  assert_non_null(j);
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 0); /* the bug was not written */
  json_decref(j);
  kb_buf_free(&after);
}

static void test_dry_run_unrecognised_header(void **state) {
  fixture *f = *state;
  char db[1024];
  snprintf(db, sizeof db, "%s/kb.db", f->dir);
  const char *in = write_input(f, "odd.csv", "Key,Headline\nX-1,hello\n");
  assert_int_equal(run_import(f, db, "--dry-run", in, NULL), 1);
  assert_true(tu_contains(f->out.data, "工单号 (id)"));
  assert_true(tu_contains(f->out.data, "--map"));
  struct stat st;
  assert_int_not_equal(stat(db, &st), 0);
}

/* Every fixture imports with no --map, and a hit says whether it has a fix. */
static void test_import_and_has_fix_in_hits(void **state) {
  fixture *f = *state;
  char db[1024];
  snprintf(db, sizeof db, "%s/kb.db", f->dir);
  static const char *const files[] = {"servicenow_incidents.csv", "servicenow_incidents.jsonl",
                                      "servicenow_incidents.json",
                                      "jira_issues.csv", "zendesk_tickets.jsonl",
                                      "zentao_bugs.csv", "zentao_tickets.csv",
                                      "redmine_issues.csv"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char path[512];
    snprintf(path, sizeof path, EXPORTS "%s", files[i]);
    int st = run_import(f, db, "--progress", "never", path);
    if (st != 0) fail_msg("%s: exit %d: %s", files[i], st, f->err.data);
    assert_true(tu_contains(f->err.data, "拒绝 0"));
  }
  char bin[4096];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-search"));
  char *argv[] = {bin, "--db", db, "--json", "--", "ORA-19809", NULL};
  kb_buf out = {0};
  assert_int_equal(tu_run(argv, &out, NULL), 0);
  json_t *j = json_loads(out.data, 0, NULL);
  kb_buf_free(&out);
  assert_non_null(j);
  json_t *hits = json_object_get(j, "hits");
  int seen = 0;
  for (size_t i = 0; i < json_array_size(hits); i++) {
    json_t *h = json_array_get(hits, i);
    const char *id = json_string_value(json_object_get(h, "id"));
    json_t *fix = json_object_get(h, "has_fix");
    if (strcmp(id, "t/OPS-101") == 0) assert_true(json_is_true(fix)), seen |= 1;
    if (strcmp(id, "t/101") == 0) assert_true(json_is_false(fix)), seen |= 2;
  }
  json_decref(j);
  assert_int_equal(seen, 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_builtin_formats_parse),
      cmocka_unit_test_setup_teardown(test_servicenow_csv, setup, teardown),
      cmocka_unit_test_setup_teardown(test_servicenow_json, setup, teardown),
      cmocka_unit_test_setup_teardown(test_servicenow_json_document, setup, teardown),
      cmocka_unit_test_setup_teardown(test_json_document_rejects_one_element, setup, teardown),
      cmocka_unit_test_setup_teardown(test_jira_csv, setup, teardown),
      cmocka_unit_test_setup_teardown(test_zendesk_jsonl, setup, teardown),
      cmocka_unit_test_setup_teardown(test_zendesk_private_flags_as_text, setup, teardown),
      cmocka_unit_test_setup_teardown(test_zentao_csv, setup, teardown),
      cmocka_unit_test_setup_teardown(test_zentao_ticket_csv, setup, teardown),
      cmocka_unit_test_setup_teardown(test_redmine_csv, setup, teardown),
      cmocka_unit_test_setup_teardown(test_priority_outside_scale_rejected, setup, teardown),
      cmocka_unit_test_setup_teardown(test_map_over_format, setup, teardown),
      cmocka_unit_test_setup_teardown(test_generic_has_fix, setup, teardown),
      cmocka_unit_test_setup_teardown(test_has_fix_term, tu_index_setup, tu_index_teardown),
      cmocka_unit_test(test_html_to_text),
      cmocka_unit_test(test_jira_to_text),
      cmocka_unit_test_setup_teardown(test_dry_run_writes_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dry_run_unrecognised_header, setup, teardown),
      cmocka_unit_test_setup_teardown(test_import_and_has_fix_in_hits, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
