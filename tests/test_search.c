/* test_search.c — whole searches over a small real index: ranking, what
 * the public may see (internal documents and sections), filters, paging,
 * date sorting, facets, snippets and the JSON response. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/analyze.h"
#include "kb/search.h"
#include "testutil.h"

typedef struct seg {
  kb_segment_kind kind;
  bool internal;
  const char *text;
} seg;

typedef struct sample {
  const char *id, *title, *product, *category, *priority, *visibility, *updated;
  seg segs[3];
} sample;

/* Four documents: three public (one with an internal section), one internal.
 * Only the title of the first holds 打印机; zebracorp appears only in
 * internal text. */
static const sample CORPUS[] = {
    {"a/printer/offline", "打印机脱机怎么办", "hardware", "打印", "P2", "public", "2026-01-10",
     {{KB_SEG_BODY, false, "显示脱机时，先检查连接线和电源，再重新安装驱动程序。"},
      {KB_SEG_BODY, false, "如果打印机仍然脱机，重启后台服务。"}}},
    {"a/printer/driver", "安装驱动程序", "hardware", "驱动", "P3", "public", "2025-05-05",
     {{KB_SEG_BODY, false, "下载驱动程序，双击安装，然后打印测试页。打印机型号见标签。"},
      {KB_SEG_HEADING, true, "内部备注"},
      {KB_SEG_BODY, true, "供应商 zebracorp 的账号在工单系统里。"}}},
    {"a/db/ora-12170", "ORA-12170 连接超时", "database", "网络", "P1", "public", "2024-03-03",
     {{KB_SEG_BODY, false, "客户端连接数据库时报 ORA-12170：检查监听、防火墙和 sqlnet.ora。"},
      {KB_SEG_BODY, false, "Windows 客户端另报 0x80070005 时，以管理员身份运行。"}}},
    {"t/internal-1", "打印机固件排障手册", "hardware", "打印", "P1", "internal", "2026-06-06",
     {{KB_SEG_BODY, false, "打印机固件缺陷的绕过方法，联系 zebracorp 二线。"}}},
};
#define NDOCS (sizeof CORPUS / sizeof CORPUS[0])

typedef struct fixture {
  char *dir, *path;
  kb_searcher *s;
} fixture;

static void build_index_of(const char *path, const char *extra_lexicon, const sample *docs,
                           size_t ndocs) {
  kb_error err = {0};
  kb_lexicon *lex = NULL;
  kb_tokenizer *tk = NULL;
  kb_index *w = NULL;
  assert_int_equal(kb_lexicon_new_builtin("lexicon", &lex, &err), KB_OK);
  if (extra_lexicon) kb_lexicon_add_text(lex, extra_lexicon, strlen(extra_lexicon));
  assert_int_equal(kb_tokenizer_new(lex, &tk, &err), KB_OK);
  assert_int_equal(kb_index_open(path, KB_INDEX_WRITE, &w, &err), KB_OK);
  for (size_t i = 0; i < ndocs; i++) {
    const sample *c = &docs[i];
    kb_doc *d = kb_doc_new();
    kb_doc_set_str(d, KB_FIELD_ID, c->id);
    kb_doc_set_str(d, KB_FIELD_TYPE, "article");
    kb_doc_set_str(d, KB_FIELD_TITLE, c->title);
    kb_doc_set_str(d, KB_FIELD_PRODUCT, c->product);
    kb_doc_set_str(d, KB_FIELD_CATEGORY, c->category);
    kb_doc_set_str(d, KB_FIELD_PRIORITY, c->priority);
    kb_doc_set_str(d, KB_FIELD_VISIBILITY, c->visibility);
    kb_doc_set_str(d, KB_FIELD_UPDATED, c->updated);
    kb_doc_add_segment(d, KB_SEG_TITLE, false, c->title, strlen(c->title));
    for (size_t k = 0; k < 3 && c->segs[k].text; k++)
      kb_doc_add_segment(d, c->segs[k].kind, c->segs[k].internal, c->segs[k].text,
                         strlen(c->segs[k].text));
    kb_xdoc *xd = NULL;
    if (kb_analyze_doc(tk, d, &xd, &err) != KB_OK) fail_msg("analyze: %s", err.message);
    kb_buf id = {0};
    kb_id_term(c->id, &id);
    assert_int_equal(kb_index_replace(w, id.data, xd, &err), KB_OK);
    kb_buf_free(&id);
    kb_xdoc_free(xd);
    kb_doc_free(d);
  }
  if (extra_lexicon) assert_int_equal(kb_index_set_meta(w, KB_META_LEXICON, extra_lexicon, &err), KB_OK);
  assert_int_equal(kb_index_commit(w, &err), KB_OK);
  kb_index_free(w);
  kb_tokenizer_free(tk);
  kb_lexicon_free(lex);
}

static void build_index(const char *path, const char *extra_lexicon) {
  build_index_of(path, extra_lexicon, CORPUS, NDOCS);
}

static void fixture_free(fixture *f) {
  kb_searcher_free(f->s);
  tu_rmtree(f->dir);
  free(f->dir);
  free(f->path);
  free(f);
}

