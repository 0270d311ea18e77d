/* test_query.c — the query syntax into engine trees: words, phrases,
 * exclusions, filters, visibility, internal term spaces, stop words,
 * technical tokens; and that no input ever fails. Every tree is also run
 * against a real (empty) index to prove Xapian accepts it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/analyze.h"
#include "kb/query.h"
#include "testutil.h"

typedef tu_index fixture;

static kb_query *parse_len(fixture *f, const char *text, size_t len, bool internal) {
  kb_query_opts o = {.include_internal = internal, .stopwords = f->stop};
  kb_query *q = NULL;
  kb_error err = {0};
  int rc = kb_query_parse(f->tk, text, len, &o, &q, &err);
  if (rc != KB_OK) fail_msg("parse '%s': rc %d: %s", text, rc, err.message);
  assert_non_null(q);
  return q;
}

static kb_query *parse(fixture *f, const char *text) {
  return parse_len(f, text, strlen(text), false);
}

/* ------------------------------------------------------------ tree walk */

/* The first node (depth first) with op and, if term is not NULL, this term. */
static const kb_qnode *find(const kb_qnode *n, kb_qop op, const char *term) {
  if (!n) return NULL;
  if (n->op == op && (!term || (n->term && strcmp(n->term, term) == 0))) return n;
  for (size_t i = 0; i < n->nkids; i++) {
    const kb_qnode *m = find(n->kids[i], op, term);
    if (m) return m;
  }
  return NULL;
}

/* True when any TERM or FILTER in the tree contains needle. */
static bool mentions(const kb_qnode *n, const char *needle) {
  if (n->term && strstr(n->term, needle)) return true;
  for (size_t i = 0; i < n->nkids; i++)
    if (mentions(n->kids[i], needle)) return true;
  return false;
}

/* The direct kid of n with op and term, or NULL. */
static const kb_qnode *kid(const kb_qnode *n, kb_qop op, const char *term) {
  for (size_t i = 0; i < n->nkids; i++)
    if (n->kids[i]->op == op && (!term || (n->kids[i]->term && !strcmp(n->kids[i]->term, term))))
      return n->kids[i];
  return NULL;
}

/* The first node with op that has a direct kid (kop, kterm). */
static const kb_qnode *parent_of(const kb_qnode *n, kb_qop op, kb_qop kop, const char *kterm) {
  if (n->op == op && kid(n, kop, kterm)) return n;
  for (size_t i = 0; i < n->nkids; i++) {
    const kb_qnode *m = parent_of(n->kids[i], op, kop, kterm);
    if (m) return m;
  }
  return NULL;
}

/* Runs the tree on the index: Xapian must accept it. */
static void assert_runs(fixture *f, const kb_qnode *tree) {
  kb_search_opts o = {.limit = 10};
  kb_results *r = NULL;
  kb_error err = {0};
  if (kb_index_search(f->idx, tree, &o, &r, &err) != KB_OK) fail_msg("search: %s", err.message);
  kb_results_free(r);
}

/* ---------------------------------------------------------------- words */

static void test_chinese_word_unit(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "打印机");
  const kb_qnode *t = kb_query_tree(q);
  assert_non_null(t);
  assert_non_null(parent_of(t, KB_Q_OR, KB_Q_TERM, "打印机"));
  /* its bigrams back it up at a lower weight */
  const kb_qnode *bi = parent_of(t, KB_Q_OR, KB_Q_TERM, "B打印");
  assert_non_null(bi);
  assert_true(bi->scale < 1.0 && bi->scale > 0.0);
  assert_non_null(kid(bi, KB_Q_TERM, "B印机"));
  assert_int_equal(kb_query_size(q), 1);
  assert_runs(f, t);
  kb_query_free(q);
}

static void test_several_words_are_alternatives(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "nginx 502 打印机");
  const kb_qnode *t = kb_query_tree(q);
  const kb_qnode *words = parent_of(t, KB_Q_OR, KB_Q_TERM, "nginx");
  assert_non_null(words);
  assert_non_null(kid(words, KB_Q_TERM, "502"));
  assert_non_null(kid(words, KB_Q_TERM, "打印机"));
  assert_null(find(t, KB_Q_AND_NOT, NULL));
  assert_null(find(t, KB_Q_PHRASE, NULL));
  assert_int_equal(kb_query_size(q), 3);
  /* a long query is matched on its weightiest terms (an elite set) */
  assert_true(words->window > 3);
  kb_query_free(q);
}

