/* gaps.c — the gap report's table: one entry per normalised query, at most
 * MAX_GAPS (the rarest, oldest makes room), written to its file at most
 * every SAVE_EVERY seconds and at exit, never on a request's critical path
 * more often than that. */
#include "gaps.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kb/text.h"

#define MAX_GAPS 1000
#define SAVE_EVERY 5 /* seconds */
#define FILE_HEADER "#kb-gaps 2: misses searches clicks last_seen query\n"

typedef struct gap {
  char *query;
  unsigned long misses;   /* searches that found nothing */
  unsigned long searches; /* searches that found something */
  unsigned long clicks;   /* results opened */
  long last_seen;         /* unix time */
} gap;

struct kb_gaps {
  pthread_mutex_t lock;
  gap *items;
  size_t n;
  char *path;
  bool dirty;
  long saved_at;
};

static void save(kb_gaps *g) {
  if (!g->path || !g->dirty) return;
  kb_buf tmp = {0};
  kb_buf_printf(&tmp, "%s.tmp", g->path);
  FILE *f = fopen(tmp.data, "w");
  if (f) {
    fputs(FILE_HEADER, f);
    for (size_t i = 0; i < g->n; i++)
      fprintf(f, "%lu\t%lu\t%lu\t%ld\t%s\n", g->items[i].misses, g->items[i].searches,
              g->items[i].clicks, g->items[i].last_seen, g->items[i].query);
    if (fclose(f) == 0 && rename(tmp.data, g->path) == 0) g->dirty = false;
  }
  g->saved_at = (long)time(NULL);
  kb_buf_free(&tmp);
}

static bool push(kb_gaps *g, gap v) {
  gap *items = realloc(g->items, (g->n + 1) * sizeof *items);
  if (!items) return false;
  g->items = items;
  g->items[g->n++] = v;
  return true;
}

/* The current format, or the first one (misses, last_seen, query). */
static void load(kb_gaps *g) {
  FILE *f = fopen(g->path, "r");
  if (!f) return;
  char line[2048];
  bool v2 = false;
  for (size_t lineno = 0; g->n < MAX_GAPS && fgets(line, sizeof line, f); lineno++) {
    if (lineno == 0 && strcmp(line, FILE_HEADER) == 0) {
      v2 = true;
      continue;
    }
    line[strcspn(line, "\n")] = '\0';
    gap v = {0};
    int off = 0;
    bool ok = v2 ? sscanf(line, "%lu\t%lu\t%lu\t%ld\t%n", &v.misses, &v.searches, &v.clicks,
                          &v.last_seen, &off) == 4
                 : sscanf(line, "%lu\t%ld\t%n", &v.misses, &v.last_seen, &off) == 2;
    if (!ok || !off || !line[off] || !(v.query = strdup(line + off))) continue;
    if (!push(g, v)) free(v.query);
  }
  fclose(f);
}

kb_gaps *kb_gaps_new(const char *path) {
  kb_gaps *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  pthread_mutex_init(&g->lock, NULL);
  if (path && !(g->path = strdup(path))) {
    kb_gaps_free(g);
    return NULL;
  }
  if (g->path) load(g);
  return g;
}

void kb_gaps_free(kb_gaps *g) {
  if (!g) return;
  save(g);
  for (size_t i = 0; i < g->n; i++) free(g->items[i].query);
  free(g->items);
  free(g->path);
  pthread_mutex_destroy(&g->lock);
  free(g);
}

/* What looks like personal data: an e-mail address, 11 digits or more in a
 * row, or groups of digits split by one space or dash that make a phone or
 * ID card number (11, 15 or 18 digits, the last may be x: 138-0013-8000),
 * not any codes side by side (`1603 1618 1722`). Asked of the folded text,
 * where full-width digits and ＠ are ASCII. */
static bool personal(const char *text) {
  if (strchr(text, '@')) return true;
  size_t run = 0, grouped = 0, groups = 0;
  for (const char *p = text;; p++) {
    if (*p >= '0' && *p <= '9') {
      if (!run++) groups++;
      grouped++;
      if (run >= 11) return true;
      continue;
    }
    bool joins = run && (*p == ' ' || *p == '-') && p[1] >= '0' && p[1] <= '9';
    run = 0;
    if (joins) continue;
    if (*p == 'x' && grouped == 17) grouped++; /* an ID card's check digit */
    if (groups >= 2 && (grouped == 11 || grouped == 15 || grouped == 18)) return true;
    grouped = groups = 0;
    if (!*p) return false;
  }
}