/* A searcher over its own index of docs, in a temporary folder; NULL when
 * it does not open. Free with fixture_free(). */
static fixture *fixture_of(const sample *docs, size_t ndocs) {
  fixture *f = calloc(1, sizeof *f);
  f->dir = tu_tempdir();
  kb_buf p = {0};
  kb_buf_printf(&p, "%s/kb.db", f->dir);
  f->path = kb_buf_detach(&p);
  build_index_of(f->path, NULL, docs, ndocs);
  kb_error err = {0};
  if (kb_searcher_new(f->path, &f->s, &err) != KB_OK) {
    fprintf(stderr, "fixture: %s\n", err.message);
    fixture_free(f);
    return NULL;
  }
  return f;
}

static int setup(void **state) {
  *state = fixture_of(CORPUS, NDOCS);
  return *state ? 0 : -1;
}

static int teardown(void **state) {
  fixture_free(*state);
  return 0;
}

static kb_search_response *run(fixture *f, kb_search_request req) {
  if (req.query && !req.query_len) req.query_len = strlen(req.query);
  if (!req.limit) req.limit = 10;
  kb_search_response *r = NULL;
  kb_error err = {0};
  if (kb_search(f->s, &req, &r, &err) != KB_OK) fail_msg("search: %s", err.message);
  assert_non_null(r);
  return r;
}

static bool has_hit(const kb_search_response *r, const char *id) {
  for (size_t i = 0; i < r->nhits; i++)
    if (r->hits[i].id && strcmp(r->hits[i].id, id) == 0) return true;
  return false;
}

static const kb_search_hit *hit(const kb_search_response *r, const char *id) {
  for (size_t i = 0; i < r->nhits; i++)
    if (r->hits[i].id && strcmp(r->hits[i].id, id) == 0) return &r->hits[i];
  return NULL;
}

/* ---------------------------------------------------------------- ranking */

static void test_title_match_ranks_first(void **state) {
  fixture *f = *state;
  kb_search_response *r = run(f, (kb_search_request){.query = "打印机"});
  assert_true(r->nhits >= 2);
  assert_string_equal(r->hits[0].id, "a/printer/offline");
  assert_string_equal(r->hits[0].title, "打印机脱机怎么办");
  for (size_t i = 1; i < r->nhits; i++) assert_true(r->hits[i - 1].score >= r->hits[i].score);
  kb_search_response_free(r);
}

/* A query typed as a document's whole title finds that document first,
 * even when another one holds its words more often. */
static void test_exact_title_ranks_first(void **state) {
  (void)state;
  static const sample docs[] = {
      {"a/changed", "触发 Information schema is changed 错误的原因？", "tidb", "咨询", "P3",
       "public", "2025-01-01",
       {{KB_SEG_BODY, false, "并发执行 DDL 时，事务提交前表结构已经变化，需要重试。"
                             "先查看 TiDB 日志中的 DDL 任务记录，确认变更的表和时间；"
                             "再检查应用的重试设置，把 tidb_disable_txn_auto_retry 设为 off，"
                             "或在应用层捕获错误码 8028 后重新执行整个事务。"
                             "业务高峰期尽量不要执行加索引、改列类型之类的在线变更，"
                             "必要时把变更安排在维护窗口，并提前通知相关的开发团队。"}}},
      {"a/schema-errors", "Information schema is changed 错误：触发的原因与处理", "tidb", "咨询", "P3",
       "public", "2025-01-01",
       {{KB_SEG_BODY, false, "触发 Information schema is changed 错误的原因：DDL 与事务并发。"},
        {KB_SEG_BODY, false, "schema is changed 错误的原因还可能是加载 schema 失败。"}}}};
  fixture *f = fixture_of(docs, 2);
  assert_non_null(f);
  /* typed differently: half-width question mark, other case */
  kb_search_response *r =
      run(f, (kb_search_request){.query = "触发 information SCHEMA is changed 错误的原因?"});
  assert_int_equal(r->nhits, 2);
  assert_string_equal(r->hits[0].id, "a/changed");
  kb_search_response_free(r);
  fixture_free(f);
}

/* The exact-title bonus ranks the title first without shrinking the match
 * set: the set is cut at a fraction of the best weight without the bonus,
 * so the documents holding both words stay in it. */
static void test_exact_title_keeps_the_match_set(void **state) {
  (void)state;
  enum { N = 40 };
  static sample docs[N];
  static char titles[N][64], ids[N][32];
  for (int i = 0; i < N; i++) {
    snprintf(ids[i], sizeof ids[i], "a/doc-%d", i);
    if (i == 0) snprintf(titles[i], sizeof titles[i], "printer offline");
    else if (i < 20) snprintf(titles[i], sizeof titles[i], "printer offline fix %d", i);
    else snprintf(titles[i], sizeof titles[i], "%s notes %d", i % 2 ? "printer" : "offline", i);
    docs[i] = (sample){ids[i], titles[i], "hardware", "打印", "P3", "public", "2025-01-01",
                       {{KB_SEG_BODY, false, "steps to follow"}}};
  }
  fixture *f = fixture_of(docs, N);
  assert_non_null(f);
  kb_search_response *r = run(f, (kb_search_request){.query = "printer offline", .facets = true});
  assert_string_equal(r->hits[0].id, "a/doc-0");
  assert_true(r->total >= 20); /* every title holding both words */
  assert_int_equal(r->nhits, 10);
  kb_search_response_free(r);
  fixture_free(f);
}