static void test_words_are_stemmed_and_folded(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "Ｒｕｎｎｉｎｇ CONNECTIONS");
  const kb_qnode *t = kb_query_tree(q);
  assert_non_null(find(t, KB_Q_TERM, "run"));
  assert_non_null(find(t, KB_Q_TERM, "connect"));
  assert_false(mentions(t, "Running"));
  kb_query_free(q);
}

/* -------------------------------------------------------------- phrases */

static void test_quoted_phrase(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "\"打印机 驱动\"");
  const kb_qnode *t = kb_query_tree(q);
  const kb_qnode *ph = find(t, KB_Q_PHRASE, NULL);
  assert_non_null(ph);
  assert_int_equal(ph->nkids, 2);
  assert_string_equal(ph->kids[0]->term, "打印机");
  assert_string_equal(ph->kids[1]->term, "驱动");
  /* required: under an AND */
  assert_non_null(parent_of(t, KB_Q_AND, KB_Q_PHRASE, NULL));
  assert_runs(f, t);
  kb_query_free(q);
}

static void test_phrase_with_words_is_and_maybe(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "nginx \"connection refused\"");
  const kb_qnode *t = kb_query_tree(q);
  const kb_qnode *am = find(t, KB_Q_AND_MAYBE, NULL);
  assert_non_null(am);
  assert_int_equal(am->nkids, 2);
  /* the phrase is the required part, the words only score */
  assert_non_null(find(am->kids[0], KB_Q_PHRASE, NULL));
  assert_null(find(am->kids[0], KB_Q_TERM, "nginx"));
  assert_non_null(find(am->kids[1], KB_Q_TERM, "nginx"));
  const kb_qnode *ph = find(t, KB_Q_PHRASE, NULL);
  assert_string_equal(ph->kids[0]->term, "connect");
  assert_string_equal(ph->kids[1]->term, "refus");
  assert_runs(f, t);
  kb_query_free(q);
}

static void test_chinese_quotes_make_phrases(void **state) {
  fixture *f = *state;
  static const char *texts[] = {"“打印机 驱动”", "「打印机 驱动」"};
  for (size_t i = 0; i < 2; i++) {
    kb_query *q = parse(f, texts[i]);
    const kb_qnode *ph = find(kb_query_tree(q), KB_Q_PHRASE, NULL);
    assert_non_null(ph);
    assert_int_equal(ph->nkids, 2);
    kb_query_free(q);
  }
}

static void test_phrases_joined_by_or(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "\"disk full\" OR \"no space\"");
  const kb_qnode *t = kb_query_tree(q);
  const kb_qnode *either = parent_of(t, KB_Q_OR, KB_Q_PHRASE, NULL);
  assert_non_null(either);
  assert_int_equal(either->nkids, 2);
  assert_int_equal(either->kids[1]->op, KB_Q_PHRASE);
  assert_false(mentions(t, "or"));
  assert_runs(f, t);
  kb_query_free(q);
}

static void test_stop_words_kept_inside_phrases(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "\"打印机 的 驱动\"");
  const kb_qnode *ph = find(kb_query_tree(q), KB_Q_PHRASE, NULL);
  assert_non_null(ph);
  assert_int_equal(ph->nkids, 3);
  assert_string_equal(ph->kids[1]->term, "的");
  kb_query_free(q);
}

/* ------------------------------------------------------------ exclusion */

