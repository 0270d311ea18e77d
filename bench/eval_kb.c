/* eval_kb.c — kb's relevance on a set of documents and judged queries:
 * indexes the documents through libkb, runs every query through kb_search
 * and prints success@1, success@3, MRR@10, Recall@10 and query latency.
 *
 *   eval_kb --db DIR [options] DOCS.jsonl QUERIES.jsonl|QUERIES.tsv
 *   eval_kb --db DIR [options] --markdown DIR [--dump-docs OUT.jsonl] QUERIES.tsv
 *
 * DOCS.jsonl holds {"id","text"[,"title"]} per line, each stored as a public
 * article with that id. --markdown indexes a folder of articles the way
 * kb-index does (kb_markdown_parse, id relative to the folder); --dump-docs
 * then writes {"id","text"} with each file's raw text, so that the peers
 * (eval_peers) index the same documents under the same ids. Queries are
 * {"id","text","relevant":[ids]} per line, or "query<TAB>expected-id" lines
 * (as tests/data/queries/NAME.tsv). Output: one line of key=value figures;
 * --trace adds, per query on stderr: engine, rank of the first relevant hit
 * (0 = none), query, first relevant id, top hit. --internal searches as an
 * engineer (internal documents and sections too); the default is the public.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "kb/analyze.h"
#include "kb/index.h"
#include "kb/markdown.h"
#include "kb/search.h"

#define TOP_K 10
#define TITLE_CHARS 30

typedef struct options {
  const char *db;
  const char *docs;      /* DOCS.jsonl, or NULL with markdown */
  const char *markdown;  /* folder of articles */
  const char *dump_docs; /* --dump-docs */
  const char *queries;
  const char *query_field;
  const char *title_field;
  size_t limit_queries; /* 0 = all */
  bool internal;        /* search as an engineer */
  bool trace;           /* one line per query on stderr */
  bool reuse;           /* keep the index at --db when there is one */
  const char *lexicon;  /* --lexicon: extra words, kept in the index as kb-index does */
} options;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ------------------------------------------------------------- queries */

typedef struct query {
  char *text;
  char **relevant;
  size_t nrelevant;
} query;

typedef struct query_set {
  query *v;
  size_t n, cap;
} query_set;

static void queries_free(query_set *qs) {
  for (size_t i = 0; i < qs->n; i++) {
    free(qs->v[i].text);
    for (size_t k = 0; k < qs->v[i].nrelevant; k++) free(qs->v[i].relevant[k]);
    free(qs->v[i].relevant);
  }
  free(qs->v);
  *qs = (query_set){0};
}

/* A new query (text copied); NULL when out of memory. */
static query *queries_push(query_set *qs, const char *text) {
  if (qs->n == qs->cap) {
    size_t cap = qs->cap ? qs->cap * 2 : 256;
    query *v = realloc(qs->v, cap * sizeof *v);
    if (!v) return NULL;
    qs->v = v;
    qs->cap = cap;
  }
  query *q = &qs->v[qs->n];
  *q = (query){.text = strdup(text)};
  if (!q->text) return NULL;
  qs->n++;
  return q;
}

static int query_add_relevant(query *q, const char *id) {
  char **v = realloc(q->relevant, (q->nrelevant + 1) * sizeof *v);
  if (!v) return -1;
  q->relevant = v;
  if (!(v[q->nrelevant] = strdup(id))) return -1;
  q->nrelevant++;
  return 0;
}