static void test_technical_token_found(void **state) {
  fixture *f = *state;
  /* as written, without its dash (letters then digits are its two parts),
   * and a hex code by its digits alone */
  const char *queries[][2] = {{"ora-12170", "<mark>ORA-12170</mark>"},
                              {"ORA12170", "<mark>ORA-12170</mark>"},
                              {"80070005", "<mark>0x80070005</mark>"},
                              {"0x80070005", "<mark>0x80070005</mark>"}};
  for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
    kb_search_response *r = run(f, (kb_search_request){.query = queries[i][0]});
    assert_int_equal(r->nhits, 1);
    assert_string_equal(r->hits[0].id, "a/db/ora-12170");
    if (!tu_contains(r->hits[0].snippet, queries[i][1]))
      fail_msg("%s: snippet %s", queries[i][0], r->hits[0].snippet);
    kb_search_response_free(r);
  }
}

static void test_technical_token_found_by_its_words(void **state) {
  fixture *f = *state;
  /* the text names sqlnet.ora, the query a longer path that holds it */
  kb_search_response *r = run(f, (kb_search_request){.query = "/u01/network/admin/sqlnet.ora"});
  assert_true(r->nhits >= 1);
  assert_string_equal(r->hits[0].id, "a/db/ora-12170");
  kb_search_response_free(r);
}

static void test_synonym_marked_in_snippet(void **state) {
  fixture *f = *state;
  /* a document found through a synonym shows where: printer marks 打印机 */
  kb_search_response *r = run(f, (kb_search_request){.query = "printer"});
  assert_true(has_hit(r, "a/printer/offline"));
  for (size_t i = 0; i < r->nhits; i++)
    if (strcmp(r->hits[i].id, "a/printer/offline") == 0 &&
        !tu_contains(r->hits[i].snippet, "<mark>打印机</mark>"))
      fail_msg("snippet %s", r->hits[i].snippet);
  kb_search_response_free(r);
}

static void test_homophone_typo_suggested(void **state) {
  fixture *f = *state;
  /* 打印积: the wrong candidate of a pinyin input method for 打印机 */
  const char *typos[][2] = {{"打印积脱机", "打印机脱机"}, {"打印积 driver", "打印机 driver"}};
  for (size_t i = 0; i < 2; i++) {
    kb_search_response *r = run(f, (kb_search_request){.query = typos[i][0]});
    assert_non_null(r->suggestion);
    assert_string_equal(r->suggestion, typos[i][1]);
    kb_search_response_free(r);
  }
  /* words as typed are left alone, and so is a piece across a word (印机
   * of 打印机 would read as 印机 only by cutting the word) */
  const char *fine[] = {"打印机脱机", "打印机", "驱动程序 打印"};
  for (size_t i = 0; i < 3; i++) {
    kb_search_response *r = run(f, (kb_search_request){.query = fine[i]});
    assert_null(r->suggestion);
    kb_search_response_free(r);
  }
}

static void test_homophone_of_a_synonym(void **state) {
  (void)state;
  /* 邮件 is a built-in synonym (= email), not a lexicon word */
  static const sample MAIL[] = {
      {"a/mail-1", "邮件发不出去", "mail", "邮件", "P3", "public", "2026-01-01",
       {{KB_SEG_BODY, false, "检查发件服务器。"}}},
      {"a/mail-2", "收不到邮件", "mail", "邮件", "P3", "public", "2026-01-02",
       {{KB_SEG_BODY, false, "检查收件规则。"}}},
      {"a/mail-3", "邮件附件太大", "mail", "邮件", "P3", "public", "2026-01-03",
       {{KB_SEG_BODY, false, "压缩后再发。"}}},
  };
  fixture *f = fixture_of(MAIL, 3);
  assert_non_null(f);
  kb_search_response *r = run(f, (kb_search_request){.query = "邮建发不出去"});
  assert_non_null(r->suggestion);
  assert_string_equal(r->suggestion, "邮件发不出去");
  kb_search_response_free(r);
  fixture_free(f);
}

static void test_hit_fields(void **state) {
  fixture *f = *state;
  kb_search_response *r = run(f, (kb_search_request){.query = "ORA-12170"});
  const kb_search_hit *h = hit(r, "a/db/ora-12170");
  assert_non_null(h);
  assert_string_equal(h->type, "article");
  assert_string_equal(h->title, "ORA-12170 连接超时");
  assert_string_equal(h->product, "database");
  assert_string_equal(h->category, "网络");
  assert_string_equal(h->priority, "P1");
  assert_string_equal(h->updated, "2024-03-03");
  assert_true(h->score > 0);
  /* the explanation costs lookups: only when asked */
  assert_null(r->explain);
  kb_search_response_free(r);
  r = run(f, (kb_search_request){.query = "ORA-12170", .explain = true});
  assert_non_null(r->explain);
  assert_true(tu_contains(r->explain, "12170"));
  kb_search_response_free(r);
}