static void test_exclusion(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "-nginx");
  const kb_qnode *t = kb_query_tree(q);
  const kb_qnode *an = find(t, KB_Q_AND_NOT, NULL);
  assert_non_null(an);
  assert_int_equal(an->nkids, 2);
  assert_int_equal(an->kids[0]->op, KB_Q_MATCH_ALL); /* everything but nginx */
  assert_non_null(find(an->kids[1], KB_Q_TERM, "nginx"));
  assert_runs(f, t);
  kb_query_free(q);

  /* a word after the dash, signs and all, is excluded */
  static const char *words[] = {"java -c++", "java -c#", "-e-mail", "-x.y", "-nginx，", "-a中文"};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    q = parse(f, words[i]);
    if (!find(kb_query_tree(q), KB_Q_AND_NOT, NULL)) fail_msg("'%s' excludes nothing", words[i]);
    kb_query_free(q);
  }

  /* a filter and an unbalanced phrase are excluded too */
  q = parse(f, "nginx -product:database");
  an = find(kb_query_tree(q), KB_Q_AND_NOT, NULL);
  assert_non_null(an);
  assert_non_null(find(an->kids[0], KB_Q_TERM, "nginx"));
  assert_non_null(find(an->kids[1], KB_Q_FILTER, "XPdatabase"));
  assert_runs(f, kb_query_tree(q));
  kb_query_free(q);
  q = parse(f, "-product:database");
  an = find(kb_query_tree(q), KB_Q_AND_NOT, NULL);
  assert_non_null(an);
  assert_int_equal(an->kids[0]->op, KB_Q_MATCH_ALL);
  kb_query_free(q);
  q = parse(f, "apache -\"nginx");
  an = find(kb_query_tree(q), KB_Q_AND_NOT, NULL);
  assert_non_null(an);
  assert_non_null(find(an->kids[1], KB_Q_TERM, "nginx"));
  assert_null(find(an->kids[0], KB_Q_TERM, "nginx"));
  kb_query_free(q);

  q = parse(f, "apache -nginx -\"bad gateway\"");
  t = kb_query_tree(q);
  an = find(t, KB_Q_AND_NOT, NULL);
  assert_non_null(an);
  assert_non_null(find(an->kids[0], KB_Q_TERM, "apach"));
  assert_null(find(an->kids[0], KB_Q_TERM, "nginx"));
  assert_non_null(find(an->kids[1], KB_Q_TERM, "nginx"));
  assert_non_null(find(an->kids[1], KB_Q_PHRASE, NULL));
  assert_runs(f, t);
  kb_query_free(q);
}

static void test_flags_are_not_exclusions(void **state) {
  fixture *f = *state;
  static const char *texts[] = {"-h",        "-9",           "ls -h",       "kill -9",
                                "rm --force", "`df -h` 的 Use%", "tar -x, then", "df -h　用法",
                                "df -h，用法"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    kb_query *q = parse(f, texts[i]);
    const kb_qnode *t = kb_query_tree(q);
    if (find(t, KB_Q_AND_NOT, NULL)) fail_msg("'%s' was taken as an exclusion", texts[i]);
    kb_query_free(q);
  }
  kb_query *q = parse(f, "-h");
  assert_non_null(find(kb_query_tree(q), KB_Q_TERM, "-h"));
  kb_query_free(q);
  q = parse(f, "kill -9");
  assert_non_null(find(kb_query_tree(q), KB_Q_TERM, "-9"));
  kb_query_free(q);
}

/* --------------------------------------------------------------- filters */

static void test_field_filter(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "product:database");
  const kb_qnode *t = kb_query_tree(q);
  assert_int_equal(t->op, KB_Q_FILTERED);
  assert_int_equal(t->nkids, 2);
  assert_non_null(find(t->kids[1], KB_Q_FILTER, "XPdatabase"));
  assert_false(mentions(t->kids[0], "database")); /* not a word */
  assert_int_equal(kb_query_size(q), 1);
  assert_runs(f, t);
  kb_query_free(q);
}

static void test_field_filter_forms(void **state) {
  fixture *f = *state;
  static const char *cases[][2] = {
      {"product:Database", "XPdatabase"}, {"产品：数据库", "XP数据库"},
      {"类型:article", "XTarticle"},      {"tag:标签", "XG标签"},
      {"priority:P1", "XRp1"},            {"category:网络", "XC网络"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    kb_query *q = parse(f, cases[i][0]);
    if (!find(kb_query_tree(q), KB_Q_FILTER, cases[i][1]))
      fail_msg("'%s' has no filter %s", cases[i][0], cases[i][1]);
    kb_query_free(q);
  }
}

static void test_same_field_values_are_alternatives(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "timeout product:db product:net type:ticket");
  const kb_qnode *t = kb_query_tree(q);
  const kb_qnode *any = parent_of(t, KB_Q_OR, KB_Q_FILTER, "XPdb");
  assert_non_null(any);
  assert_non_null(kid(any, KB_Q_FILTER, "XPnet"));
  assert_null(kid(any, KB_Q_FILTER, "XTticket")); /* a different field: AND */
  assert_non_null(find(t, KB_Q_FILTER, "XTticket"));
  assert_runs(f, t);
  kb_query_free(q);
}

static void test_add_filter_rebuilds_tree(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "timeout");
  assert_null(find(kb_query_tree(q), KB_Q_FILTER, "XCnetwork"));
  assert_int_equal(kb_query_add_filter(q, KB_PREFIX_CATEGORY, "Network"), KB_OK);
  const kb_qnode *t = kb_query_tree(q);
  assert_non_null(find(t, KB_Q_FILTER, "XCnetwork"));
  assert_non_null(find(t, KB_Q_TERM, "timeout"));
  kb_query_free(q);
}