/* Reads queries.jsonl or a .tsv of "query<TAB>expected-id" lines. */
static int load_queries(const options *o, query_set *qs) {
  FILE *f = fopen(o->queries, "r");
  if (!f) {
    fprintf(stderr, "eval_kb: cannot open %s\n", o->queries);
    return -1;
  }
  bool tsv = ends_with(o->queries, ".tsv");
  char *line = NULL;
  size_t cap = 0, lineno = 0;
  int rc = 0;
  while (rc == 0 && getline(&line, &cap, f) > 0) {
    lineno++;
    if (o->limit_queries && qs->n == o->limit_queries) break;
    line[strcspn(line, "\r\n")] = '\0';
    if (!*line || *line == '#') continue;
    if (tsv) {
      char *tab = strchr(line, '\t');
      if (!tab) continue;
      *tab = '\0';
      query *q = queries_push(qs, line);
      if (!q || query_add_relevant(q, tab + 1) != 0) rc = -1;
      continue;
    }
    json_error_t jerr;
    json_t *o_line = json_loads(line, 0, &jerr);
    const char *text = json_string_value(json_object_get(o_line, o->query_field));
    json_t *rel = json_object_get(o_line, "relevant");
    if (!text || !json_is_array(rel)) {
      fprintf(stderr, "eval_kb: %s:%zu: no \"%s\" or \"relevant\", skipped\n", o->queries,
              lineno, o->query_field);
      json_decref(o_line);
      continue;
    }
    query *q = queries_push(qs, text);
    size_t k;
    json_t *id;
    json_array_foreach(rel, k, id) {
      if (q && json_is_string(id) && query_add_relevant(q, json_string_value(id)) != 0) q = NULL;
    }
    if (!q) rc = -1;
    json_decref(o_line);
  }
  free(line);
  fclose(f);
  if (rc != 0) fprintf(stderr, "eval_kb: out of memory reading %s\n", o->queries);
  return rc;
}

/* ------------------------------------------------------------ indexing */

typedef struct indexer {
  kb_index *idx;
  kb_tokenizer *tok;
  FILE *dump; /* --dump-docs, or NULL */
  size_t skipped;
} indexer;

/* Analyses doc (which has its id) and stores it under its id term. */
static int store_doc(indexer *ix, kb_doc *doc) {
  kb_error err = {0};
  kb_xdoc *xd = NULL;
  kb_buf term = {0};
  int rc = kb_id_term(kb_doc_get(doc, KB_FIELD_ID), &term);
  if (rc == KB_OK) rc = kb_analyze_doc(ix->tok, doc, &xd, &err);
  if (rc == KB_OK) rc = kb_index_replace(ix->idx, term.data, xd, &err);
  if (rc != KB_OK) {
    ix->skipped++;
    fprintf(stderr, "eval_kb: %s: %s\n", kb_doc_get(doc, KB_FIELD_ID),
            err.message[0] ? err.message : kb_strerror(rc));
  }
  kb_xdoc_free(xd);
  kb_buf_free(&term);
  return rc;
}

/* The first TITLE_CHARS characters of text (valid UTF-8) as its title. */
static size_t title_prefix_len(const char *text, size_t len) {
  size_t i = 0;
  for (int n = 0; n < TITLE_CHARS && i < len; n++) kb_utf8_next(text, len, &i);
  return i;
}

/* One line of docs.jsonl into a public article. */
static void index_json_doc(indexer *ix, const options *o, const char *line, size_t lineno) {
  json_error_t jerr;
  json_t *j = json_loads(line, 0, &jerr);
  const char *id = json_string_value(json_object_get(j, "id"));
  json_t *jtext = json_object_get(j, "text");
  if (!id || !json_is_string(jtext)) {
    fprintf(stderr, "eval_kb: %s:%zu: no \"id\" or \"text\", skipped\n", o->docs, lineno);
    ix->skipped++;
    json_decref(j);
    return;
  }
  const char *text = json_string_value(jtext);
  size_t len = json_string_length(jtext);
  json_t *jtitle = json_object_get(j, o->title_field);
  const char *title = json_string_value(jtitle);
  size_t title_len = title ? json_string_length(jtitle) : 0;
  kb_doc *doc = kb_doc_new();
  int rc = doc ? KB_OK : KB_ENOMEM;
  if (rc == KB_OK) rc = kb_doc_set_str(doc, KB_FIELD_ID, id);
  if (rc == KB_OK) rc = kb_doc_set_str(doc, KB_FIELD_TYPE, "article");
  if (rc == KB_OK) rc = kb_doc_set_str(doc, KB_FIELD_VISIBILITY, "public");
  if (rc == KB_OK && title_len) rc = kb_doc_set(doc, KB_FIELD_TITLE, title, title_len);
  else if (rc == KB_OK) rc = kb_doc_set(doc, KB_FIELD_TITLE, text, title_prefix_len(text, len));
  if (rc == KB_OK && title_len) rc = kb_doc_add_segment(doc, KB_SEG_TITLE, false, title, title_len);
  if (rc == KB_OK) rc = kb_doc_add_segment(doc, KB_SEG_BODY, false, text, len);
  if (rc == KB_OK) store_doc(ix, doc);
  else ix->skipped++;
  kb_doc_free(doc);
  json_decref(j);
}