/* ------------------------------------------------------------- visibility */

static void test_public_never_sees_internal_document(void **state) {
  fixture *f = *state;
  static const char *queries[] = {"打印机", "固件", "排障手册", "", "zebracorp"};
  for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
    kb_search_response *r = run(f, (kb_search_request){.query = queries[i]});
    if (has_hit(r, "t/internal-1")) fail_msg("public search '%s' found the internal doc", queries[i]);
    kb_search_response_free(r);
  }
  kb_search_response *r = run(f, (kb_search_request){.query = "打印机"});
  assert_int_equal(r->total, 2);
  kb_search_response_free(r);
}

static void test_public_never_matches_internal_section(void **state) {
  fixture *f = *state;
  kb_search_response *r = run(f, (kb_search_request){.query = "zebracorp"});
  assert_int_equal(r->nhits, 0);
  assert_int_equal(r->total, 0);
  kb_search_response_free(r);
  /* nor does its snippet show internal text */
  r = run(f, (kb_search_request){.query = "驱动程序 安装"});
  const kb_search_hit *h = hit(r, "a/printer/driver");
  assert_non_null(h);
  assert_false(tu_contains(h->snippet, "zebracorp"));
  assert_false(tu_contains(h->snippet, "供应商"));
  kb_search_response_free(r);
}

static void test_engineer_sees_internal(void **state) {
  fixture *f = *state;
  kb_search_response *r =
      run(f, (kb_search_request){.query = "zebracorp", .include_internal = true});
  assert_int_equal(r->nhits, 2);
  assert_true(has_hit(r, "a/printer/driver"));
  assert_true(has_hit(r, "t/internal-1"));
  const kb_search_hit *h = hit(r, "a/printer/driver");
  assert_true(tu_contains(h->snippet, "<mark>zebracorp</mark>"));
  kb_search_response_free(r);
  r = run(f, (kb_search_request){.query = "打印机", .include_internal = true});
  assert_int_equal(r->total, 3);
  assert_true(has_hit(r, "t/internal-1"));
  kb_search_response_free(r);
}

/* ---------------------------------------------------------------- filters */

static void test_product_filter(void **state) {
  fixture *f = *state;
  kb_search_response *r = run(f, (kb_search_request){.query = "连接", .product = "database"});
  assert_int_equal(r->nhits, 1);
  assert_string_equal(r->hits[0].id, "a/db/ora-12170");
  kb_search_response_free(r);
  /* values are compared folded */
  r = run(f, (kb_search_request){.query = "", .product = "HARDWARE"});
  assert_int_equal(r->total, 2);
  assert_true(has_hit(r, "a/printer/offline"));
  assert_true(has_hit(r, "a/printer/driver"));
  kb_search_response_free(r);
  r = run(f, (kb_search_request){.query = "打印机", .product = "database"});
  assert_int_equal(r->nhits, 0);
  kb_search_response_free(r);
}

static void test_other_filters(void **state) {
  fixture *f = *state;
  kb_search_response *r = run(f, (kb_search_request){.query = "", .priority = "P1"});
  assert_int_equal(r->total, 1);
  assert_string_equal(r->hits[0].id, "a/db/ora-12170");
  kb_search_response_free(r);
  r = run(f, (kb_search_request){.query = "", .category = "打印", .include_internal = true});
  assert_int_equal(r->total, 2);
  kb_search_response_free(r);
  r = run(f, (kb_search_request){.query = "", .type = "ticket"});
  assert_int_equal(r->total, 0);
  kb_search_response_free(r);
  /* filters written in the query */
  r = run(f, (kb_search_request){.query = "product:database"});
  assert_int_equal(r->total, 1);
  kb_search_response_free(r);
}

/* ------------------------------------------------------------ paging, sort */

static void test_offset_and_limit(void **state) {
  fixture *f = *state;
  kb_search_response *all = run(f, (kb_search_request){.query = "", .sort_by_date = true});
  assert_int_equal(all->nhits, 3);
  kb_search_response *p1 =
      run(f, (kb_search_request){.query = "", .sort_by_date = true, .limit = 2});
  kb_search_response *p2 =
      run(f, (kb_search_request){.query = "", .sort_by_date = true, .offset = 2, .limit = 2});
  kb_search_response *p3 =
      run(f, (kb_search_request){.query = "", .sort_by_date = true, .offset = 3, .limit = 2});
  assert_int_equal(p1->nhits, 2);
  assert_int_equal(p1->total, 3);
  assert_int_equal(p2->nhits, 1);
  assert_int_equal(p3->nhits, 0);
  assert_string_equal(p1->hits[0].id, all->hits[0].id);
  assert_string_equal(p1->hits[1].id, all->hits[1].id);
  assert_string_equal(p2->hits[0].id, all->hits[2].id);
  kb_search_response_free(all);
  kb_search_response_free(p1);
  kb_search_response_free(p2);
  kb_search_response_free(p3);
}

static void test_sort_by_date(void **state) {
  fixture *f = *state;
  kb_search_response *r = run(f, (kb_search_request){.query = "", .sort_by_date = true});
  assert_int_equal(r->nhits, 3);
  assert_string_equal(r->hits[0].updated, "2026-01-10");
  assert_string_equal(r->hits[1].updated, "2025-05-05");
  assert_string_equal(r->hits[2].updated, "2024-03-03");
  kb_search_response_free(r);
}