static void test_title_field(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "title:打印机");
  const kb_qnode *t = kb_query_tree(q);
  assert_non_null(find(t, KB_Q_TERM, "S打印机"));
  assert_null(find(t, KB_Q_TERM, "打印机"));
  kb_query_free(q);
}

/* ------------------------------------------------- visibility, internal */

static void test_public_query_filters_visibility(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "打印机");
  const kb_qnode *t = kb_query_tree(q);
  assert_int_equal(t->op, KB_Q_FILTERED);
  assert_non_null(find(t->kids[1], KB_Q_FILTER, "XVpublic"));
  assert_false(mentions(t, "I打印机"));
  assert_false(mentions(t, "J打印"));
  kb_query_free(q);
}

static void test_internal_query_adds_internal_terms(void **state) {
  fixture *f = *state;
  kb_query *q = parse_len(f, "x", 1, true);
  const kb_qnode *t = kb_query_tree(q);
  assert_null(find(t, KB_Q_FILTER, "XVpublic"));
  const kb_qnode *syn = find(t, KB_Q_SYNONYM, NULL);
  assert_non_null(syn);
  assert_int_equal(syn->nkids, 2);
  assert_non_null(kid(syn, KB_Q_TERM, "x"));
  assert_non_null(kid(syn, KB_Q_TERM, "Ix"));
  assert_runs(f, t);
  kb_query_free(q);

  q = parse_len(f, "打印机", strlen("打印机"), true);
  t = kb_query_tree(q);
  assert_non_null(parent_of(t, KB_Q_SYNONYM, KB_Q_TERM, "I打印机"));
  assert_non_null(parent_of(t, KB_Q_SYNONYM, KB_Q_TERM, "J打印"));
  kb_query_free(q);
}

static void test_internal_phrase_in_both_spaces(void **state) {
  fixture *f = *state;
  const char *text = "\"spooler service\"";
  kb_query *q = parse_len(f, text, strlen(text), true);
  const kb_qnode *t = kb_query_tree(q);
  const kb_qnode *pub = parent_of(t, KB_Q_PHRASE, KB_Q_TERM, "spooler");
  const kb_qnode *in = parent_of(t, KB_Q_PHRASE, KB_Q_TERM, "Ispooler");
  assert_non_null(pub);
  assert_non_null(in);
  assert_non_null(kid(in, KB_Q_TERM, "Iservic"));
  assert_runs(f, t);
  kb_query_free(q);
}

/* ------------------------------------------------------------ stop words */

/* Parses text: no term is a word of dropped, and a term is each word of
 * kept (words space-separated). */
static void expect_stop_words(fixture *f, const char *text, const char *dropped, const char *kept) {
  kb_query *q = parse(f, text);
  const kb_qnode *t = kb_query_tree(q);
  const char *lists[2] = {dropped, kept};
  for (int k = 0; k < 2; k++) {
    char *copy = strdup(lists[k]), *save = NULL;
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
      if ((find(t, KB_Q_TERM, w) != NULL) != (k == 1))
        fail_msg("'%s': '%s' should %sbe a term", text, w, k ? "" : "not ");
    free(copy);
  }
  kb_query_free(q);
}

static void test_stop_words_dropped(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "如何 打印机");
  assert_false(mentions(kb_query_tree(q), "如何"));
  kb_query_free(q);
  expect_stop_words(f, "如何 打印机", "", "打印机");
  expect_stop_words(f, "how to restart the nginx", "how the", "restart nginx");
  /* colloquial fillers: possessives, A-not-A questions, 啥 and 咋 */
  expect_stop_words(f, "我的打印机是不是坏了 咋办", "我的 是不是 咋办", "打印机 坏");
  /* a word of stop characters is a stop word (都要: 都, 要); one of stop
   * words that are not stop characters is not (什么时候: 什么, 时候) */
  expect_stop_words(f, "每次开机都要重新连 什么时候", "都要", "开机 什么时候");
  /* the pieces of English contractions say nothing alone */
  expect_stop_words(f, "printer doesn't work", "doesn t", "work");
}

static void test_only_stop_words_are_kept(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "如何");
  const kb_qnode *t = kb_query_tree(q);
  assert_non_null(find(t, KB_Q_TERM, "如何"));
  assert_int_equal(kb_query_size(q), 1);
  kb_query_free(q);
}

