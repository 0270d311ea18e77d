/* test_index.c — the Xapian wrapper on a real index in a temporary folder:
 * open modes and locking, replace/delete/commit/reopen, stored data and
 * values, term and value iteration, metadata, query trees, facets, sorting
 * and paging; and the stemmer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kb/index.h"
#include "kb/query.h"
#include "testutil.h"

enum { SLOT_DATE = 0, SLOT_PRODUCT = 2 };

typedef struct fixture {
  char *dir;
  char *path; /* the index folder */
  kb_index *w;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  f->dir = tu_tempdir();
  kb_buf p = {0};
  kb_buf_printf(&p, "%s/sub/db", f->dir); /* the parent does not exist yet */
  f->path = kb_buf_detach(&p);
  kb_error err = {0};
  if (kb_index_open(f->path, KB_INDEX_WRITE, &f->w, &err) != KB_OK) {
    fprintf(stderr, "setup: %s\n", err.message);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  kb_index_free(f->w);
  tu_rmtree(f->dir);
  free(f->dir);
  free(f->path);
  free(f);
  return 0;
}

/* A document: words at positions 1.., a product filter term and value, a
 * date value, and data. */
static kb_xdoc *make_doc(const char *words, const char *product, const char *date,
                         const char *data) {
  kb_xdoc *d = NULL;
  assert_int_equal(kb_xdoc_new(&d), KB_OK);
  char *copy = strdup(words);
  uint32_t pos = 1;
  for (char *w = strtok(copy, " "); w; w = strtok(NULL, " "))
    assert_int_equal(kb_xdoc_add_posting(d, w, strlen(w), pos++, 1), KB_OK);
  free(copy);
  if (product) {
    kb_buf t = {0};
    kb_buf_printf(&t, "XP%s", product);
    assert_int_equal(kb_xdoc_add_term(d, t.data, t.len, 0), KB_OK);
    assert_int_equal(kb_xdoc_set_value(d, SLOT_PRODUCT, product, strlen(product)), KB_OK);
    kb_buf_free(&t);
  }
  if (date) assert_int_equal(kb_xdoc_set_value(d, SLOT_DATE, date, strlen(date)), KB_OK);
  assert_int_equal(kb_xdoc_set_data(d, data, strlen(data)), KB_OK);
  return d;
}

/* Stores d under id_term and frees it. */
static void put_doc(kb_index *idx, const char *id_term, kb_xdoc *d) {
  kb_error err = {0};
  if (kb_index_replace(idx, id_term, d, &err) != KB_OK) fail_msg("replace: %s", err.message);
  kb_xdoc_free(d);
}

static void put(kb_index *idx, const char *id_term, const char *words, const char *product,
                const char *date) {
  put_doc(idx, id_term, make_doc(words, product, date, id_term));
}

/* Document number i of a series: id term prefix + i. */
static void put_nth(kb_index *idx, const char *prefix, int i, const char *words,
                    const char *product, const char *date) {
  char id[16];
  snprintf(id, sizeof id, "%s%d", prefix, i);
  put(idx, id, words, product, date);
}

static void commit(kb_index *idx) {
  kb_error err = {0};
  if (kb_index_commit(idx, &err) != KB_OK) fail_msg("commit: %s", err.message);
}

/* Four documents; data = the id term. */
static void put_corpus(fixture *f) {
  put(f->w, "Qd1", "printer offline driver", "hardware", "2024-01-01");
  put(f->w, "Qd2", "printer driver install", "hardware", "2026-05-01");
  put(f->w, "Qd3", "database connect timeout", "database", "2025-03-03");
  put(f->w, "Qd4", "database printer report", "database", "2023-07-07");
  commit(f->w);
}

static kb_results *search(kb_index *idx, const kb_qnode *q, const kb_search_opts *o) {
  kb_results *r = NULL;
  kb_error err = {0};
  if (kb_index_search(idx, q, o, &r, &err) != KB_OK) fail_msg("search: %s", err.message);
  assert_non_null(r);
  return r;
}

static kb_qnode *term(kb_qop op, const char *t) { return kb_qnode_new(op, t, strlen(t)); }

static kb_qnode *node2(kb_qop op, kb_qnode *a, kb_qnode *b) {
  kb_qnode *n = kb_qnode_new(op, NULL, 0);
  assert_int_equal(kb_qnode_add(n, a), KB_OK);
  assert_int_equal(kb_qnode_add(n, b), KB_OK);
  return n;
}

/* True when the hits' data (ids) are exactly the comma-separated list, in order. */
static void assert_hits(const kb_results *r, const char *ids) {
  kb_buf got = {0};
  for (size_t i = 0; i < r->nhits; i++) {
    if (i) kb_buf_putc(&got, ',');
    kb_buf_puts(&got, r->hits[i].data);
  }
  if (!got.data) kb_buf_append(&got, "", 0);
  if (strcmp(got.data, ids) != 0) fail_msg("hits '%s', expected '%s'", got.data, ids);
  kb_buf_free(&got);
}

/* Sorted ids of the hits, for order-free comparisons (caller frees). */
static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *hit_set(const kb_results *r) {
  const char **v = calloc(r->nhits + 1, sizeof *v);
  for (size_t i = 0; i < r->nhits; i++) v[i] = r->hits[i].data;
  qsort(v, r->nhits, sizeof *v, cmp_str);
  kb_buf b = {0};
  for (size_t i = 0; i < r->nhits; i++) {
    if (i) kb_buf_putc(&b, ',');
    kb_buf_puts(&b, v[i]);
  }
  free(v);
  return kb_buf_detach(&b);
}

static void assert_hit_set(kb_index *idx, kb_qnode *q, const char *ids) {
  kb_search_opts o = {.limit = 10};
  kb_results *r = search(idx, q, &o);
  char *s = hit_set(r);
  if (strcmp(s, ids) != 0) fail_msg("hit set '%s', expected '%s'", s, ids);
  free(s);
  kb_results_free(r);
  kb_qnode_free(q);
}

/* ------------------------------------------------------------------ open */