static void test_facets(void **state) {
  fixture *f = *state;
  kb_search_response *r = run(f, (kb_search_request){.query = "", .facets = true, .limit = 1});
  assert_non_null(r->raw);
  assert_int_equal(r->raw->nfacets, 4);
  /* product facet (second): hardware 2, database 1 — over all matches */
  assert_int_equal(r->raw->nfacet[1], 2);
  assert_string_equal(r->raw->facets[1][0].value, "hardware");
  assert_int_equal(r->raw->facets[1][0].count, 2);
  assert_string_equal(r->raw->facets[1][1].value, "database");
  assert_int_equal(r->raw->facets[1][1].count, 1);
  for (size_t s = 0; s < r->raw->nfacets; s++) {
    uint32_t sum = 0;
    for (size_t k = 0; k < r->raw->nfacet[s]; k++) sum += r->raw->facets[s][k].count;
    assert_int_equal(sum, r->total);
  }
  kb_search_response_free(r);
}

/* The match set of several words: the driver article holds 打印机 once in
 * a longer body and nothing of 脱机; it is not an answer to "打印机 脱机",
 * so it is neither counted, faceted, shown nor sorted in by date, while
 * "打印机" alone still finds it. */
static void test_match_set_of_several_words(void **state) {
  fixture *f = *state;
  kb_search_request req = {.query = "打印机 脱机", .facets = true};
  kb_search_response *r = run(f, req);
  assert_true(has_hit(r, "a/printer/offline"));
  assert_false(has_hit(r, "a/printer/driver"));
  assert_int_equal(r->total, r->nhits);
  assert_true(r->total_exact);
  for (size_t s = 0; s < r->raw->nfacets; s++) {
    uint32_t sum = 0;
    for (size_t k = 0; k < r->raw->nfacet[s]; k++) sum += r->raw->facets[s][k].count;
    assert_int_equal(sum, r->total);
  }
  uint32_t total = r->total;
  kb_search_response_free(r);
  req.facets = false; /* the first page alone: trimmed, the same set */
  r = run(f, req);
  assert_int_equal(r->nhits, total);
  assert_false(has_hit(r, "a/printer/driver"));
  kb_search_response_free(r);
  req.sort_by_date = true; /* date order within the set */
  r = run(f, req);
  assert_int_equal(r->nhits, total);
  assert_false(has_hit(r, "a/printer/driver"));
  kb_search_response_free(r);
  r = run(f, (kb_search_request){.query = "打印机", .facets = true});
  assert_true(has_hit(r, "a/printer/offline"));
  assert_true(has_hit(r, "a/printer/driver"));
  kb_search_response_free(r);
}

/* ------------------------------------------------------------------- JSON */

static void test_response_json(void **state) {
  fixture *f = *state;
  const char *query = "打印机 \"引号\" <b>";
  kb_search_response *r = run(f, (kb_search_request){.query = "打印机 \"引号\" <b>"});
  char *text = kb_search_response_json(r, query);
  assert_non_null(text);
  json_error_t jerr;
  json_t *o = json_loads(text, 0, &jerr);
  if (!o) fail_msg("not JSON: %s: %s", jerr.text, text);
  assert_string_equal(json_string_value(json_object_get(o, "query")), query);
  assert_true(json_is_integer(json_object_get(o, "total")));
  assert_int_equal(json_integer_value(json_object_get(o, "total")), r->total);
  json_t *hits = json_object_get(o, "hits");
  assert_true(json_is_array(hits));
  assert_int_equal(json_array_size(hits), r->nhits);
  static const char *keys[] = {"id",      "type",     "title",    "score",   "snippet",
                               "product", "category", "priority", "updated", "url"};
  for (size_t i = 0; i < json_array_size(hits); i++) {
    json_t *h = json_array_get(hits, i);
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
      if (!json_object_get(h, keys[k])) fail_msg("hit %zu has no key '%s'", i, keys[k]);
    assert_string_equal(json_string_value(json_object_get(h, "id")), r->hits[i].id);
    assert_true(json_is_number(json_object_get(h, "score")));
    char url[256];
    snprintf(url, sizeof url, "/%s", r->hits[i].id);
    assert_string_equal(json_string_value(json_object_get(h, "url")), url);
  }
  /* not counted: the four facets, empty */
  json_t *facets = json_object_get(o, "facets");
  assert_int_equal(json_object_size(facets), 4);
  assert_int_equal(json_object_size(json_object_get(facets, "product")), 0);
  json_decref(o);
  free(text);
  kb_search_response_free(r);
}

