/* kb_bench.c — kb's indexing throughput over a folder of Markdown, and
 * in-process query latency. Prints one line of key=value figures per phase.
 *
 *   kb_bench index DIR DB          index every .md under DIR into DB
 *   kb_bench query DB QUERIES N [engineer]
 *                                  run each query (one per line) N times, as
 *                                  the public or as an engineer
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "kb/analyze.h"
#include "kb/index.h"
#include "kb/markdown.h"
#include "kb/search.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

typedef struct bench {
  kb_index *idx;
  kb_tokenizer *tok;
  size_t docs, bytes, skipped;
  double analyse_s, write_s;
} bench;

static void index_file(bench *b, const char *path, const char *rel) {
  kb_buf src = {0};
  if (kb_buf_read_file(&src, path, 0, NULL) != KB_OK) {
    kb_buf_free(&src);
    return;
  }
  kb_doc *doc = NULL;
  kb_xdoc *xd = NULL;
  kb_error err = {0};
  double t0 = now_s();
  if (kb_markdown_parse(src.data ? src.data : "", src.len, path, &doc, &err) != KB_OK) {
    b->skipped++;
    kb_buf_free(&src);
    return;
  }
  kb_buf id = {0}, term = {0};
  kb_markdown_article_id(rel, &id);
  kb_doc_set_str(doc, KB_FIELD_ID, id.data);
  kb_id_term(id.data, &term);
  int rc = kb_analyze_doc(b->tok, doc, &xd, &err);
  double t1 = now_s();
  if (rc == KB_OK) rc = kb_index_replace(b->idx, term.data, xd, &err);
  b->write_s += now_s() - t1;
  b->analyse_s += t1 - t0;
  if (rc == KB_OK) {
    b->docs++;
    b->bytes += src.len;
  }
  kb_xdoc_free(xd);
  kb_doc_free(doc);
  kb_buf_free(&src);
  kb_buf_free(&id);
  kb_buf_free(&term);
}

static int bench_file(const char *path, const char *rel, const char *why, void *ctx) {
  if (!why) index_file(ctx, path, rel);
  return 0;
}

static int cmd_index(const char *dir, const char *db) {
  bench b = {0};
  kb_error err = {0};
  kb_lexicon *lex = NULL;
  if (kb_index_open(db, KB_INDEX_WRITE, &b.idx, &err) != KB_OK ||
      kb_lexicon_new_builtin("lexicon", &lex, &err) != KB_OK ||
      kb_tokenizer_new(lex, &b.tok, &err) != KB_OK) {
    fprintf(stderr, "kb_bench: %s\n", err.message);
    return 1;
  }
  double t0 = now_s();
  kb_markdown_each_file(dir, bench_file, &b);
  double tc = now_s();
  kb_index_commit(b.idx, &err);
  double t1 = now_s();
  double secs = t1 - t0;
  printf("engine=kb docs=%zu mb=%.2f seconds=%.3f docs_per_s=%.0f mb_per_s=%.2f "
         "analyse_s=%.3f write_s=%.3f commit_s=%.3f peak_rss_mb=%.1f size_mb=%.2f\n",
         b.docs, (double)b.bytes / 1e6, secs, (double)b.docs / secs,
         (double)b.bytes / 1e6 / secs, b.analyse_s, b.write_s, t1 - tc,
         (double)peak_rss_kb() / 1024.0, (double)kb_index_size_bytes(b.idx) / 1e6);
  kb_tokenizer_free(b.tok);
  kb_lexicon_free(lex);
  kb_index_free(b.idx);
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int cmd_query(const char *db, const char *qfile, int rounds, bool engineer) {
  kb_error err = {0};
  kb_searcher *s;
  /* the database of the reader's audience, as kb-serve opens it */
  kb_audience a = engineer ? KB_AUDIENCE_INTERNAL : KB_AUDIENCE_PUBLIC;
  if (kb_searcher_new_for(db, a, &s, &err) != KB_OK) {
    fprintf(stderr, "kb_bench: %s\n", err.message);
    return 1;
  }
  FILE *f = fopen(qfile, "r");
  if (!f) return 1;
  char **qs = NULL;
  size_t nq = 0;
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\t\r\n")] = '\0';
    if (!*line) continue;
    qs = realloc(qs, (nq + 1) * sizeof *qs);
    qs[nq++] = strdup(line);
  }
  fclose(f);
  double *lat = malloc(sizeof(double) * nq * (size_t)rounds);
  size_t n = 0;
  for (int r = 0; r < rounds; r++)
    for (size_t i = 0; i < nq; i++) {
      kb_search_request req = {.query = qs[i], .query_len = strlen(qs[i]), .limit = 10,
                               .facets = true, .include_internal = engineer};
      kb_search_response *resp = NULL;
      double t0 = now_s();
      if (kb_search(s, &req, &resp, &err) == KB_OK) lat[n++] = (now_s() - t0) * 1e3;
      kb_search_response_free(resp);
    }
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += lat[i];
  qsort(lat, n, sizeof *lat, cmp_double);
  printf("engine=kb queries=%zu runs=%zu mean_ms=%.3f median_ms=%.3f p99_ms=%.3f max_ms=%.3f "
         "(facets and snippets on)\n",
         nq, n, n ? sum / (double)n : 0, n ? lat[n / 2] : 0,
         n ? lat[(size_t)((double)n * 0.99)] : 0, n ? lat[n - 1] : 0);
  for (size_t i = 0; i < nq; i++) free(qs[i]);
  free(qs);
  free(lat);
  kb_searcher_free(s);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "index") == 0) return cmd_index(argv[2], argv[3]);
  if ((argc == 5 || argc == 6) && strcmp(argv[1], "query") == 0)
    return cmd_query(argv[2], argv[3], atoi(argv[4]), argc == 6 && !strcmp(argv[5], "engineer"));
  fprintf(stderr, "usage: kb_bench index DIR DB | kb_bench query DB QUERIES ROUNDS [engineer]\n");
  return 2;
}