static void test_no_stop_list_keeps_everything(void **state) {
  fixture *f = *state;
  kb_query_opts o = {0};
  kb_query *q = NULL;
  assert_int_equal(kb_query_parse(f->tk, "如何 打印机", strlen("如何 打印机"), &o, &q, NULL),
                   KB_OK);
  assert_non_null(find(kb_query_tree(q), KB_Q_TERM, "如何"));
  kb_query_free(q);
  /* NULL opts: public, no stop words */
  assert_int_equal(kb_query_parse(f->tk, "如何", strlen("如何"), NULL, &q, NULL), KB_OK);
  assert_non_null(find(kb_query_tree(q), KB_Q_FILTER, "XVpublic"));
  kb_query_free(q);
}

/* ------------------------------------------------------ technical tokens */

static void test_technical_token_unit(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "ORA-12170");
  const kb_qnode *t = kb_query_tree(q);
  const kb_qnode *unit = parent_of(t, KB_Q_OR, KB_Q_TERM, "ora-12170");
  assert_non_null(unit);
  assert_int_equal(unit->nkids, 2);
  const kb_qnode *ph = kid(unit, KB_Q_PHRASE, NULL);
  assert_non_null(ph);
  assert_int_equal(ph->nkids, 2);
  assert_string_equal(ph->kids[0]->term, "ora");
  assert_string_equal(ph->kids[1]->term, "12170");
  /* the parts are not separate units */
  assert_null(parent_of(t, KB_Q_OR, KB_Q_TERM, "ora"));
  assert_int_equal(kb_query_size(q), 1);
  assert_runs(f, t);
  kb_query_free(q);
}

/* With the index's part pairs: a token of two parts is matched on its
 * pair, one of more on the phrase of its pairs; quoted, the same. */
static void test_technical_token_on_part_pairs(void **state) {
  fixture *f = *state;
  kb_query_opts o = {.current_analysis = true};
  kb_query *q = NULL;
  assert_int_equal(kb_query_parse(f->tk, "ORA-12170", 9, &o, &q, NULL), KB_OK);
  const kb_qnode *t = kb_query_tree(q);
  const kb_qnode *unit = parent_of(t, KB_Q_OR, KB_Q_TERM, "ora-12170");
  assert_non_null(unit);
  assert_non_null(kid(unit, KB_Q_TERM, KB_PREFIX_PAIR "ora 12170"));
  assert_null(find(t, KB_Q_PHRASE, NULL));
  assert_runs(f, t);
  kb_query_free(q);
  const char *quoted[] = {"192.168.1.10", "\"192.168.1.10\""};
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(kb_query_parse(f->tk, quoted[i], strlen(quoted[i]), &o, &q, NULL), KB_OK);
    t = kb_query_tree(q);
    assert_non_null(find(t, KB_Q_TERM, "192.168.1.10"));
    const kb_qnode *ph = find(t, KB_Q_PHRASE, NULL);
    assert_non_null(ph);
    assert_int_equal(ph->nkids, 3);
    assert_string_equal(ph->kids[0]->term, KB_PREFIX_PAIR "192 168");
    assert_string_equal(ph->kids[2]->term, KB_PREFIX_PAIR "1 10");
    assert_null(find(t, KB_Q_TERM, "192"));
    assert_runs(f, t);
    kb_query_free(q);
  }
}

static void test_technical_token_backed_by_its_words(void **state) {
  fixture *f = *state;
  kb_query_opts o = {.current_analysis = true};
  kb_query *q = NULL;
  const char *text = "java.lang.OutOfMemoryError";
  assert_int_equal(kb_query_parse(f->tk, text, strlen(text), &o, &q, NULL), KB_OK);
  const kb_qnode *t = kb_query_tree(q);
  /* the whole, and its words of four letters or more at half a word */
  assert_non_null(find(t, KB_Q_TERM, "java.lang.outofmemoryerror"));
  const kb_qnode *words = parent_of(t, KB_Q_OR, KB_Q_TERM, "outofmemoryerror");
  assert_non_null(words);
  assert_true(words->scale < 1.0);
  assert_non_null(kid(words, KB_Q_TERM, "java"));
  assert_non_null(kid(words, KB_Q_TERM, "lang"));
  /* so it is cut like several words */
  assert_true(kb_query_match_fraction(q) > 0);
  assert_runs(f, t);
  kb_query_free(q);
  /* numbers and short parts say too little alone */
  assert_int_equal(kb_query_parse(f->tk, "ORA-12170", 9, &o, &q, NULL), KB_OK);
  t = kb_query_tree(q);
  assert_null(find(t, KB_Q_TERM, "ora"));
  assert_null(find(t, KB_Q_TERM, "12170"));
  assert_true(kb_query_match_fraction(q) == 0);
  kb_query_free(q);
}