static void test_response_json_with_facets_and_no_hits(void **state) {
  fixture *f = *state;
  kb_search_response *r = run(f, (kb_search_request){.query = "", .facets = true});
  char *text = kb_search_response_json(r, NULL);
  json_t *o = json_loads(text, 0, NULL);
  assert_non_null(o);
  json_t *facets = json_object_get(o, "facets");
  assert_true(json_is_object(facets));
  json_t *product = json_object_get(facets, "product");
  assert_int_equal(json_integer_value(json_object_get(product, "hardware")), 2);
  json_decref(o);
  free(text);
  kb_search_response_free(r);

  /* a query of invalid UTF-8 (kb-search takes any bytes): every key, in
   * whole characters */
  const char *bad = "zorblx \xff\xfe";
  r = run(f, (kb_search_request){.query = bad});
  text = kb_search_response_json(r, bad);
  o = json_loads(text, 0, NULL);
  assert_non_null(o);
  assert_string_equal(json_string_value(json_object_get(o, "query")), "zorblx ");
  assert_non_null(json_object_get(o, "suggestion"));
  json_decref(o);
  free(text);
  kb_search_response_free(r);

  r = run(f, (kb_search_request){.query = "nothing-matches-this"});
  text = kb_search_response_json(r, "nothing-matches-this");
  o = json_loads(text, 0, NULL);
  assert_non_null(o);
  assert_int_equal(json_integer_value(json_object_get(o, "total")), 0);
  assert_int_equal(json_array_size(json_object_get(o, "hits")), 0);
  json_decref(o);
  free(text);
  kb_search_response_free(r);
}

/* ---------------------------------------------------------------- searcher */

static void test_searcher_parts(void **state) {
  fixture *f = *state;
  assert_non_null(kb_searcher_index(f->s));
  assert_non_null(kb_searcher_tokenizer(f->s));
  assert_int_equal(kb_index_doc_count(kb_searcher_index(f->s)), NDOCS);
  kb_searcher_free(NULL);
  kb_search_response_free(NULL);
}

static void test_searcher_missing_index(void **state) {
  fixture *f = *state;
  kb_buf p = {0};
  kb_buf_printf(&p, "%s/missing.db", f->dir);
  kb_searcher *s = NULL;
  kb_error err = {0};
  assert_int_equal(kb_searcher_new(p.data, &s, &err), KB_ENOENT);
  assert_null(s);
  assert_true(tu_contains(err.message, p.data));
  kb_buf_free(&p);
}

static void test_searcher_uses_index_lexicon(void **state) {
  fixture *f = *state;
  kb_buf p = {0};
  kb_buf_printf(&p, "%s/lex.db", f->dir);
  build_index(p.data, "固件排障\n");
  kb_searcher *s = NULL;
  assert_int_equal(kb_searcher_new(p.data, &s, NULL), KB_OK);
  kb_search_request req = {.query = "固件排障", .query_len = strlen("固件排障"), .limit = 5,
                           .include_internal = true, .explain = true};
  kb_search_response *r = NULL;
  assert_int_equal(kb_search(s, &req, &r, NULL), KB_OK);
  /* the query was segmented with the index's extra word */
  assert_true(tu_contains(r->explain, "→ 固件排障"));
  assert_true(has_hit(r, "t/internal-1"));
  kb_search_response_free(r);
  kb_searcher_free(s);
  kb_buf_free(&p);
}

static void test_odd_queries_succeed(void **state) {
  fixture *f = *state;
  static const char odd[][16] = {"\"", "-", "OR", ":", "\xC0\xAF", "product:", "\xFF\xFE"};
  for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
    kb_search_response *r = run(f, (kb_search_request){.query = odd[i]});
    kb_search_response_free(r);
  }
}

static void test_terminal_snippet_style(void **state) {
  fixture *f = *state;
  kb_search_response *r =
      run(f, (kb_search_request){.query = "打印机", .snippet = &KB_SNIPPET_TERMINAL});
  const kb_search_hit *h = hit(r, "a/printer/offline");
  assert_non_null(h);
  assert_true(tu_contains(h->snippet, "\033[1m打印机\033[0m"));
  assert_false(tu_contains(h->snippet, "<mark>"));
  kb_search_response_free(r);
}

/* Documents holding a synonym of several words: only 打印設備 (a member of
 * 打印机's group), only 打印机, and 登录's "log in" in an internal section;
 * and an address inside a longer technical token. */
static const sample MEMBERS[] = {
    {"a/member", "网络打印設備显示脱机", "hardware", "打印", "P2", "public", "2026-01-10",
     {{KB_SEG_BODY, false, "重新连接网线。"}}},
    {"a/word", "打印机卡纸", "hardware", "打印", "P3", "public", "2026-01-11",
     {{KB_SEG_BODY, false, "取出纸张。"}}},
    {"a/internal-login", "账户锁定", "hardware", "账户", "P3", "public", "2026-01-12",
     {{KB_SEG_BODY, false, "解锁账户。"}, {KB_SEG_BODY, true, "用户仍然无法 log in 时重置。"}}},
    {"a/address", "连接超时", "network", "网络", "P3", "public", "2026-01-13",
     {{KB_SEG_BODY, false, "配置 ip=192.168.1.10, 后重启。报 ora 12170。"}}},
};

static int add_posting(const kb_token *t, void *ctx) {
  return t->alt ? 0 : kb_xdoc_add_posting(ctx, t->term, t->term_len, t->pos, 1);
}