static int index_jsonl(indexer *ix, const options *o) {
  FILE *f = fopen(o->docs, "r");
  if (!f) {
    fprintf(stderr, "eval_kb: cannot open %s\n", o->docs);
    return -1;
  }
  char *line = NULL;
  size_t cap = 0, lineno = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, f)) > 0) {
    lineno++;
    if (n > 1) index_json_doc(ix, o, line, lineno);
  }
  free(line);
  fclose(f);
  return 0;
}


/* {"id","text"} of an indexed article, for the peers. */
static void dump_doc(indexer *ix, const char *id, const kb_buf *src) {
  if (!ix->dump) return;
  json_t *o = json_pack("{s:s, s:s%}", "id", id, "text", src->data ? src->data : "", src->len);
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  if (s) fprintf(ix->dump, "%s\n", s);
  free(s);
  json_decref(o);
}

/* One article, as kb-index adds it: id from the front matter, else from
 * its path relative to the folder. */
static void index_article(indexer *ix, const char *path, const char *rel) {
  kb_buf src = {0}, id = {0};
  kb_doc *doc = NULL;
  kb_error err = {0};
  if (kb_buf_read_file(&src, path, 0, NULL) != KB_OK) {
    fprintf(stderr, "eval_kb: cannot read %s\n", path);
    ix->skipped++;
    goto out;
  }
  if (kb_markdown_parse(src.data ? src.data : "", src.len, path, &doc, &err) != KB_OK) {
    fprintf(stderr, "eval_kb: skipped %s\n", err.message);
    ix->skipped++;
    goto out;
  }
  if (kb_doc_get(doc, KB_FIELD_ID)) kb_buf_puts(&id, kb_doc_get(doc, KB_FIELD_ID));
  else kb_markdown_article_id(rel, &id);
  kb_doc_set_str(doc, KB_FIELD_ID, id.data);
  if (store_doc(ix, doc) == KB_OK) dump_doc(ix, id.data, &src);
out:
  kb_doc_free(doc);
  kb_buf_free(&src);
  kb_buf_free(&id);
}

static int eval_file(const char *path, const char *rel, const char *why, void *ctx) {
  if (!why) index_article(ctx, path, rel);
  return 0;
}