static void test_version_token_single_unit(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "v2.4.1");
  const kb_qnode *t = kb_query_tree(q);
  assert_non_null(find(t, KB_Q_TERM, "v2.4.1"));
  assert_int_equal(kb_query_size(q), 1);
  assert_runs(f, t);
  kb_query_free(q);
}

/* ------------------------------------------------------ never fails */

static void test_odd_inputs_never_fail(void **state) {
  fixture *f = *state;
  static const char *texts[] = {
      "",          "\"abc",     "\"",         "-",           "--",       "OR",
      "OR OR",     "a OR",      "OR a",       ":",           "product:", "product: x",
      "::::",      "-\"\"",     "\"\"",       "- -",         "title:",   "-product:x",
      "“未闭合",   "「",        "   ",        "\t\n",        "a\"b\"c",  "-OR",
      "x OR -y",   "类型：",    "\"a\" OR",   "OR \"a\"",
  };
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    kb_query *q = parse(f, texts[i]);
    const kb_qnode *t = kb_query_tree(q);
    if (!t) fail_msg("'%s': no tree", texts[i]);
    assert_runs(f, t);
    kb_buf e = {0};
    assert_int_equal(kb_query_explain(q, &e), KB_OK);
    kb_buf_free(&e);
    kb_query_free(q);
  }
}

static void test_unbalanced_quote_is_words(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "\"abc");
  const kb_qnode *t = kb_query_tree(q);
  assert_non_null(find(t, KB_Q_TERM, "abc"));
  assert_null(find(t, KB_Q_PHRASE, NULL));
  kb_query_free(q);
}

static void test_empty_query_matches_all(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "");
  const kb_qnode *t = kb_query_tree(q);
  assert_non_null(find(t, KB_Q_MATCH_ALL, NULL));
  assert_int_equal(kb_query_size(q), 0);
  kb_query_free(q);
}

static void test_invalid_utf8_is_skipped(void **state) {
  fixture *f = *state;
  const char text[] = "打印\xE6\x9C nginx\xC0\xAF \xED\xA0\x80x\xFF";
  kb_query *q = parse_len(f, text, sizeof text - 1, false);
  const kb_qnode *t = kb_query_tree(q);
  assert_non_null(t);
  assert_non_null(find(t, KB_Q_TERM, "nginx"));
  assert_runs(f, t);
  kb_query_free(q);
  /* embedded NUL bytes do not end the text */
  const char nul[] = "a\0nginx";
  q = parse_len(f, nul, sizeof nul - 1, false);
  assert_non_null(kb_query_tree(q));
  kb_query_free(q);
}

static void test_random_bytes_never_fail(void **state) {
  fixture *f = *state;
  unsigned seed = 2024;
  char buf[2000];
  for (int round = 0; round < 50; round++) {
    for (size_t i = 0; i < sizeof buf; i++) {
      int r = rand_r(&seed) % 8;
      /* bias towards the characters the syntax cares about */
      buf[i] = r == 0 ? "\"-: OR"[rand_r(&seed) % 6] : (char)(rand_r(&seed) & 0xFF);
    }
    kb_query *q = parse_len(f, buf, sizeof buf, round % 2);
    const kb_qnode *t = kb_query_tree(q);
    if (!t) fail_msg("round %d: no tree", round);
    assert_runs(f, t);
    kb_query_free(q);
  }
}

static void test_many_items_are_bounded(void **state) {
  fixture *f = *state;
  kb_buf text = {0};
  for (int i = 0; i < 500; i++) kb_buf_printf(&text, "\"w%d x\" -y%d product:p%d ", i, i, i);
  kb_query *q = parse_len(f, text.data, text.len, false);
  assert_non_null(kb_query_tree(q));
  assert_runs(f, kb_query_tree(q));
  kb_query_free(q);
  kb_buf_free(&text);
}

static void test_pasted_text_keeps_every_word(void **state) {
  fixture *f = *state;
  /* a log line of more chunks than the query has items: its last word counts */
  kb_buf text = {0};
  for (int i = 0; i < 200; i++) kb_buf_printf(&text, "w%d ", i);
  kb_buf_puts(&text, "nginx");
  kb_query *q = parse_len(f, text.data, text.len, false);
  assert_non_null(find(kb_query_tree(q), KB_Q_TERM, "nginx"));
  assert_runs(f, kb_query_tree(q));
  kb_query_free(q);
  kb_buf_free(&text);
}