/* text's words into xd, at their positions (no bigrams, no compounds) */
static void toks_of(kb_tokenizer *tk, const char *text, kb_xdoc *xd) {
  uint32_t pos = 1;
  assert_int_equal(kb_tokenizer_run(tk, text, strlen(text), &pos, add_posting, xd, NULL), KB_OK);
}

/* Puts a document as an older analyzer wrote it: a title's words, no
 * compounds, pairs or version term. Its data is a/member's. */
static void put_as_before(const char *path, const char *id, const char *title) {
  kb_error err = {0};
  kb_index *w = NULL;
  assert_int_equal(kb_index_open(path, KB_INDEX_WRITE, &w, &err), KB_OK);
  kb_buf member = {0}, term = {0};
  kb_id_term("a/member", &member);
  char *data = NULL;
  assert_int_equal(kb_index_get_data(w, member.data, &data, &err), KB_OK);
  kb_lexicon *lex = NULL;
  kb_tokenizer *tk = NULL;
  assert_int_equal(kb_lexicon_new_builtin("lexicon", &lex, &err), KB_OK);
  assert_int_equal(kb_tokenizer_new(lex, &tk, &err), KB_OK);
  kb_xdoc *xd = NULL;
  assert_int_equal(kb_xdoc_new(&xd), KB_OK);
  toks_of(tk, title, xd);
  kb_id_term(id, &term);
  assert_int_equal(kb_xdoc_add_term(xd, term.data, term.len, 0), KB_OK);
  assert_int_equal(kb_xdoc_set_data(xd, data, strlen(data)), KB_OK);
  assert_int_equal(kb_index_replace(w, term.data, xd, &err), KB_OK);
  assert_int_equal(kb_index_commit(w, &err), KB_OK);
  kb_xdoc_free(xd);
  kb_tokenizer_free(tk);
  kb_lexicon_free(lex);
  free(data);
  kb_buf_free(&member);
  kb_buf_free(&term);
  kb_index_free(w);
}

static void test_synonym_of_several_words_matched_whole(void **state) {
  (void)state;
  fixture *f = fixture_of(MEMBERS, sizeof MEMBERS / sizeof MEMBERS[0]);
  assert_non_null(f);
  kb_search_response *r = run(f, (kb_search_request){.query = "printer"});
  assert_int_equal(r->total, 2);
  assert_true(has_hit(r, "a/member"));
  assert_true(has_hit(r, "a/word"));
  kb_search_response_free(r);
  /* an internal section's compound: an engineer's, never the public's */
  r = run(f, (kb_search_request){.query = "登录", .include_internal = true});
  assert_true(has_hit(r, "a/internal-login"));
  kb_search_response_free(r);
  r = run(f, (kb_search_request){.query = "登录"});
  assert_int_equal(r->total, 0);
  kb_search_response_free(r);

  /* a document without compounds: the members are phrases again, and
   * still find it */
  put_as_before(f->path, "a/old", "旧的打印設備");
  r = run(f, (kb_search_request){.query = "printer", .include_internal = true});
  assert_int_equal(r->total, 3);
  assert_true(has_hit(r, "a/member"));
  kb_search_response_free(r);
  fixture_free(f);
}

static void test_technical_token_inside_a_longer_one(void **state) {
  (void)state;
  fixture *f = fixture_of(MEMBERS, sizeof MEMBERS / sizeof MEMBERS[0]);
  assert_non_null(f);
  const char *queries[] = {"192.168.1.10", "\"192.168.1.10\"", "168.1"};
  for (size_t i = 0; i < 3; i++) {
    kb_search_response *r = run(f, (kb_search_request){.query = queries[i]});
    assert_int_equal(r->total, 1);
    assert_true(has_hit(r, "a/address"));
    kb_search_response_free(r);
  }
  /* parts in another order, or words that only read like the parts (the
   * phrase of the parts matched them), are no match */
  const char *others[] = {"1.168", "ORA-12170"};
  kb_search_response *r;
  for (size_t i = 0; i < 2; i++) {
    r = run(f, (kb_search_request){.query = others[i]});
    assert_int_equal(r->total, 0);
    kb_search_response_free(r);
  }
  /* a document without pairs: the phrase of the parts again */
  put_as_before(f->path, "a/old", "主机 192.168.1.10:22");
  r = run(f, (kb_search_request){.query = "192.168.1.10", .include_internal = true});
  assert_int_equal(r->total, 2);
  kb_search_response_free(r);
  fixture_free(f);
}

/* English words for spelling: blue and screen follow each other in public
 * text; vendor and portal do only in an internal section. */
static const sample SPELLING[] = {
    {"a/bsod", "Windows blue screen after an update", "os", "os", "P2", "public", "2026-01-10",
     {{KB_SEG_BODY, false,
       "The server shows a blue screen and restarts; its ext file system is checked."}}},
    {"a/printer", "Printer offline", "printing", "printing", "P3", "public", "2026-01-11",
     {{KB_SEG_BODY, false, "The printer shows offline; the vendor ships a driver for its portal."},
      {KB_SEG_BODY, true, "Log in to the vendor portal with the shared account."}}},
};

