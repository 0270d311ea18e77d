/* test_analyze.c — a kb_doc into index terms: term spaces (public, internal,
 * title, bigrams), filter terms, value slots and stored data, checked in a
 * real index in a temporary folder. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/analyze.h"
#include "kb/query.h"
#include "testutil.h"

typedef tu_index fixture;

static void add_seg(kb_doc *d, kb_segment_kind kind, bool internal, const char *text) {
  assert_int_equal(kb_doc_add_segment(d, kind, internal, text, strlen(text)), KB_OK);
}

/* A public document with one internal section, built by hand. */
static kb_doc *sample_doc(const char *id) {
  kb_doc *d = kb_doc_new();
  kb_doc_set_str(d, KB_FIELD_ID, id);
  kb_doc_set_str(d, KB_FIELD_TYPE, "article");
  kb_doc_set_str(d, KB_FIELD_TITLE, "Printer offline 打印机脱机");
  kb_doc_set_str(d, KB_FIELD_PRODUCT, "Database");
  kb_doc_set_str(d, KB_FIELD_CATEGORY, " 网络 ");
  kb_doc_set_str(d, KB_FIELD_PRIORITY, "P1");
  kb_doc_set_str(d, KB_FIELD_VISIBILITY, "public");
  kb_doc_set_str(d, KB_FIELD_TAGS, "a, 标签");
  kb_doc_set_str(d, KB_FIELD_UPDATED, "2026-01-02");
  kb_doc_set_str(d, KB_FIELD_LANGUAGE, "zh");
  kb_doc_set_str(d, KB_FIELD_HASH, "0123456789abcdef");
  kb_doc_set_str(d, KB_FIELD_SOURCE, "articles/x.md");
  add_seg(d, KB_SEG_TITLE, false, kb_doc_get(d, KB_FIELD_TITLE));
  add_seg(d, KB_SEG_BODY, false, "Restart the spooler service. 数据库连接 ends here");
  add_seg(d, KB_SEG_HEADING, true, "Escalation");
  add_seg(d, KB_SEG_BODY, true, "call the zebrafish team about 内部名单");
  add_seg(d, KB_SEG_BODY, false, "starts there again");
  add_seg(d, KB_SEG_TAGS, false, "a, 标签");
  return d;
}

/* Analyzes d and stores it under its id; commits. */
static void store(fixture *f, const kb_doc *d) {
  kb_xdoc *xd = NULL;
  kb_error err = {0};
  int rc = kb_analyze_doc(f->tk, d, &xd, &err);
  if (rc != KB_OK) fail_msg("analyze: %s", err.message);
  assert_non_null(xd);
  kb_buf id = {0};
  assert_int_equal(kb_id_term(kb_doc_get(d, KB_FIELD_ID), &id), KB_OK);
  assert_int_equal(kb_index_replace(f->idx, id.data, xd, &err), KB_OK);
  assert_int_equal(kb_index_commit(f->idx, &err), KB_OK);
  kb_buf_free(&id);
  kb_xdoc_free(xd);
}

static uint32_t freq(fixture *f, const char *term) { return kb_index_term_freq(f->idx, term); }

static void test_public_words_unprefixed(void **state) {
  fixture *f = *state;
  kb_doc *d = sample_doc("t/public");
  store(f, d);
  assert_int_equal(freq(f, "spooler"), 1);
  assert_int_equal(freq(f, "restart"), 1);
  assert_int_equal(freq(f, "servic"), 1); /* stemmed */
  assert_int_equal(freq(f, "service"), 0);
  assert_int_equal(freq(f, "数据库"), 1);
  assert_int_equal(freq(f, "Ispooler"), 0);
  kb_doc_free(d);
}

static void test_internal_words_only_with_prefix(void **state) {
  fixture *f = *state;
  kb_doc *d = sample_doc("t/internal-words");
  store(f, d);
  assert_int_equal(freq(f, "Izebrafish"), 1);
  assert_int_equal(freq(f, "zebrafish"), 0);
  assert_int_equal(freq(f, "Iescal"), 1); /* the internal heading, stemmed */
  assert_int_equal(freq(f, "escal"), 0);
  assert_int_equal(freq(f, "J内部"), 1); /* internal bigrams */
  assert_int_equal(freq(f, "B内部"), 0);
  kb_doc_free(d);
}