static int build_index(const options *o, size_t *docs) {
  indexer ix = {0};
  kb_error err = {0};
  kb_lexicon *lex = NULL;
  int rc = kb_index_open(o->db, KB_INDEX_WRITE, &ix.idx, &err);
  if (rc == KB_OK) rc = kb_lexicon_new_builtin("lexicon", &lex, &err);
  if (rc == KB_OK && o->lexicon) {
    kb_buf text = {0};
    rc = kb_buf_read_file(&text, o->lexicon, 0, &err);
    if (rc == KB_OK) rc = kb_lexicon_add_text(lex, text.data, text.len);
    if (rc == KB_OK) rc = kb_index_set_meta(ix.idx, KB_META_LEXICON, text.data, &err);
    kb_buf_free(&text);
  }
  if (rc == KB_OK) rc = kb_tokenizer_new(lex, &ix.tok, &err);
  struct stat st;
  if (rc == KB_OK && o->markdown && (stat(o->markdown, &st) != 0 || !S_ISDIR(st.st_mode)))
    rc = kb_error_set(&err, KB_ENOENT, "%s: not a folder", o->markdown);
  if (rc == KB_OK && o->dump_docs && !(ix.dump = fopen(o->dump_docs, "w")))
    rc = kb_error_set(&err, KB_EIO, "cannot write %s", o->dump_docs);
  if (rc == KB_OK) {
    if (o->markdown) kb_markdown_each_file(o->markdown, eval_file, &ix);
    else if (index_jsonl(&ix, o) != 0) rc = KB_EIO;
  }
  if (rc == KB_OK) rc = kb_index_commit(ix.idx, &err);
  if (rc == KB_OK) *docs = kb_index_doc_count(ix.idx); /* a repeated id replaced the earlier */
  if (rc != KB_OK && err.message[0]) fprintf(stderr, "eval_kb: %s\n", err.message);
  if (ix.skipped) fprintf(stderr, "eval_kb: %zu documents skipped\n", ix.skipped);
  if (ix.dump) fclose(ix.dump);
  kb_tokenizer_free(ix.tok);
  kb_lexicon_free(lex);
  kb_index_free(ix.idx);
  return rc;
}

/* ----------------------------------------------------------- measuring */

typedef struct scores {
  size_t scored, errors, empty;
  double s1, s3, mrr, recall;
  double *lat;
  size_t nlat;
} scores;

static bool is_relevant(const query *q, const char *id) {
  for (size_t k = 0; id && k < q->nrelevant; k++)
    if (strcmp(q->relevant[k], id) == 0) return true;
  return false;
}

/* Adds one query's ranked hit ids (the first TOP_K count); returns the rank
 * of the first relevant one (0 = none). */