/* ------------------------------------------------- explain, highlights */

static void test_explain_mentions_words(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "打印机驱动");
  kb_buf e = {0};
  assert_int_equal(kb_query_explain(q, &e), KB_OK);
  assert_true(tu_contains(e.data, "打印机"));
  assert_true(tu_contains(e.data, "驱动"));
  assert_true(tu_contains(e.data, "机驱")); /* a bigram */
  kb_buf_free(&e);
  kb_query_free(q);
  q = parse(f, "如何 ORA-12170");
  kb_buf_puts(&e, ">");
  kb_query_explain(q, &e);
  assert_true(e.data[0] == '>'); /* appends */
  assert_true(tu_contains(e.data, "ora-12170"));
  assert_true(tu_contains(e.data, "如何"));
  assert_true(tu_contains(e.data, "stop"));
  kb_buf_free(&e);
  kb_query_free(q);
}

static void test_highlights(void **state) {
  fixture *f = *state;
  kb_query *q = parse(f, "打印机 ORA-12170 -nginx");
  const kb_lexicon *hl = kb_query_highlights(q);
  assert_true(kb_lexicon_contains(hl, "打印机", strlen("打印机")));
  assert_true(kb_lexicon_contains(hl, "B打印", strlen("B打印")));
  assert_true(kb_lexicon_contains(hl, "ora-12170", strlen("ora-12170")));
  assert_false(kb_lexicon_contains(hl, "nginx", 5)); /* excluded words are not marked */
  kb_query_free(q);
}

/* ------------------------------------------------------------------ nodes */

static void test_qnode_building(void **state) {
  (void)state;
  kb_qnode *n = kb_qnode_new(KB_Q_AND, NULL, 0);
  assert_non_null(n);
  assert_null(n->term);
  assert_true(n->scale == 1.0);
  for (int i = 0; i < 20; i++) {
    char t[16];
    int len = snprintf(t, sizeof t, "t%dxyz", i);
    assert_int_equal(kb_qnode_add(n, kb_qnode_new(KB_Q_TERM, t, (size_t)len - 3)), KB_OK);
  }
  assert_int_equal(n->nkids, 20);
  assert_string_equal(n->kids[19]->term, "t19"); /* copies len bytes */
  assert_int_equal(kb_qnode_add(n, NULL), KB_ENOMEM);
  kb_qnode_free(n);
  kb_qnode_free(NULL);
  kb_query_free(NULL);
}

/* A word with synonyms becomes one weighted unit of all of them; a
 * member of several words is a phrase. */
static bool tree_has_term(const kb_qnode *n, const char *term) {
  if (!n) return false;
  if (n->term && strcmp(n->term, term) == 0) return true;
  for (size_t i = 0; i < n->nkids; i++)
    if (tree_has_term(n->kids[i], term)) return true;
  return false;
}

static bool tree_has_op(const kb_qnode *n, kb_qop op) {
  if (!n) return false;
  if (n->op == op) return true;
  for (size_t i = 0; i < n->nkids; i++)
    if (tree_has_op(n->kids[i], op)) return true;
  return false;
}