/* Folded, whitespace collapsed; false for what the report must not keep:
 * over 200 bytes, invalid UTF-8, or personal data. */
static bool normalise(const char *query, kb_buf *norm) {
  size_t len = strlen(query);
  if (!len || len > 200 || !kb_utf8_valid(query, len, NULL)) return false;
  kb_buf folded = {0};
  bool ok = kb_text_fold(query, len, &folded, NULL) == KB_OK && folded.data &&
            !personal(folded.data);
  for (size_t i = 0; ok && i < folded.len; i++) {
    char ch = folded.data[i];
    bool space = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
    if (space && (!norm->len || norm->data[norm->len - 1] == ' ')) continue;
    kb_buf_putc(norm, space ? ' ' : ch);
  }
  while (norm->len && norm->data[norm->len - 1] == ' ') norm->data[--norm->len] = '\0';
  kb_buf_free(&folded);
  return ok && norm->len;
}

/* The entry of a normalised query, made if absent; under the lock. */
static gap *entry(kb_gaps *g, kb_buf *norm) {
  for (size_t i = 0; i < g->n; i++)
    if (strcmp(g->items[i].query, norm->data) == 0) return &g->items[i];
  if (g->n == MAX_GAPS) {
    size_t victim = 0;
    for (size_t i = 1; i < g->n; i++) {
      unsigned long a = g->items[i].misses + g->items[i].searches,
                    b = g->items[victim].misses + g->items[victim].searches;
      if (a < b || (a == b && g->items[i].last_seen < g->items[victim].last_seen)) victim = i;
    }
    free(g->items[victim].query);
    g->items[victim] = g->items[--g->n];
  }
  char *q = kb_buf_detach(norm);
  if (!q || !push(g, (gap){.query = q})) {
    free(q);
    return NULL;
  }
  return &g->items[g->n - 1];
}

static void count(kb_gaps *g, const char *query, int what) {
  kb_buf norm = {0};
  if (!g || !normalise(query, &norm)) {
    kb_buf_free(&norm);
    return;
  }
  pthread_mutex_lock(&g->lock);
  gap *e = entry(g, &norm);
  if (e) {
    if (what == 0) e->misses++;
    else if (what == 1) e->searches++;
    else e->clicks++;
    e->last_seen = (long)time(NULL);
    g->dirty = true;
    if (e->last_seen - g->saved_at >= SAVE_EVERY) save(g);
  }
  pthread_mutex_unlock(&g->lock);
  kb_buf_free(&norm);
}

void kb_gaps_search(kb_gaps *g, const char *query, bool found) { count(g, query, found ? 1 : 0); }

void kb_gaps_click(kb_gaps *g, const char *query) { count(g, query, 2); }

static unsigned long weight(const gap *e) { return e->misses ? e->misses : e->searches; }

static int by_weight(const void *a, const void *b) {
  unsigned long x = weight(*(const gap *const *)a), y = weight(*(const gap *const *)b);
  return x < y ? 1 : x > y ? -1 : 0;
}

json_t *kb_gaps_report(kb_gaps *g) {
  json_t *list = json_array();
  pthread_mutex_lock(&g->lock);
  const gap **sel = calloc(g->n ? g->n : 1, sizeof *sel);
  size_t n = 0;
  for (size_t i = 0; sel && i < g->n; i++)
    if (g->items[i].misses || (g->items[i].searches && !g->items[i].clicks)) sel[n++] = &g->items[i];
  if (n) qsort(sel, n, sizeof *sel, by_weight);
  for (size_t i = 0; i < n; i++)
    json_array_append_new(
        list, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "query", sel[i]->query, "reason",
                        sel[i]->misses ? "no_results" : "no_click", "count",
                        (json_int_t)weight(sel[i]), "searches",
                        (json_int_t)(sel[i]->misses + sel[i]->searches), "clicks",
                        (json_int_t)sel[i]->clicks, "last_seen", (json_int_t)sel[i]->last_seen));
  pthread_mutex_unlock(&g->lock);
  free(sel);
  return json_pack("{s:o}", "gaps", list);
}