static void test_title_terms(void **state) {
  fixture *f = *state;
  kb_doc *d = sample_doc("t/title");
  store(f, d);
  assert_int_equal(freq(f, "Sprinter"), 1);
  assert_int_equal(freq(f, "Sofflin"), 1); /* stemmed like the words */
  assert_int_equal(freq(f, "S打印机"), 1);
  assert_int_equal(freq(f, "printer"), 1); /* also a public word */
  assert_int_equal(freq(f, "Sspooler"), 0); /* body words are not title words */
  assert_int_equal(freq(f, "SB打印"), 0);   /* bigrams are not title terms */
  kb_doc_free(d);
}

/* The exact-title term a query's free words ask for (a copy, caller frees;
 * NULL when it asks for none). */
static char *query_title_term(fixture *f, const char *text) {
  kb_query_opts o = {0};
  kb_query *q = NULL;
  kb_error err = {0};
  assert_int_equal(kb_query_parse(f->tk, text, strlen(text), &o, &q, &err), KB_OK);
  const char *t = kb_query_title_term(q);
  char *copy = t ? strdup(t) : NULL;
  kb_query_free(q);
  return copy;
}

/* One term for the whole title, the one a query typing it asks for, in any
 * way of typing it (case, width, punctuation, traditional characters);
 * none for a part of it. */
static void test_exact_title_term(void **state) {
  fixture *f = *state;
  kb_doc *d = sample_doc("t/exact");
  store(f, d);
  char *same = query_title_term(f, "Printer offline 打印机脱机");
  char *typed = query_title_term(f, "ＰＲＩＮＴＥＲ  offline：打印機脫機？");
  char *part = query_title_term(f, "printer offline");
  assert_non_null(same);
  assert_true(strlen(same) > 1 && same[0] == KB_PREFIX_EXACT_TITLE[0]);
  assert_string_equal(same, typed);
  assert_string_not_equal(same, part);
  assert_int_equal(freq(f, same), 1);
  assert_int_equal(freq(f, part), 0);
  assert_null(query_title_term(f, "？！"));
  free(same);
  free(typed);
  free(part);
  kb_doc_free(d);
}

static void test_bigram_terms(void **state) {
  fixture *f = *state;
  kb_doc *d = sample_doc("t/bigrams");
  store(f, d);
  assert_int_equal(freq(f, "B数据"), 1);
  assert_int_equal(freq(f, "B据库"), 1);
  assert_int_equal(freq(f, "B库连"), 1);
  assert_int_equal(freq(f, "B打印"), 1);
  assert_int_equal(freq(f, "J数据"), 0);
  kb_doc_free(d);
}

static void test_filter_terms(void **state) {
  fixture *f = *state;
  kb_doc *d = sample_doc("t/filters");
  store(f, d);
  assert_int_equal(freq(f, "XPdatabase"), 1);
  assert_int_equal(freq(f, "XPDatabase"), 0);
  assert_int_equal(freq(f, "XTarticle"), 1);
  assert_int_equal(freq(f, "XVpublic"), 1);
  assert_int_equal(freq(f, "XVinternal"), 0);
  assert_int_equal(freq(f, "XC网络"), 1); /* trimmed */
  assert_int_equal(freq(f, "XRp1"), 1);
  assert_int_equal(freq(f, "XGa"), 1);
  assert_int_equal(freq(f, "XG标签"), 1);
  assert_int_equal(freq(f, "XG 标签"), 0);
  assert_int_equal(freq(f, "XLzh"), 1);
  assert_int_equal(freq(f, "Qt/filters"), 1);
  kb_doc_free(d);
}