static void test_synonyms_widen_a_word(void **state) {
  (void)state;
  kb_lexicon *lex = NULL;
  kb_tokenizer *t = NULL;
  kb_synonyms *syn = NULL;
  assert_int_equal(kb_lexicon_new_builtin("lexicon", &lex, NULL), KB_OK);
  assert_int_equal(kb_tokenizer_new(lex, &t, NULL), KB_OK);
  assert_int_equal(kb_synonyms_new_builtin(t, NULL, &syn, NULL), KB_OK);
  assert_true(kb_synonyms_count(syn) > 10);
  kb_query_opts o = {.include_internal = true, .synonyms = syn};
  kb_query *q = NULL;
  assert_int_equal(kb_query_parse(t, "printer", 7, &o, &q, NULL), KB_OK);
  const kb_qnode *tree = kb_query_tree(q);
  assert_true(tree_has_op(tree, KB_Q_SYNONYM));
  assert_true(tree_has_term(tree, "打印机"));
  kb_query_free(q);
  assert_int_equal(kb_query_parse(t, "蓝屏", strlen("蓝屏"), &o, &q, NULL), KB_OK);
  tree = kb_query_tree(q);
  assert_true(tree_has_term(tree, "bsod"));
  assert_true(tree_has_op(tree, KB_Q_PHRASE)); /* blue screen */
  assert_false(tree_has_term(tree, KB_PREFIX_COMPOUND "blue screen"));
  kb_query_free(q);
  /* an index whose documents all have compounds: the member is one term,
   * in the public and internal spaces */
  o.current_analysis = true;
  assert_int_equal(kb_query_parse(t, "蓝屏", strlen("蓝屏"), &o, &q, NULL), KB_OK);
  tree = kb_query_tree(q);
  assert_true(tree_has_term(tree, KB_PREFIX_COMPOUND "blue screen"));
  assert_true(tree_has_term(tree, KB_PREFIX_INTERNAL_COMPOUND "blue screen"));
  assert_false(tree_has_op(tree, KB_Q_PHRASE));
  kb_query_free(q);
  /* words that spell a member of several words bring the rest of its group
   * (print queue: 打印队列), and still count on their own */
  assert_int_equal(kb_query_parse(t, "print queue", 11, &o, &q, NULL), KB_OK);
  tree = kb_query_tree(q);
  assert_true(tree_has_term(tree, "打印队列"));
  assert_true(tree_has_term(tree, "print"));
  assert_true(tree_has_term(tree, "queue"));
  assert_false(tree_has_term(tree, KB_PREFIX_COMPOUND "print queue"));
  kb_query_free(q);
  /* a group of one member (a line without " = ") adds no empty unit */
  kb_synonyms *lone = NULL;
  assert_int_equal(kb_synonyms_new_builtin(t, "spool folder\n", &lone, NULL), KB_OK);
  kb_query_opts lo = {.include_internal = true, .synonyms = lone};
  assert_int_equal(kb_query_parse(t, "spool folder", 12, &lo, &q, NULL), KB_OK);
  assert_int_equal(kb_query_size(q), 2); /* the two words */
  kb_query_free(q);
  kb_synonyms_free(lone);
  /* not when they are apart, nor in another order */
  const char *apart[] = {"print the queue", "queue print"};
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(kb_query_parse(t, apart[i], strlen(apart[i]), &o, &q, NULL), KB_OK);
    assert_false(tree_has_term(kb_query_tree(q), "打印队列"));
    kb_query_free(q);
  }
  o.current_analysis = false;
  /* without synonyms, no widening */
  o.synonyms = NULL;
  assert_int_equal(kb_query_parse(t, "printer", 7, &o, &q, NULL), KB_OK);
  assert_false(tree_has_term(kb_query_tree(q), "打印机"));
  kb_query_free(q);
  kb_synonyms_free(syn);
  kb_tokenizer_free(t);
  kb_lexicon_free(lex);
}

int main(void) {
#define T(name) cmocka_unit_test(name)
  const struct CMUnitTest tests[] = {
      T(test_chinese_word_unit),
      T(test_technical_token_on_part_pairs),
      T(test_technical_token_backed_by_its_words),
      T(test_several_words_are_alternatives),
      T(test_words_are_stemmed_and_folded),
      T(test_quoted_phrase),
      T(test_phrase_with_words_is_and_maybe),
      T(test_chinese_quotes_make_phrases),
      T(test_phrases_joined_by_or),
      T(test_stop_words_kept_inside_phrases),
      T(test_exclusion),
      T(test_pasted_text_keeps_every_word),
      T(test_flags_are_not_exclusions),
      T(test_field_filter),
      T(test_field_filter_forms),
      T(test_same_field_values_are_alternatives),
      T(test_add_filter_rebuilds_tree),
      T(test_title_field),
      T(test_public_query_filters_visibility),
      T(test_internal_query_adds_internal_terms),
      T(test_internal_phrase_in_both_spaces),
      T(test_stop_words_dropped),
      T(test_only_stop_words_are_kept),
      T(test_no_stop_list_keeps_everything),
      T(test_technical_token_unit),
      T(test_version_token_single_unit),
      T(test_odd_inputs_never_fail),
      T(test_unbalanced_quote_is_words),
      T(test_empty_query_matches_all),
      T(test_invalid_utf8_is_skipped),
      T(test_random_bytes_never_fail),
      T(test_many_items_are_bounded),
      T(test_explain_mentions_words),
      T(test_highlights),
      T(test_qnode_building),
      T(test_synonyms_widen_a_word),
  };
#undef T
  return cmocka_run_group_tests(tests, tu_index_setup, tu_index_teardown);
}