static size_t score_query(scores *sc, const query *q, char *const *ids, size_t n) {
  size_t first = 0, found = 0;
  for (size_t i = 0; i < n && i < TOP_K; i++) {
    bool dup = false;
    for (size_t k = 0; k < i && !dup; k++) dup = ids[k] && ids[i] && strcmp(ids[k], ids[i]) == 0;
    if (dup || !is_relevant(q, ids[i])) continue;
    found++;
    if (!first) first = i + 1;
  }
  sc->scored++;
  if (first == 1) sc->s1++;
  if (first >= 1 && first <= 3) sc->s3++;
  if (first) sc->mrr += 1.0 / (double)first;
  sc->recall += (double)found / (double)q->nrelevant;
  return first;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v. */
static double percentile(const double *v, size_t n, double p) {
  if (!n) return 0;
  size_t r = (size_t)(p * (double)n + 0.999999);
  return v[r ? r - 1 : 0];
}

static int run_queries(const options *o, const query_set *qs, scores *sc) {
  kb_error err = {0};
  kb_searcher *s;
  if (kb_searcher_new(o->db, &s, &err) != KB_OK) {
    fprintf(stderr, "eval_kb: %s\n", err.message);
    return -1;
  }
  sc->lat = malloc((qs->n ? qs->n : 1) * sizeof *sc->lat);
  char *ids[TOP_K];
  for (size_t i = 0; sc->lat && i < qs->n; i++) {
    const query *q = &qs->v[i];
    if (!q->nrelevant) continue;
    kb_search_request req = {.query = q->text, .query_len = strlen(q->text),
                             .include_internal = o->internal, .limit = TOP_K};
    kb_search_response *r = NULL;
    double t0 = now_ms();
    int rc = kb_search(s, &req, &r, &err);
    sc->lat[sc->nlat++] = now_ms() - t0;
    size_t n = 0;
    if (rc == KB_OK) {
      for (; n < r->nhits && n < TOP_K; n++) ids[n] = r->hits[n].id;
      if (!r->nhits) sc->empty++;
    } else {
      sc->errors++;
      fprintf(stderr, "eval_kb: query %s: %s\n", q->text, err.message);
    }
    size_t first = score_query(sc, q, ids, n);
    if (o->trace)
      fprintf(stderr, "trace\tkb\t%zu\t%s\t%s\t%s\n", first, q->text, q->relevant[0],
              n ? ids[0] : rc == KB_OK ? "-" : "ERROR");
    kb_search_response_free(r);
  }
  kb_searcher_free(s);
  return sc->lat ? 0 : -1;
}

/* ---------------------------------------------------------------- main */

static int usage(void) {
  fprintf(stderr,
          "usage: eval_kb --db DIR [--limit-queries N] [--query-field text|text_long]\n"
          "               [--title-field NAME] [--internal] [--trace] [--reuse] DOCS.jsonl QUERIES.jsonl|.tsv\n"
          "       eval_kb --db DIR [--limit-queries N] [--internal] [--trace] --markdown DIR\n"
          "               [--dump-docs OUT.jsonl] QUERIES.tsv|.jsonl\n");
  return 2;
}

static int parse_args(int argc, char **argv, options *o) {
  *o = (options){.query_field = "text", .title_field = "title"};
  const char *pos[2];
  int npos = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has_val = i + 1 < argc;
    if (strcmp(a, "--db") == 0 && has_val) o->db = argv[++i];
    else if (strcmp(a, "--markdown") == 0 && has_val) o->markdown = argv[++i];
    else if (strcmp(a, "--dump-docs") == 0 && has_val) o->dump_docs = argv[++i];
    else if (strcmp(a, "--query-field") == 0 && has_val) o->query_field = argv[++i];
    else if (strcmp(a, "--title-field") == 0 && has_val) o->title_field = argv[++i];
    else if (strcmp(a, "--limit-queries") == 0 && has_val)
      o->limit_queries = strtoul(argv[++i], NULL, 10);
    else if (strcmp(a, "--internal") == 0) o->internal = true;
    else if (strcmp(a, "--lexicon") == 0 && has_val) o->lexicon = argv[++i];
    else if (strcmp(a, "--trace") == 0) o->trace = true;
    else if (strcmp(a, "--reuse") == 0) o->reuse = true;
    else if (a[0] == '-' || npos == 2) return -1;
    else pos[npos++] = a;
  }
  if (!o->db || npos != (o->markdown ? 1 : 2)) return -1;
  if (o->markdown) {
    o->queries = pos[0];
  } else {
    o->docs = pos[0];
    o->queries = pos[1];
  }
  return 0;
}

int main(int argc, char **argv) {
  options o;
  if (parse_args(argc, argv, &o) != 0) return usage();
  query_set qs = {0};
  scores sc = {0};
  size_t docs = 0;
  int status = 1;
  if (load_queries(&o, &qs) != 0) goto out;
  double t0 = now_ms();
  /* --reuse: an index left by an earlier run, for trying query-side changes */
  if (!(o.reuse && kb_index_exists(o.db)) && build_index(&o, &docs) != KB_OK) goto out;
  double index_s = (now_ms() - t0) / 1e3;
  if (run_queries(&o, &qs, &sc) != 0) goto out;
  double mean = 0;
  for (size_t i = 0; i < sc.nlat; i++) mean += sc.lat[i];
  qsort(sc.lat, sc.nlat, sizeof *sc.lat, cmp_double);
  double n = sc.scored ? (double)sc.scored : 1;
  printf("engine=kb docs=%zu queries=%zu s1=%.4f s3=%.4f mrr10=%.4f r10=%.4f mean_ms=%.3f "
         "p50_ms=%.3f p99_ms=%.3f index_s=%.2f no_result=%zu errors=%zu\n",
         docs, sc.scored, sc.s1 / n, sc.s3 / n, sc.mrr / n, sc.recall / n,
         sc.nlat ? mean / (double)sc.nlat : 0, percentile(sc.lat, sc.nlat, 0.50),
         percentile(sc.lat, sc.nlat, 0.99), index_s, sc.empty, sc.errors);
  status = 0;
out:
  free(sc.lat);
  queries_free(&qs);
  return status;
}