static void test_internal_document_visibility_term(void **state) {
  fixture *f = *state;
  kb_doc *d = sample_doc("t/internal-doc");
  kb_doc_set_str(d, KB_FIELD_VISIBILITY, "internal");
  kb_doc_set_str(d, KB_FIELD_TAGS, "x；y、z");
  store(f, d);
  assert_int_equal(freq(f, "XVinternal"), 1);
  assert_int_equal(freq(f, "XGx"), 1);
  assert_int_equal(freq(f, "XGy"), 1);
  assert_int_equal(freq(f, "XGz"), 1);
  kb_doc_free(d);
}

static void test_value_slots(void **state) {
  fixture *f = *state;
  kb_doc *d = sample_doc("t/values");
  store(f, d);
  static const struct {
    unsigned slot;
    const char *want;
  } cases[] = {
      {KB_SLOT_UPDATED, "2026-01-02"},   {KB_SLOT_TYPE, "article"},
      {KB_SLOT_PRODUCT, "database"},     {KB_SLOT_CATEGORY, "网络"},
      {KB_SLOT_PRIORITY, "p1"},          {KB_SLOT_VISIBILITY, "public"},
      {KB_SLOT_HASH, "0123456789abcdef"}, {KB_SLOT_SOURCE, "articles/x.md"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *v = NULL;
    assert_int_equal(kb_index_get_value(f->idx, "Qt/values", cases[i].slot, &v, NULL), KB_OK);
    assert_non_null(v);
    assert_string_equal(v, cases[i].want);
    free(v);
  }
  kb_doc_free(d);
}

/* Value slot of a stored document (caller frees), asserting it exists. */
static char *value_of(fixture *f, const char *id_term, unsigned slot) {
  char *v = NULL;
  assert_int_equal(kb_index_get_value(f->idx, id_term, slot, &v, NULL), KB_OK);
  assert_non_null(v);
  return v;
}

static void test_stored_data_is_fields_json(void **state) {
  fixture *f = *state;
  kb_doc *d = sample_doc("t/data");
  kb_doc_set_str(d, KB_FIELD_BODY, "# Markdown source\n\nRestart the spooler service.");
  store(f, d);
  char *data = NULL;
  assert_int_equal(kb_index_get_data(f->idx, "Qt/data", &data, NULL), KB_OK);
  assert_non_null(data);
  json_error_t jerr;
  json_t *o = json_loads(data, 0, &jerr);
  if (!o) fail_msg("stored data is not JSON: %s", jerr.text);
  assert_string_equal(json_string_value(json_object_get(o, "id")), "t/data");
  assert_string_equal(json_string_value(json_object_get(o, "type")), "article");
  assert_string_equal(json_string_value(json_object_get(o, "title")), "Printer offline 打印机脱机");
  assert_string_equal(json_string_value(json_object_get(o, "product")), "Database");
  assert_string_equal(json_string_value(json_object_get(o, "updated")), "2026-01-02");
  /* the long fields live in value slots, not in the JSON */
  assert_null(json_object_get(o, "body"));
  json_decref(o);
  free(data);
  char *body = value_of(f, "Qt/data", KB_SLOT_BODY);
  assert_string_equal(body, "# Markdown source\n\nRestart the spooler service.");
  free(body);
  kb_doc_free(d);
}

static void test_snippet_text_slots(void **state) {
  fixture *f = *state;
  kb_doc *d = sample_doc("t/text");
  store(f, d);
  char *text = value_of(f, "Qt/text", KB_SLOT_TEXT);
  char *itext = value_of(f, "Qt/text", KB_SLOT_ITEXT);
  assert_true(tu_contains(text, "spooler"));
  assert_true(tu_contains(text, "starts there again"));
  assert_false(tu_contains(text, "zebrafish")); /* internal text is kept apart */
  assert_false(tu_contains(text, "Escalation"));
  assert_true(tu_contains(itext, "zebrafish"));
  assert_true(tu_contains(itext, "Escalation"));
  assert_false(tu_contains(itext, "spooler"));
  free(text);
  free(itext);
  kb_doc_free(d);
}

/* Runs q against the index and returns the number of matches. */
static uint32_t count(fixture *f, const kb_qnode *q) {
  kb_search_opts o = {.limit = 10};
  kb_results *r = NULL;
  kb_error err = {0};
  if (kb_index_search(f->idx, q, &o, &r, &err) != KB_OK) fail_msg("search: %s", err.message);
  uint32_t n = (uint32_t)r->nhits;
  kb_results_free(r);
  return n;
}

static kb_qnode *phrase(const char *a, const char *b) {
  kb_qnode *p = kb_qnode_new(KB_Q_PHRASE, NULL, 0);
  kb_qnode_add(p, kb_qnode_new(KB_Q_TERM, a, strlen(a)));
  kb_qnode_add(p, kb_qnode_new(KB_Q_TERM, b, strlen(b)));
  return p;
}

static void test_phrases_stay_inside_segments(void **state) {
  fixture *f = *state;
  kb_doc *d = sample_doc("t/phrases");
  store(f, d);
  kb_qnode *inside = phrase("spooler", "servic");
  assert_int_equal(count(f, inside), 1);
  /* "...ends here" and "starts there..." are in different segments (with an
   * internal one between); even without it positions leave a gap */
  kb_qnode *across = phrase("here", "start");
  assert_int_equal(count(f, across), 0);
  kb_qnode_free(inside);
  kb_qnode_free(across);
  kb_doc_free(d);
}

static void test_adjacent_segments_do_not_form_phrases(void **state) {
  fixture *f = *state;
  kb_doc *d = kb_doc_new();
  kb_doc_set_str(d, KB_FIELD_ID, "t/gap");
  kb_doc_set_str(d, KB_FIELD_TYPE, "ticket");
  add_seg(d, KB_SEG_PROBLEM, false, "alpha bravo");
  add_seg(d, KB_SEG_RESOLUTION, false, "charlie delta");
  store(f, d);
  kb_qnode *in = phrase("alpha", "bravo"), *across = phrase("bravo", "charli");
  assert_int_equal(count(f, in), 1);
  assert_int_equal(count(f, across), 0);
  assert_int_equal(freq(f, "XTticket"), 1);
  kb_qnode_free(in);
  kb_qnode_free(across);
  kb_doc_free(d);
}

static void test_doc_without_id_or_type_fails(void **state) {
  fixture *f = *state;
  kb_doc *d = kb_doc_new();
  add_seg(d, KB_SEG_BODY, false, "text");
  kb_xdoc *xd = (kb_xdoc *)1;
  kb_error err = {0};
  assert_int_equal(kb_analyze_doc(f->tk, d, &xd, &err), KB_EINVAL);
  assert_null(xd);
  assert_int_equal(err.code, KB_EINVAL);
  assert_true(strlen(err.message) > 0);
  kb_doc_set_str(d, KB_FIELD_ID, "t/no-type");
  xd = (kb_xdoc *)1;
  assert_int_equal(kb_analyze_doc(f->tk, d, &xd, &err), KB_EINVAL);
  assert_null(xd);
  kb_doc_set_str(d, KB_FIELD_TYPE, "article");
  assert_int_equal(kb_analyze_doc(f->tk, d, &xd, &err), KB_OK);
  assert_non_null(xd);
  kb_xdoc_free(xd);
  kb_doc_free(d);
}

static void test_filter_term_folds(void **state) {
  (void)state;
  static const char *cases[][3] = {
      {KB_PREFIX_PRODUCT, "Database", "XPdatabase"},
      {KB_PREFIX_PRODUCT, "  Database\t", "XPdatabase"},
      {KB_PREFIX_TAG, "标签", "XG标签"},
      {KB_PREFIX_PRODUCT, "ＤＢ２", "XPdb2"},
      {KB_PREFIX_PRIORITY, "P1", "XRp1"},
      {KB_PREFIX_VISIBILITY, "public", "XVpublic"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    kb_buf b = {0};
    assert_int_equal(kb_filter_term(cases[i][0], cases[i][1], &b), KB_OK);
    assert_string_equal(b.data, cases[i][2]);
    kb_buf_free(&b);
  }
}

static void test_id_term(void **state) {
  (void)state;
  kb_buf b = {0};
  assert_int_equal(kb_id_term("a/db/ora-12170", &b), KB_OK);
  assert_string_equal(b.data, "Qa/db/ora-12170");
  kb_buf_free(&b);
}

/* ------------------------------------------------------------ audiences */

/* A reader of one audience's database of the fixture's index. */
static kb_index *reader_for(fixture *f, kb_audience a) {
  kb_buf p = {0};
  kb_buf_printf(&p, "%s/db", f->dir);
  kb_index *r = NULL;
  kb_error err = {0};
  if (kb_index_open_for(p.data, a, &r, &err) != KB_OK) fail_msg("open: %s", err.message);
  kb_buf_free(&p);
  return r;
}

static char *value_in(kb_index *r, const char *id_term, unsigned slot) {
  char *v = NULL;
  assert_int_equal(kb_index_get_value(r, id_term, slot, &v, NULL), KB_OK);
  assert_non_null(v);
  return v;
}

/* The public's version of a public document has its public sections only:
 * no internal terms, text or Markdown; the engineers' has everything. */
static void test_public_version_without_internal_sections(void **state) {
  fixture *f = *state;
  kb_doc *d = sample_doc("t/versions");
  kb_doc_set_str(d, KB_FIELD_BODY,
                 "Restart the spooler.\n\n## Escalation {internal}\n\ncall the zebrafish team\n\n"
                 "## Again\n\nstarts there again\n");
  store(f, d);
  kb_index *pub = reader_for(f, KB_AUDIENCE_PUBLIC), *all = reader_for(f, KB_AUDIENCE_INTERNAL);
  assert_int_equal(kb_index_doc_count(pub), 1);
  assert_int_equal(kb_index_term_freq(pub, "spooler"), 1);
  assert_int_equal(kb_index_term_freq(pub, "Izebrafish"), 0);
  assert_int_equal(kb_index_term_freq(pub, "Iescal"), 0);
  assert_int_equal(kb_index_term_freq(all, "Izebrafish"), 1);
  char *itext = value_in(pub, "Qt/versions", KB_SLOT_ITEXT);
  assert_string_equal(itext, "");
  free(itext);
  itext = value_in(all, "Qt/versions", KB_SLOT_ITEXT);
  assert_true(tu_contains(itext, "zebrafish"));
  free(itext);
  char *body = value_in(pub, "Qt/versions", KB_SLOT_BODY);
  assert_string_equal(body, "Restart the spooler.\n\n## Again\n\nstarts there again\n");
  free(body);
  body = value_in(all, "Qt/versions", KB_SLOT_BODY);
  assert_true(tu_contains(body, "zebrafish"));
  free(body);
  kb_index_free(pub);
  kb_index_free(all);
  kb_doc_free(d);
}

/* Positions in the public's version run as if the internal sections were
 * not there: how near two public words are does not depend on them. */
static void test_public_positions_skip_internal_sections(void **state) {
  fixture *f = *state;
  kb_doc *d = sample_doc("t/positions");
  store(f, d);
  kb_index *pub = reader_for(f, KB_AUDIENCE_PUBLIC), *all = reader_for(f, KB_AUDIENCE_INTERNAL);
  kb_qnode *near = kb_qnode_new(KB_Q_NEAR, NULL, 0);
  assert_int_equal(kb_qnode_add(near, kb_qnode_new(KB_Q_TERM, "here", 4)), KB_OK);
  assert_int_equal(kb_qnode_add(near, kb_qnode_new(KB_Q_TERM, "start", 5)), KB_OK);
  near->window = 12;
  kb_search_opts so = {.limit = 10};
  kb_results *r = NULL;
  assert_int_equal(kb_index_search(pub, near, &so, &r, NULL), KB_OK);
  assert_int_equal(r->nhits, 1);
  kb_results_free(r);
  assert_int_equal(kb_index_search(all, near, &so, &r, NULL), KB_OK);
  assert_int_equal(r->nhits, 0); /* the internal sections lie between */
  kb_results_free(r);
  kb_qnode_free(near);
  kb_index_free(pub);
  kb_index_free(all);
  kb_doc_free(d);
}

/* The hash of the public's version is that of what the public reads: an
 * internal section rewritten leaves it as it was, a public one does not. */
static void test_public_version_hash(void **state) {
  fixture *f = *state;
  kb_doc *a = sample_doc("t/h"), *b = sample_doc("t/h"), *c = sample_doc("t/h");
  kb_doc_set_str(b, KB_FIELD_HASH, "fedcba9876543210"); /* the whole changed: */
  add_seg(b, KB_SEG_BODY, true, "a much longer internal note");
  kb_doc_set_str(c, KB_FIELD_HASH, "fedcba9876543210");
  add_seg(c, KB_SEG_BODY, false, "a new public line");
  kb_xdoc *xa = NULL, *xb = NULL, *xc = NULL;
  assert_int_equal(kb_analyze_doc(f->tk, a, &xa, NULL), KB_OK);
  assert_int_equal(kb_analyze_doc(f->tk, b, &xb, NULL), KB_OK);
  assert_int_equal(kb_analyze_doc(f->tk, c, &xc, NULL), KB_OK);
  kb_buf ha = {0}, hb = {0}, hc = {0}, whole = {0};
  kb_xdoc_get_value(xa, KB_AUDIENCE_PUBLIC, KB_SLOT_HASH, &ha);
  kb_xdoc_get_value(xb, KB_AUDIENCE_PUBLIC, KB_SLOT_HASH, &hb);
  kb_xdoc_get_value(xc, KB_AUDIENCE_PUBLIC, KB_SLOT_HASH, &hc);
  kb_xdoc_get_value(xb, KB_AUDIENCE_INTERNAL, KB_SLOT_HASH, &whole);
  assert_int_equal(ha.len, 16);
  assert_memory_equal(ha.data, hb.data, 16);
  assert_true(memcmp(ha.data, hc.data, 16) != 0);
  assert_string_equal(whole.data, "fedcba9876543210");
  kb_buf_free(&ha), kb_buf_free(&hb), kb_buf_free(&hc), kb_buf_free(&whole);
  kb_xdoc_free(xa), kb_xdoc_free(xb), kb_xdoc_free(xc);
  kb_doc_free(a), kb_doc_free(b), kb_doc_free(c);
}

/* An internal document has the engineers' version only. */
static void test_internal_document_one_version(void **state) {
  fixture *f = *state;
  kb_doc *d = sample_doc("t/secret");
  kb_doc_set_str(d, KB_FIELD_VISIBILITY, "internal");
  kb_xdoc *xd = NULL;
  assert_int_equal(kb_analyze_doc(f->tk, d, &xd, NULL), KB_OK);
  assert_int_equal(kb_xdoc_audiences(xd), 1u << KB_AUDIENCE_INTERNAL);
  kb_xdoc_free(xd);
  store(f, d);
  kb_index *pub = reader_for(f, KB_AUDIENCE_PUBLIC);
  assert_int_equal(kb_index_doc_count(pub), 0);
  assert_int_equal(kb_index_term_freq(pub, "spooler"), 0);
  assert_int_equal(kb_index_doc_count(f->idx), 1);
  kb_index_free(pub);
  kb_doc_free(d);
}

#define T(name) cmocka_unit_test_setup_teardown(name, tu_index_setup, tu_index_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_public_words_unprefixed),
      T(test_internal_words_only_with_prefix),
      T(test_title_terms),
      T(test_exact_title_term),
      T(test_bigram_terms),
      T(test_filter_terms),
      T(test_internal_document_visibility_term),
      T(test_value_slots),
      T(test_stored_data_is_fields_json),
      T(test_snippet_text_slots),
      T(test_phrases_stay_inside_segments),
      T(test_adjacent_segments_do_not_form_phrases),
      T(test_doc_without_id_or_type_fails),
      T(test_public_version_without_internal_sections),
      T(test_public_positions_skip_internal_sections),
      T(test_public_version_hash),
      T(test_internal_document_one_version),
      cmocka_unit_test(test_filter_term_folds),
      cmocka_unit_test(test_id_term),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