static void test_query_that_finds_nothing_is_corrected(void **state) {
  (void)state;
  fixture *f = fixture_of(SPELLING, sizeof SPELLING / sizeof SPELLING[0]);
  assert_non_null(f);
  /* a misspelt word, and words run together, are searched corrected */
  const char *cases[][3] = {{"prnter", "printer", "a/printer"},
                            {"bluescreen", "blue screen", "a/bsod"}};
  for (size_t i = 0; i < 2; i++) {
    kb_search_response *r = run(f, (kb_search_request){.query = cases[i][0]});
    assert_non_null(r->suggestion);
    assert_string_equal(r->suggestion, cases[i][1]);
    assert_true(r->corrected);
    assert_true(r->total > 0);
    assert_string_equal(r->hits[0].id, cases[i][2]);
    kb_search_response_free(r);
  }
  /* a query that finds something stays as typed; the fix is a suggestion */
  kb_search_response *r = run(f, (kb_search_request){.query = "prnter offline"});
  assert_string_equal(r->suggestion, "printer offline");
  assert_false(r->corrected);
  assert_true(has_hit(r, "a/printer"));
  kb_search_response_free(r);
  /* an English word the documents lack is no typo: exit is not ext */
  r = run(f, (kb_search_request){.query = "exit"});
  assert_null(r->suggestion);
  assert_false(r->corrected);
  assert_int_equal(r->total, 0);
  kb_search_response_free(r);
  /* words that exist but never follow each other are not a split */
  r = run(f, (kb_search_request){.query = "screenblue"});
  assert_null(r->suggestion);
  assert_false(r->corrected);
  assert_int_equal(r->total, 0);
  kb_search_response_free(r);
  /* vendor portal follows in internal text only: an engineer's fix */
  r = run(f, (kb_search_request){.query = "vendorportal"});
  assert_null(r->suggestion);
  assert_int_equal(r->total, 0);
  kb_search_response_free(r);
  r = run(f, (kb_search_request){.query = "vendorportal", .include_internal = true});
  assert_string_equal(r->suggestion, "vendor portal");
  assert_true(r->corrected);
  assert_true(has_hit(r, "a/printer"));
  kb_search_response_free(r);
  fixture_free(f);
}

/* mem and cached in 20 documents each, side by side in one: a chance
 * meeting, not the words a name runs together */
static void test_words_meeting_by_chance_are_no_split(void **state) {
  (void)state;
  enum { EACH = 20 };
  sample docs[2 * EACH + 1];
  char ids[2 * EACH + 1][16];
  for (size_t i = 0; i < 2 * EACH + 1; i++) {
    snprintf(ids[i], sizeof ids[i], "a/m%zu", i);
    const char *body = i < EACH ? "the mem quota of a session" :
                       i < 2 * EACH ? "cached pages of the table" : "mem cached in the log";
    docs[i] = (sample){ids[i], "notes", "db", "db", "P3", "public", "2026-01-01",
                       {{KB_SEG_BODY, false, body}}};
  }
  fixture *f = fixture_of(docs, 2 * EACH + 1);
  assert_non_null(f);
  kb_search_response *r = run(f, (kb_search_request){.query = "memcached"});
  assert_null(r->suggestion);
  assert_int_equal(r->total, 0);
  kb_search_response_free(r);
  /* the same words in a tenth of the documents holding them are a split */
  r = run(f, (kb_search_request){.query = "cachedpages"});
  assert_non_null(r->suggestion);
  assert_string_equal(r->suggestion, "cached pages");
  assert_true(r->corrected);
  kb_search_response_free(r);
  fixture_free(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_title_match_ranks_first),
      cmocka_unit_test(test_exact_title_ranks_first),
      cmocka_unit_test(test_exact_title_keeps_the_match_set),
      cmocka_unit_test(test_technical_token_found),
      cmocka_unit_test(test_technical_token_found_by_its_words),
      cmocka_unit_test(test_synonym_marked_in_snippet),
      cmocka_unit_test(test_homophone_typo_suggested),
      cmocka_unit_test(test_homophone_of_a_synonym),
      cmocka_unit_test(test_hit_fields),
      cmocka_unit_test(test_public_never_sees_internal_document),
      cmocka_unit_test(test_public_never_matches_internal_section),
      cmocka_unit_test(test_engineer_sees_internal),
      cmocka_unit_test(test_product_filter),
      cmocka_unit_test(test_other_filters),
      cmocka_unit_test(test_offset_and_limit),
      cmocka_unit_test(test_sort_by_date),
      cmocka_unit_test(test_facets),
      cmocka_unit_test(test_match_set_of_several_words),
      cmocka_unit_test(test_response_json),
      cmocka_unit_test(test_response_json_with_facets_and_no_hits),
      cmocka_unit_test(test_searcher_parts),
      cmocka_unit_test(test_searcher_missing_index),
      cmocka_unit_test(test_searcher_uses_index_lexicon),
      cmocka_unit_test(test_odd_queries_succeed),
      cmocka_unit_test(test_terminal_snippet_style),
      cmocka_unit_test(test_synonym_of_several_words_matched_whole),
      cmocka_unit_test(test_technical_token_inside_a_longer_one),
      cmocka_unit_test(test_query_that_finds_nothing_is_corrected),
      cmocka_unit_test(test_words_meeting_by_chance_are_no_split),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