static void test_open_write_creates(void **state) {
  fixture *f = *state;
  struct stat st;
  assert_int_equal(stat(f->path, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(kb_index_doc_count(f->w), 0);
  assert_string_equal(kb_index_path(f->w), f->path);
}

static void test_open_read_missing_fails(void **state) {
  fixture *f = *state;
  kb_buf p = {0};
  kb_buf_printf(&p, "%s/nope", f->dir);
  kb_index *r = NULL;
  kb_error err = {0};
  assert_int_equal(kb_index_open(p.data, KB_INDEX_READ, &r, &err), KB_ENOENT);
  assert_int_equal(err.code, KB_ENOENT);
  assert_true(strlen(err.message) > 0);
  assert_true(tu_contains(err.message, p.data)); /* says which index */
  assert_null(r);
  /* a read never creates it */
  struct stat st;
  assert_int_not_equal(stat(p.data, &st), 0);
  kb_buf_free(&p);
}

static void test_second_writer_is_locked(void **state) {
  fixture *f = *state;
  kb_index *second = NULL;
  kb_error err = {0};
  assert_int_equal(kb_index_open(f->path, KB_INDEX_WRITE, &second, &err), KB_ELOCKED);
  assert_int_equal(err.code, KB_ELOCKED);
  assert_true(strlen(err.message) > 0);
  assert_null(second);
  /* readers are not blocked by the writer */
  put(f->w, "Qx", "x", NULL, NULL);
  commit(f->w);
  kb_index *reader = NULL;
  assert_int_equal(kb_index_open(f->path, KB_INDEX_READ, &reader, &err), KB_OK);
  kb_index_free(reader);
  /* once the writer is closed, another may open */
  kb_index_free(f->w);
  f->w = NULL;
  assert_int_equal(kb_index_open(f->path, KB_INDEX_WRITE, &f->w, &err), KB_OK);
  assert_int_equal(kb_index_doc_count(f->w), 1);
}

static void test_second_writer_locked_while_folder_is_swapped(void **state) {
  fixture *f = *state;
  put(f->w, "Qx", "x", NULL, NULL);
  commit(f->w);
  /* a replacement between its renames: PATH/internal is gone, its writer
   * still open */
  char old[1100], part[1100];
  snprintf(part, sizeof part, "%s/internal", f->path);
  snprintf(old, sizeof old, "%s/internal.old", f->path);
  assert_int_equal(rename(part, old), 0);
  kb_index *second = NULL;
  kb_error err = {0};
  assert_int_equal(kb_index_open(f->path, KB_INDEX_WRITE, &second, &err), KB_ELOCKED);
  assert_null(second);
  assert_false(kb_index_exists(f->path)); /* no empty index made in its place */
  assert_int_equal(rename(old, part), 0);
}

static void test_free_null(void **state) {
  (void)state;
  kb_index_free(NULL);
  kb_results_free(NULL);
  kb_xdoc_free(NULL);
}

static void test_exists(void **state) {
  fixture *f = *state;
  assert_true(kb_index_exists(f->path));
  assert_false(kb_index_exists(f->dir)); /* a folder, not an index */
  /* no exception crosses into C (std::string from NULL threw, and the
   * program ended) */
  assert_false(kb_index_exists(NULL));
}

static bool folder_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* A compaction that fails leaves the index as it was, open, and no partial
 * PATH.merge; one that works swaps the merged folder in and reopens it. */
static void test_replace_by_compaction(void **state) {
  fixture *f = *state;
  put_corpus(f);
  kb_buf shard = {0}, merged = {0};
  kb_buf_printf(&shard, "%s/shard", f->dir);
  kb_buf_printf(&merged, "%s/public.merge", f->path);
  const char *shards[] = {shard.data};
  kb_error err = {0};
  kb_index *before = f->w;
  assert_int_equal(kb_index_replace_by_compaction(&f->w, shards, 1, "Q", &err), KB_ENOENT);
  assert_true(tu_contains(err.message, f->path));
  assert_ptr_equal(f->w, before);
  assert_int_equal(kb_index_doc_count(f->w), 4);
  assert_false(folder_exists(merged.data));
  kb_index *s = NULL;
  assert_int_equal(kb_index_open(shard.data, KB_INDEX_WRITE, &s, &err), KB_OK);
  put(s, "Qs1", "shard only", NULL, NULL);
  put(s, "Qd2", "printer driver reinstalled", "hardware", "2026-06-01"); /* a new version */
  commit(s);
  kb_index_free(s);
  /* the index keeps its version until the swap; the shard's Qd2 replaces it */
  assert_int_equal(kb_index_replace_by_compaction(&f->w, shards, 1, "Q", &err), KB_OK);
  assert_non_null(f->w);
  assert_int_equal(kb_index_doc_count(f->w), 5);
  assert_int_equal(kb_index_term_freq(f->w, "Qd2"), 1);
  assert_int_equal(kb_index_term_freq(f->w, "reinstalled"), 1); /* the shard's */
  assert_int_equal(kb_index_term_freq(f->w, "install"), 0);
  assert_false(folder_exists(merged.data));
  assert_false(folder_exists(shard.data)); /* merged in */
  kb_buf_free(&shard);
  kb_buf_free(&merged);
}

/* ---------------------------------------------------------- documents */

static void test_one_xdoc_stored_under_two_ids(void **state) {
  fixture *f = *state;
  kb_xdoc *d = make_doc("shared words", NULL, NULL, "data");
  kb_error err = {0};
  assert_int_equal(kb_index_replace(f->w, "Qa", d, &err), KB_OK);
  assert_int_equal(kb_index_replace(f->w, "Qb", d, &err), KB_OK);
  commit(f->w);
  kb_xdoc_free(d);
  assert_int_equal(kb_index_doc_count(f->w), 2);
  /* each document holds its own id only */
  assert_int_equal(kb_index_term_freq(f->w, "Qa"), 1);
  assert_int_equal(kb_index_term_freq(f->w, "Qb"), 1);
  assert_int_equal(kb_index_term_freq(f->w, "shared"), 2);
}

static void test_replace_same_id_keeps_one(void **state) {
  fixture *f = *state;
  kb_xdoc *a = make_doc("first version", NULL, NULL, "v1");
  kb_xdoc *b = make_doc("second version", NULL, NULL, "v2");
  assert_int_equal(kb_index_replace(f->w, "Qsame", a, NULL), KB_OK);
  assert_int_equal(kb_index_replace(f->w, "Qsame", b, NULL), KB_OK);
  commit(f->w);
  assert_int_equal(kb_index_doc_count(f->w), 1);
  assert_int_equal(kb_index_term_freq(f->w, "Qsame"), 1);
  assert_int_equal(kb_index_term_freq(f->w, "first"), 0); /* the old terms are gone */
  assert_int_equal(kb_index_term_freq(f->w, "second"), 1);
  char *data = NULL;
  assert_int_equal(kb_index_get_data(f->w, "Qsame", &data, NULL), KB_OK);
  assert_string_equal(data, "v2");
  free(data);
  kb_xdoc_free(a);
  kb_xdoc_free(b);
}

static void test_delete_found_and_not_found(void **state) {
  fixture *f = *state;
  put(f->w, "Qa", "alpha", NULL, NULL);
  put(f->w, "Qb", "bravo", NULL, NULL);
  commit(f->w);
  bool found = false;
  assert_int_equal(kb_index_delete(f->w, "Qa", &found, NULL), KB_OK);
  assert_true(found);
  found = true;
  assert_int_equal(kb_index_delete(f->w, "Qa", &found, NULL), KB_OK);
  assert_false(found);
  assert_int_equal(kb_index_delete(f->w, "Qnever", &found, NULL), KB_OK);
  assert_false(found);
  assert_int_equal(kb_index_delete(f->w, "Qnever", NULL, NULL), KB_OK); /* found optional */
  commit(f->w);
  assert_int_equal(kb_index_doc_count(f->w), 1);
  assert_int_equal(kb_index_term_freq(f->w, "alpha"), 0);
  assert_int_equal(kb_index_term_freq(f->w, "bravo"), 1);
}

static void test_reader_sees_commit_after_reopen(void **state) {
  fixture *f = *state;
  put(f->w, "Q1", "one", NULL, NULL);
  commit(f->w);
  kb_index *r = NULL;
  kb_error err = {0};
  assert_int_equal(kb_index_open(f->path, KB_INDEX_READ, &r, &err), KB_OK);
  assert_int_equal(kb_index_doc_count(r), 1);
  put(f->w, "Q2", "two", NULL, NULL);
  commit(f->w);
  bool changed = false;
  assert_int_equal(kb_index_reopen(r, &changed, &err), KB_OK);
  assert_true(changed);
  assert_int_equal(kb_index_doc_count(r), 2);
  assert_int_equal(kb_index_term_freq(r, "two"), 1);
  changed = true;
  assert_int_equal(kb_index_reopen(r, &changed, &err), KB_OK);
  assert_false(changed); /* nothing new */
  assert_int_equal(kb_index_reopen(r, NULL, &err), KB_OK);
  kb_index_free(r);
}

static void test_uncommitted_changes_invisible_to_reader(void **state) {
  fixture *f = *state;
  put(f->w, "Q1", "one", NULL, NULL);
  commit(f->w);
  kb_index *r = NULL;
  assert_int_equal(kb_index_open(f->path, KB_INDEX_READ, &r, NULL), KB_OK);
  put(f->w, "Q2", "two", NULL, NULL); /* not committed */
  bool changed = true;
  assert_int_equal(kb_index_reopen(r, &changed, NULL), KB_OK);
  assert_false(changed);
  assert_int_equal(kb_index_doc_count(r), 1);
  kb_index_free(r);
}

/* Closing a writer commits what it holds (Xapian's close), it does not
 * discard it. */
static void test_free_commits_pending_changes(void **state) {
  fixture *f = *state;
  put(f->w, "Q1", "one", NULL, NULL); /* not committed */
  kb_index_free(f->w);
  f->w = NULL;
  kb_index *r = NULL;
  assert_int_equal(kb_index_open(f->path, KB_INDEX_READ, &r, NULL), KB_OK);
  assert_int_equal(kb_index_doc_count(r), 1);
  kb_index_free(r);
}

static void test_get_data_and_value(void **state) {
  fixture *f = *state;
  put_corpus(f);
  char *data = NULL, *value = NULL;
  assert_int_equal(kb_index_get_data(f->w, "Qd3", &data, NULL), KB_OK);
  assert_string_equal(data, "Qd3");
  free(data);
  assert_int_equal(kb_index_get_value(f->w, "Qd3", SLOT_DATE, &value, NULL), KB_OK);
  assert_string_equal(value, "2025-03-03");
  free(value);
  assert_int_equal(kb_index_get_value(f->w, "Qd3", SLOT_PRODUCT, &value, NULL), KB_OK);
  assert_string_equal(value, "database");
  free(value);
  /* an unset slot of a present document is "" */
  assert_int_equal(kb_index_get_value(f->w, "Qd3", 9, &value, NULL), KB_OK);
  assert_non_null(value);
  assert_string_equal(value, "");
  free(value);
  /* an absent document gives NULL */
  data = (char *)1;
  value = (char *)1;
  assert_int_equal(kb_index_get_data(f->w, "Qmissing", &data, NULL), KB_OK);
  assert_null(data);
  assert_int_equal(kb_index_get_value(f->w, "Qmissing", SLOT_DATE, &value, NULL), KB_OK);
  assert_null(value);
}

/* ------------------------------------------------------- terms, values */

typedef struct term_list {
  kb_buf joined;
  int calls;
  int stop_at;
} term_list;

static int on_term(const char *t, size_t len, uint32_t df, void *ctx) {
  term_list *l = ctx;
  if (l->joined.len) kb_buf_putc(&l->joined, ' ');
  kb_buf_printf(&l->joined, "%.*s:%u", (int)len, t, df);
  l->calls++;
  return l->stop_at && l->calls == l->stop_at ? 99 : 0;
}

static void test_each_term_with_prefix(void **state) {
  fixture *f = *state;
  put_corpus(f);
  term_list l = {0};
  assert_int_equal(kb_index_each_term(f->w, "XP", on_term, &l, NULL), KB_OK);
  assert_string_equal(l.joined.data, "XPdatabase:2 XPhardware:2");
  kb_buf_free(&l.joined);
  /* plain words, sorted, with document frequencies */
  l = (term_list){0};
  assert_int_equal(kb_index_each_term(f->w, "print", on_term, &l, NULL), KB_OK);
  assert_string_equal(l.joined.data, "printer:3");
  kb_buf_free(&l.joined);
  /* no match: never called */
  l = (term_list){0};
  assert_int_equal(kb_index_each_term(f->w, "zzz", on_term, &l, NULL), KB_OK);
  assert_int_equal(l.calls, 0);
  /* a non-zero return stops and is returned */
  l = (term_list){.stop_at = 1};
  assert_int_equal(kb_index_each_term(f->w, "Q", on_term, &l, NULL), 99);
  assert_int_equal(l.calls, 1);
  assert_string_equal(l.joined.data, "Qd1:1");
  kb_buf_free(&l.joined);
}

static int on_value(const char *v, size_t len, void *ctx) {
  kb_buf *b = ctx;
  if (b->len) kb_buf_putc(b, ' ');
  kb_buf_append(b, v, len);
  return 0;
}

static void test_each_value(void **state) {
  fixture *f = *state;
  put_corpus(f);
  kb_buf b = {0};
  assert_int_equal(kb_index_each_value(f->w, "XPdatabase", SLOT_DATE, on_value, &b, NULL), KB_OK);
  assert_non_null(b.data);
  assert_true(tu_contains(b.data, "2025-03-03"));
  assert_true(tu_contains(b.data, "2023-07-07"));
  assert_int_equal(b.len, strlen("2025-03-03 2023-07-07"));
  kb_buf_free(&b);
}

static void test_counts_and_size(void **state) {
  fixture *f = *state;
  put_corpus(f);
  assert_int_equal(kb_index_doc_count(f->w), 4);
  assert_int_equal(kb_index_term_freq(f->w, "printer"), 3);
  assert_int_equal(kb_index_term_freq(f->w, "nothing"), 0);
  /* 8 distinct words + 2 product terms + 4 ids */
  assert_int_equal(kb_index_unique_terms(f->w), 14);
  assert_true(kb_index_size_bytes(f->w) > 0);
}

/* -------------------------------------------------------------- metadata */

static void test_metadata(void **state) {
  fixture *f = *state;
  char *v = NULL;
  assert_int_equal(kb_index_get_meta(f->w, "kb:lexicon", &v, NULL), KB_OK);
  assert_string_equal(v, ""); /* unset */
  free(v);
  assert_int_equal(kb_index_get_meta(f->w, "last_commit", &v, NULL), KB_OK);
  assert_string_equal(v, ""); /* never committed */
  free(v);
  assert_int_equal(kb_index_set_meta(f->w, "kb:lexicon", "转圈\n卡顿\n", NULL), KB_OK);
  commit(f->w);
  assert_int_equal(kb_index_get_meta(f->w, "kb:lexicon", &v, NULL), KB_OK);
  assert_string_equal(v, "转圈\n卡顿\n");
  free(v);
  /* the commit stamped its time: YYYY-MM-DDTHH:MM:SSZ */
  assert_int_equal(kb_index_get_meta(f->w, "last_commit", &v, NULL), KB_OK);
  assert_int_equal(strlen(v), 20);
  assert_int_equal(v[4], '-');
  assert_int_equal(v[10], 'T');
  assert_int_equal(v[19], 'Z');
  free(v);
  /* a reader sees committed metadata */
  kb_index *r = NULL;
  assert_int_equal(kb_index_open(f->path, KB_INDEX_READ, &r, NULL), KB_OK);
  assert_int_equal(kb_index_get_meta(r, "kb:lexicon", &v, NULL), KB_OK);
  assert_string_equal(v, "转圈\n卡顿\n");
  free(v);
  kb_index_free(r);
}

/* ---------------------------------------------------------------- search */

static void test_search_term(void **state) {
  fixture *f = *state;
  put_corpus(f);
  kb_qnode *q = term(KB_Q_TERM, "timeout");
  kb_search_opts o = {.limit = 10};
  kb_results *r = search(f->w, q, &o);
  assert_int_equal(r->nhits, 1);
  assert_int_equal(r->total, 1);
  assert_string_equal(r->hits[0].data, "Qd3");
  assert_true(r->hits[0].score > 0);
  assert_int_equal(r->hits[0].percent, 100);
  assert_true(r->hits[0].docid > 0);
  kb_results_free(r);
  kb_qnode_free(q);
}

static void test_search_no_match(void **state) {
  fixture *f = *state;
  put_corpus(f);
  kb_qnode *q = term(KB_Q_TERM, "absent");
  kb_search_opts o = {.limit = 10};
  kb_results *r = search(f->w, q, &o);
  assert_int_equal(r->nhits, 0);
  assert_int_equal(r->total, 0);
  kb_results_free(r);
  kb_qnode_free(q);
}

static void test_search_operators(void **state) {
  fixture *f = *state;
  put_corpus(f);
  assert_hit_set(f->w, term(KB_Q_TERM, "printer"), "Qd1,Qd2,Qd4");
  assert_hit_set(f->w, node2(KB_Q_AND, term(KB_Q_TERM, "printer"), term(KB_Q_TERM, "driver")),
                 "Qd1,Qd2");
  assert_hit_set(f->w, node2(KB_Q_OR, term(KB_Q_TERM, "offline"), term(KB_Q_TERM, "timeout")),
                 "Qd1,Qd3");
  assert_hit_set(f->w,
                 node2(KB_Q_AND_NOT, term(KB_Q_TERM, "printer"), term(KB_Q_TERM, "database")),
                 "Qd1,Qd2");
  assert_hit_set(f->w,
                 node2(KB_Q_AND_MAYBE, term(KB_Q_TERM, "database"), term(KB_Q_TERM, "printer")),
                 "Qd3,Qd4");
  assert_hit_set(f->w,
                 node2(KB_Q_FILTERED, term(KB_Q_TERM, "printer"), term(KB_Q_FILTER, "XPhardware")),
                 "Qd1,Qd2");
  assert_hit_set(f->w, kb_qnode_new(KB_Q_MATCH_ALL, NULL, 0), "Qd1,Qd2,Qd3,Qd4");
  assert_hit_set(f->w,
                 node2(KB_Q_SYNONYM, term(KB_Q_TERM, "offline"), term(KB_Q_TERM, "install")),
                 "Qd1,Qd2");
  /* an OR without kids matches nothing */
  assert_hit_set(f->w, kb_qnode_new(KB_Q_OR, NULL, 0), "");
}

static void test_search_phrase_and_near(void **state) {
  fixture *f = *state;
  put_corpus(f);
  assert_hit_set(f->w, node2(KB_Q_PHRASE, term(KB_Q_TERM, "printer"), term(KB_Q_TERM, "driver")),
                 "Qd2");
  assert_hit_set(f->w, node2(KB_Q_PHRASE, term(KB_Q_TERM, "driver"), term(KB_Q_TERM, "printer")),
                 "");
  kb_qnode *near = node2(KB_Q_NEAR, term(KB_Q_TERM, "driver"), term(KB_Q_TERM, "printer"));
  near->window = 3;
  assert_hit_set(f->w, near, "Qd1,Qd2");
}

static void test_filter_has_no_weight(void **state) {
  fixture *f = *state;
  put_corpus(f);
  kb_qnode *q = term(KB_Q_FILTER, "XPdatabase");
  kb_search_opts o = {.limit = 10};
  kb_results *r = search(f->w, q, &o);
  assert_int_equal(r->nhits, 2);
  for (size_t i = 0; i < r->nhits; i++) assert_true(r->hits[i].score == 0.0);
  kb_results_free(r);
  kb_qnode_free(q);
}

static void test_scale_changes_ranking(void **state) {
  fixture *f = *state;
  put_corpus(f);
  /* offline (d1) or install (d2): equal weights tie; scaling install wins */
  kb_qnode *q = node2(KB_Q_OR, term(KB_Q_TERM, "offline"), term(KB_Q_TERM, "install"));
  q->kids[1]->scale = 5.0;
  kb_search_opts o = {.limit = 10};
  kb_results *r = search(f->w, q, &o);
  assert_hits(r, "Qd2,Qd1");
  kb_results_free(r);
  q->kids[1]->scale = 1.0;
  q->kids[0]->scale = 5.0;
  r = search(f->w, q, &o);
  assert_hits(r, "Qd1,Qd2");
  kb_results_free(r);
  kb_qnode_free(q);
}

static void test_offset_and_limit(void **state) {
  fixture *f = *state;
  put_corpus(f);
  kb_qnode *q = kb_qnode_new(KB_Q_MATCH_ALL, NULL, 0);
  kb_search_opts o = {.limit = 2, .sort_by_date = true, .date_slot = SLOT_DATE};
  kb_results *r = search(f->w, q, &o);
  assert_int_equal(r->nhits, 2);
  assert_int_equal(r->total, 4); /* the whole match set */
  assert_hits(r, "Qd2,Qd3");
  kb_results_free(r);
  o.offset = 2;
  r = search(f->w, q, &o);
  assert_hits(r, "Qd1,Qd4");
  kb_results_free(r);
  o.offset = 10;
  r = search(f->w, q, &o);
  assert_int_equal(r->nhits, 0);
  kb_results_free(r);
  o.offset = 0;
  o.limit = 0;
  r = search(f->w, q, &o);
  assert_int_equal(r->nhits, 0);
  kb_results_free(r);
  kb_qnode_free(q);
}

static void test_sort_by_date(void **state) {
  fixture *f = *state;
  put_corpus(f);
  kb_qnode *q = term(KB_Q_TERM, "printer");
  kb_search_opts o = {.limit = 10, .sort_by_date = true, .date_slot = SLOT_DATE};
  kb_results *r = search(f->w, q, &o);
  assert_hits(r, "Qd2,Qd1,Qd4"); /* 2026, 2024, 2023 */
  kb_results_free(r);
  kb_qnode_free(q);
}

static void test_facets_count_whole_match_set(void **state) {
  fixture *f = *state;
  put_corpus(f);
  put(f->w, "Qd5", "printer jam", "hardware", "2022-02-02");
  commit(f->w);
  static const unsigned slots[] = {SLOT_PRODUCT, SLOT_DATE};
  kb_qnode *q = term(KB_Q_TERM, "printer");
  kb_search_opts o = {.limit = 1, .facet_slots = slots, .nfacets = 2, .check_at_least = 100};
  kb_results *r = search(f->w, q, &o);
  assert_int_equal(r->nhits, 1); /* the page is small ... */
  assert_int_equal(r->total, 4);
  assert_true(r->total_exact);
  assert_int_equal(r->nfacets, 2);
  /* ... the counts cover every match, sorted by count */
  assert_int_equal(r->nfacet[0], 2);
  assert_string_equal(r->facets[0][0].value, "hardware");
  assert_int_equal(r->facets[0][0].count, 3);
  assert_string_equal(r->facets[0][1].value, "database");
  assert_int_equal(r->facets[0][1].count, 1);
  for (size_t s = 0; s < r->nfacets; s++) {
    uint32_t sum = 0;
    for (size_t k = 0; k < r->nfacet[s]; k++) sum += r->facets[s][k].count;
    assert_int_equal(sum, r->total);
  }
  assert_int_equal(r->nfacet[1], 4); /* four distinct dates */
  kb_results_free(r);
  kb_qnode_free(q);
}

/* A document whose slot SLOT_JOINED holds a product (joined_product,
 * so that a test can tell which slot was read) and its date joined. */
enum { SLOT_JOINED = 12 };
static void put_joined(kb_index *idx, const char *id_term, const char *words,
                       const char *product, const char *joined_product, const char *date) {
  kb_xdoc *d = make_doc(words, product, date, id_term);
  kb_buf joined = {0};
  kb_buf_printf(&joined, "%s\x1f%s", joined_product, date);
  assert_int_equal(kb_xdoc_set_value(d, SLOT_JOINED, joined.data, joined.len), KB_OK);
  kb_buf_free(&joined);
  put_doc(idx, id_term, d);
}

/* Facets read from one joined slot count what the separate slots count;
 * an index where a document lacks the joined slot is read slot by slot. */
static void test_joined_facets_count_as_separate_slots(void **state) {
  fixture *f = *state;
  put_joined(f->w, "Qd1", "printer offline", "hardware", "hardware", "2024-01-01");
  put_joined(f->w, "Qd2", "printer driver", "hardware", "hardware", "2024-01-01");
  put_joined(f->w, "Qd3", "printer report", "database", "数据库", "2025-03-03");
  put_joined(f->w, "Qd4", "database timeout", "database", "database", "2026-01-01");
  commit(f->w);
  static const unsigned slots[] = {SLOT_PRODUCT, SLOT_DATE};
  kb_qnode *q = term(KB_Q_TERM, "printer");
  kb_search_opts o = {.limit = 10, .facet_slots = slots, .nfacets = 2, .check_at_least = 100,
                      .facets_joined = true, .facets_joined_slot = SLOT_JOINED};
  for (int pass = 0; pass < 2; pass++) {
    kb_results *r = search(f->w, q, &o);
    assert_int_equal(r->total, pass ? 4 : 3);
    assert_int_equal(r->nfacet[0], 2);
    assert_string_equal(r->facets[0][0].value, "hardware");
    assert_int_equal(r->facets[0][0].count, pass ? 3 : 2);
    assert_string_equal(r->facets[0][1].value, pass ? "database" : "数据库");
    assert_int_equal(r->facets[0][1].count, 1);
    assert_int_equal(r->nfacet[1], pass ? 3 : 2);
    assert_string_equal(r->facets[1][0].value, "2024-01-01");
    assert_int_equal(r->facets[1][0].count, 2);
    kb_results_free(r);
    /* a document without the joined slot: the separate slots are read */
    if (!pass) {
      put(f->w, "Qd5", "printer jam", "hardware", "2027-07-07");
      commit(f->w);
    }
  }
  kb_qnode_free(q);
}

/* A reader counts the joined slot from its table of each document's value,
 * built once a revision: a commit it reopens to is counted, a value changed
 * by a replaced document included. */
static void test_reader_facets_follow_commits(void **state) {
  fixture *f = *state;
  put_joined(f->w, "Qd1", "printer offline", "hardware", "hardware", "2024-01-01");
  put_joined(f->w, "Qd2", "printer driver", "hardware", "hardware", "2024-01-01");
  commit(f->w);
  kb_index *r = NULL;
  assert_int_equal(kb_index_open(f->path, KB_INDEX_READ, &r, NULL), KB_OK);
  static const unsigned slots[] = {SLOT_PRODUCT, SLOT_DATE};
  kb_qnode *q = term(KB_Q_TERM, "printer");
  kb_search_opts o = {.limit = 10, .facet_slots = slots, .nfacets = 2, .check_at_least = 100,
                      .facets_joined = true, .facets_joined_slot = SLOT_JOINED};
  kb_results *res = search(r, q, &o);
  assert_int_equal(res->total, 2);
  assert_int_equal(res->nfacet[0], 1);
  assert_int_equal(res->facets[0][0].count, 2);
  kb_results_free(res);
  put_joined(f->w, "Qd2", "printer driver", "network", "network", "2025-02-02");
  put_joined(f->w, "Qd3", "printer toner", "supplies", "supplies", "2024-01-01");
  commit(f->w);
  bool changed = false;
  assert_int_equal(kb_index_reopen(r, &changed, NULL), KB_OK);
  assert_true(changed);
  res = search(r, q, &o);
  assert_int_equal(res->total, 3);
  assert_int_equal(res->nfacet[0], 3);
  static const char *const products[] = {"hardware", "network", "supplies"};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(res->facets[0][i].count, 1);
    assert_string_equal(res->facets[0][i].value, products[i]);
  }
  assert_int_equal(res->nfacet[1], 2);
  assert_string_equal(res->facets[1][0].value, "2024-01-01");
  assert_int_equal(res->facets[1][0].count, 2);
  kb_results_free(res);
  kb_qnode_free(q);
  kb_index_free(r);
}

/* 400 documents hold "printer", alternately hardware and software. Counting
 * stops at 100: the facets (and the total, when Xapian cannot know it) are
 * the part counted scaled up (about 400, half each), not exact. */
static void test_counts_beyond_check_at_least_are_scaled(void **state) {
  fixture *f = *state;
  for (int i = 0; i < 400; i++)
    put_nth(f->w, "Qn", i, "printer", i % 2 ? "software" : "hardware", "2024-01-01");
  commit(f->w);
  static const unsigned slots[] = {SLOT_PRODUCT};
  kb_qnode *q = term(KB_Q_TERM, "printer");
  kb_search_opts o = {.limit = 10, .facet_slots = slots, .nfacets = 1, .check_at_least = 100};
  kb_results *r = search(f->w, q, &o);
  assert_false(r->total_exact);
  assert_in_range(r->total, 390, 410);
  assert_int_equal(r->nfacet[0], 2);
  assert_in_range(r->facets[0][0].count, 195, 205);
  assert_in_range(r->facets[0][1].count, 195, 205);
  kb_results_free(r);
  /* the same through a cut-off (so Xapian's estimate cannot stand) */
  kb_qnode *either = node2(KB_Q_OR, term(KB_Q_TERM, "printer"), term(KB_Q_TERM, "absent"));
  o.relative_cutoff = 0.1;
  r = search(f->w, either, &o);
  assert_false(r->total_exact);
  assert_in_range(r->total, 390, 410);
  assert_in_range(r->facets[0][0].count, 195, 205);
  kb_results_free(r);
  kb_qnode_free(either);
  o.relative_cutoff = 0;
  o.check_at_least = 1000; /* everything counted: exact */
  r = search(f->w, q, &o);
  assert_true(r->total_exact);
  assert_int_equal(r->total, 400);
  assert_int_equal(r->facets[0][0].count, 200);
  kb_results_free(r);
  kb_qnode_free(q);
}

/* With a cut, the match set is counted after the page: only what reaches
 * the cut, over the docids that hold about check_at_least of the query's
 * matches, scaled to the rest; exact when those docids are all of them.
 * 400 documents hold "printer", one in four also "toner" (hardware or
 * software): "printer toner" matches 400, 100 of them reach the cut. */
static void test_cut_set_counted_over_a_docid_prefix(void **state) {
  fixture *f = *state;
  for (int i = 0; i < 400; i++) {
    bool toner = i % 4 == 0;
    put_nth(f->w, "Qn", i, toner ? "printer toner" : "printer paper",
            toner ? (i % 8 ? "software" : "hardware") : "misc", "2024-01-01");
  }
  commit(f->w);
  static const unsigned slots[] = {SLOT_PRODUCT};
  kb_qnode *q = node2(KB_Q_OR, term(KB_Q_TERM, "printer"), term(KB_Q_TERM, "toner"));
  kb_search_opts o = {.limit = 10, .facet_slots = slots, .nfacets = 1, .check_at_least = 100,
                      .relative_cutoff = 0.5};
  kb_results *r = search(f->w, q, &o);
  assert_int_equal(r->nhits, 10);
  assert_false(r->total_exact);
  assert_in_range(r->total, 90, 110);
  assert_int_equal(r->nfacet[0], 2); /* "misc" never reaches the cut */
  assert_in_range(r->facets[0][0].count, 45, 55);
  assert_in_range(r->facets[0][1].count, 45, 55);
  kb_results_free(r);
  o.check_at_least = 1000;
  r = search(f->w, q, &o);
  assert_true(r->total_exact);
  assert_int_equal(r->total, 100);
  assert_int_equal(r->facets[0][0].count, 50);
  assert_int_equal(r->facets[0][1].count, 50);
  kb_results_free(r);
  o.offset = 95; /* a page past the cut's end is empty, the total the same */
  r = search(f->w, q, &o);
  assert_int_equal(r->nhits, 5);
  assert_int_equal(r->total, 100);
  kb_results_free(r);
  kb_qnode_free(q);
}

/* An OR with a window matches only that many of its subqueries (nested
 * ORs' counted as its own), those that can weigh most: the rare ones. */
static void test_or_window_keeps_the_weightiest(void **state) {
  fixture *f = *state;
  for (int i = 0; i < 20; i++)
    put_nth(f->w, "Qc", i, i ? "alpha beta gamma delta" : "alpha beta gamma delta rare1 rare2",
            "misc", "2024-01-01");
  commit(f->w);
  kb_qnode *q = kb_qnode_new(KB_Q_OR, NULL, 0);
  kb_qnode *nested = kb_qnode_new(KB_Q_OR, NULL, 0);
  static const char *const common[] = {"alpha", "beta", "gamma", "delta"};
  for (size_t i = 0; i < 4; i++)
    assert_int_equal(kb_qnode_add(i < 2 ? q : nested, term(KB_Q_TERM, common[i])), KB_OK);
  assert_int_equal(kb_qnode_add(nested, term(KB_Q_TERM, "rare1")), KB_OK);
  assert_int_equal(kb_qnode_add(q, nested), KB_OK);
  assert_int_equal(kb_qnode_add(q, term(KB_Q_TERM, "rare2")), KB_OK);
  kb_search_opts o = {.limit = 30};
  kb_results *r = search(f->w, q, &o);
  assert_int_equal(r->nhits, 20);
  kb_results_free(r);
  q->window = 2; /* 6 subqueries: the two rare ones are kept */
  r = search(f->w, q, &o);
  assert_hits(r, "Qc0");
  kb_results_free(r);
  q->window = 6; /* no more than the window: all of them */
  r = search(f->w, q, &o);
  assert_int_equal(r->nhits, 20);
  kb_results_free(r);
  kb_qnode_free(q);
}

/* A relative cut-off: what weighs less than the fraction of the best match
 * is not a match, in the page, the total and the facets alike, counted by
 * relevance or sorted by date. */
static void test_relative_cutoff(void **state) {
  fixture *f = *state;
  put(f->w, "Qs1", "printer offline printer offline", "hardware", "2021-01-01");
  put(f->w, "Qs2", "printer offline", "hardware", "2022-01-01");
  for (int i = 0; i < 20; i++) /* a stray "printer" in long documents */
    put_nth(f->w, "Qw", i, "printer a b c d e f g h i j k l m n o p q r s t u v w x y z",
            "misc", "2025-01-01");
  commit(f->w);
  static const unsigned slots[] = {SLOT_PRODUCT};
  kb_qnode *q = node2(KB_Q_OR, term(KB_Q_TERM, "printer"), term(KB_Q_TERM, "offline"));
  kb_search_opts o = {.limit = 10, .facet_slots = slots, .nfacets = 1, .check_at_least = 100};
  kb_results *r = search(f->w, q, &o);
  assert_int_equal(r->total, 22); /* no cut-off: everything */
  kb_results_free(r);
  o.relative_cutoff = 0.5;
  for (int by_date = 0; by_date < 2; by_date++) {
    o.sort_by_date = by_date;
    o.date_slot = SLOT_DATE;
    r = search(f->w, q, &o);
    assert_true(r->total_exact);
    assert_int_equal(r->total, 2);
    assert_int_equal(r->nhits, 2);
    assert_int_equal(r->nfacet[0], 1);
    assert_string_equal(r->facets[0][0].value, "hardware");
    assert_int_equal(r->facets[0][0].count, 2);
    kb_results_free(r);
  }
  o = (kb_search_opts){.limit = 10, .relative_cutoff = 0.5}; /* a page alone: trimmed */
  r = search(f->w, q, &o);
  assert_int_equal(r->nhits, 2);
  assert_int_equal(r->total, 2);
  assert_true(r->total_exact);
  kb_results_free(r);
  kb_qnode_free(q);
}

static void test_hit_values(void **state) {
  fixture *f = *state;
  put_corpus(f);
  static const unsigned slots[] = {SLOT_DATE, SLOT_PRODUCT, 9};
  kb_qnode *q = term(KB_Q_TERM, "timeout");
  kb_search_opts o = {.limit = 10, .value_slots = slots, .nvalues = 3};
  kb_results *r = search(f->w, q, &o);
  assert_int_equal(r->nhits, 1);
  assert_int_equal(r->hits[0].nvalues, 3);
  assert_string_equal(r->hits[0].values[0], "2025-03-03");
  assert_int_equal(r->hits[0].value_lens[0], 10);
  assert_string_equal(r->hits[0].values[1], "database");
  assert_string_equal(r->hits[0].values[2], "");
  assert_int_equal(r->hits[0].value_lens[2], 0);
  kb_results_free(r);
  kb_qnode_free(q);
}

static void test_reader_search(void **state) {
  fixture *f = *state;
  put_corpus(f);
  kb_index *r = NULL;
  assert_int_equal(kb_index_open(f->path, KB_INDEX_READ, &r, NULL), KB_OK);
  assert_hit_set(r, term(KB_Q_TERM, "database"), "Qd3,Qd4");
  kb_index_free(r);
}

/* --------------------------------------------------------------- stemmer */

static void test_stemmer(void **state) {
  (void)state;
  kb_stemmer *s = NULL;
  kb_error err = {0};
  assert_int_equal(kb_stemmer_new("english", &s, &err), KB_OK);
  static const char *cases[][2] = {
      {"connections", "connect"}, {"running", "run"}, {"messages", "messag"}, {"driver", "driver"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    kb_buf b = {0};
    assert_int_equal(kb_stemmer_stem(s, cases[i][0], strlen(cases[i][0]), &b), KB_OK);
    assert_string_equal(b.data, cases[i][1]);
    kb_buf_free(&b);
  }
  kb_stemmer_free(s);
  kb_stemmer_free(NULL);
  s = NULL;
  assert_int_not_equal(kb_stemmer_new("klingon", &s, &err), KB_OK);
  assert_null(s);
  assert_true(strlen(err.message) > 0);
}

/* ------------------------------------------------------------ audiences */

static kb_index *reader_for(fixture *f, kb_audience a) {
  kb_index *r = NULL;
  kb_error err = {0};
  if (kb_index_open_for(f->path, a, &r, &err) != KB_OK) fail_msg("open: %s", err.message);
  return r;
}

/* A document for the audiences in who, with a content hash in slot 6. */
static kb_xdoc *doc_for(kb_audiences who, const char *words, const char *hash) {
  kb_xdoc *d = make_doc(words, NULL, NULL, words);
  kb_xdoc_set_audiences(d, who);
  assert_int_equal(kb_xdoc_set_value(d, 6, hash, strlen(hash)), KB_OK);
  return d;
}

/* A document goes to the databases of the audiences it has a version for,
 * and leaves the others': a ticket made internal leaves the public's. */
static void test_replace_routes_by_audience(void **state) {
  fixture *f = *state;
  put_doc(f->w, "Qv", doc_for(KB_AUDIENCES_ALL, "printer offline", "h1"));
  commit(f->w);
  kb_index *pub = reader_for(f, KB_AUDIENCE_PUBLIC);
  assert_int_equal(kb_index_term_freq(pub, "Qv"), 1);
  put_doc(f->w, "Qv", doc_for(1u << KB_AUDIENCE_INTERNAL, "printer offline internal", "h2"));
  commit(f->w);
  assert_int_equal(kb_index_reopen(pub, NULL, NULL), KB_OK);
  assert_int_equal(kb_index_term_freq(pub, "Qv"), 0);
  assert_int_equal(kb_index_term_freq(pub, "printer"), 0);
  assert_int_equal(kb_index_doc_count(pub), 0);
  assert_int_equal(kb_index_term_freq(f->w, "internal"), 1);
  /* public again, then deleted: from every database */
  put_doc(f->w, "Qv", doc_for(KB_AUDIENCES_ALL, "printer offline", "h3"));
  commit(f->w);
  assert_int_equal(kb_index_reopen(pub, NULL, NULL), KB_OK);
  assert_int_equal(kb_index_doc_count(pub), 1);
  bool found = false;
  assert_int_equal(kb_index_delete(f->w, "Qv", &found, NULL), KB_OK);
  assert_true(found);
  commit(f->w);
  assert_int_equal(kb_index_reopen(pub, NULL, NULL), KB_OK);
  assert_int_equal(kb_index_doc_count(pub), 0);
  assert_int_equal(kb_index_doc_count(f->w), 0);
  kb_index_free(pub);
}

/* kb_index_update stores a version only where it changed: a database whose
 * audience sees nothing new keeps its revision. */
static void test_update_touches_changed_databases_only(void **state) {
  fixture *f = *state;
  kb_xdoc *d = doc_for(KB_AUDIENCES_ALL, "printer offline", "same");
  bool changed = false, present = true, same = true;
  assert_int_equal(kb_index_holds(f->w, "Qu", d, 6, &same, &present, NULL), KB_OK);
  assert_false(same);
  assert_false(present);
  assert_int_equal(kb_index_update(f->w, "Qu", d, 6, &changed, &present, NULL), KB_OK);
  assert_true(changed);
  assert_false(present);
  commit(f->w);
  assert_int_equal(kb_index_holds(f->w, "Qu", d, 6, &same, &present, NULL), KB_OK);
  assert_true(same);
  assert_true(present);
  kb_index *pub = reader_for(f, KB_AUDIENCE_PUBLIC);
  uint64_t v = kb_index_version(pub);
  /* the engineers' version changes, the public's does not */
  kb_xdoc *e = doc_for(KB_AUDIENCES_ALL, "printer offline", "same");
  assert_int_equal(kb_xdoc_set_value_for(e, 1u << KB_AUDIENCE_INTERNAL, 6, "new", 3), KB_OK);
  assert_int_equal(kb_xdoc_add_term_for(e, 1u << KB_AUDIENCE_INTERNAL, "Inote", 5, 1), KB_OK);
  assert_int_equal(kb_index_update(f->w, "Qu", e, 6, &changed, &present, NULL), KB_OK);
  assert_true(changed);
  commit(f->w);
  assert_int_equal(kb_index_reopen(pub, NULL, NULL), KB_OK);
  assert_int_equal(kb_index_version(pub), v);
  assert_int_equal(kb_index_term_freq(f->w, "Inote"), 1);
  assert_int_equal(kb_index_update(f->w, "Qu", e, 6, &changed, &present, NULL), KB_OK);
  assert_false(changed);
  kb_xdoc_free(d);
  kb_xdoc_free(e);
  kb_index_free(pub);
}

/* What the writers keep for themselves is committed in the first
 * audience's database only, after the others. */
static void test_writer_meta(void **state) {
  fixture *f = *state;
  assert_int_equal(kb_index_set_writer_meta(f->w, "kb:import:x", "10 2 2", NULL), KB_OK);
  char *v = NULL;
  assert_int_equal(kb_index_get_meta(f->w, "kb:import:x", &v, NULL), KB_OK);
  assert_string_equal(v, "10 2 2"); /* the writer reads what it set */
  free(v);
  commit(f->w);
  kb_index *pub = reader_for(f, KB_AUDIENCE_PUBLIC), *all = reader_for(f, KB_AUDIENCE_INTERNAL);
  assert_int_equal(kb_index_get_meta(all, "kb:import:x", &v, NULL), KB_OK);
  assert_string_equal(v, "10 2 2");
  free(v);
  assert_int_equal(kb_index_get_meta(pub, "kb:import:x", &v, NULL), KB_OK);
  assert_string_equal(v, "");
  free(v);
  assert_int_equal(kb_index_get_meta(pub, "last_commit", &v, NULL), KB_OK);
  assert_string_equal(v, ""); /* the public's database was not committed */
  free(v);
  /* settings every reader uses reach every database */
  assert_int_equal(kb_index_set_meta(f->w, "kb:synonyms", "a = b", NULL), KB_OK);
  commit(f->w);
  assert_int_equal(kb_index_reopen(pub, NULL, NULL), KB_OK);
  assert_int_equal(kb_index_get_meta(pub, "kb:synonyms", &v, NULL), KB_OK);
  assert_string_equal(v, "a = b");
  free(v);
  kb_index_free(pub);
  kb_index_free(all);
}

/* A folder of the layout before audiences is refused, asking for a re-index. */
static void test_old_layout_refused(void **state) {
  fixture *f = *state;
  kb_buf old = {0}, glass = {0};
  kb_buf_printf(&old, "%s/old.db", f->dir);
  kb_buf_printf(&glass, "%s/iamglass", old.data);
  tu_write_str(glass.data, "");
  kb_index *idx = NULL;
  kb_error err = {0};
  assert_int_equal(kb_index_open(old.data, KB_INDEX_READ, &idx, &err), KB_EINDEX);
  assert_true(tu_contains(err.message, "old layout"));
  assert_true(tu_contains(err.message, old.data));
  assert_int_equal(kb_index_open(old.data, KB_INDEX_WRITE, &idx, &err), KB_EINDEX);
  assert_int_equal(kb_index_open_for(old.data, KB_AUDIENCE_PUBLIC, &idx, &err), KB_EINDEX);
  assert_null(idx);
  kb_buf_free(&old);
  kb_buf_free(&glass);
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_open_write_creates),
      T(test_open_read_missing_fails),
      T(test_second_writer_is_locked),
      T(test_second_writer_locked_while_folder_is_swapped),
      cmocka_unit_test(test_free_null),
      T(test_replace_routes_by_audience),
      T(test_update_touches_changed_databases_only),
      T(test_writer_meta),
      T(test_old_layout_refused),
      T(test_exists),
      T(test_replace_by_compaction),
      T(test_one_xdoc_stored_under_two_ids),
      T(test_replace_same_id_keeps_one),
      T(test_delete_found_and_not_found),
      T(test_reader_sees_commit_after_reopen),
      T(test_uncommitted_changes_invisible_to_reader),
      T(test_free_commits_pending_changes),
      T(test_get_data_and_value),
      T(test_each_term_with_prefix),
      T(test_each_value),
      T(test_counts_and_size),
      T(test_metadata),
      T(test_search_term),
      T(test_search_no_match),
      T(test_search_operators),
      T(test_search_phrase_and_near),
      T(test_filter_has_no_weight),
      T(test_scale_changes_ranking),
      T(test_offset_and_limit),
      T(test_sort_by_date),
      T(test_facets_count_whole_match_set),
      T(test_joined_facets_count_as_separate_slots),
      T(test_reader_facets_follow_commits),
      T(test_counts_beyond_check_at_least_are_scaled),
      T(test_cut_set_counted_over_a_docid_prefix),
      T(test_or_window_keeps_the_weightiest),
      T(test_relative_cutoff),
      T(test_hit_values),
      T(test_reader_search),
      cmocka_unit_test(test_stemmer),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
