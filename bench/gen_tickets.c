/* gen_tickets.c — a synthetic ticket export for the import benchmark:
 * N JSONL records of realistic length (problem + resolution ≈ 1 KB, mostly
 * Chinese), built from the sentences of a folder of Markdown (the shipped
 * articles) with a fixed seed, so every run gets the same corpus.
 *
 *   gen_tickets DIR N > tickets.jsonl
 */
#include <dirent.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kb/text.h"

typedef struct pool {
  char **s;
  size_t n, cap;
} pool;

static void add_sentence(pool *p, const char *s, size_t len) {
  while (len && (*s == ' ' || *s == '#' || *s == '-' || *s == '*' || *s == '>')) s++, len--;
  if (len < 12 || len > 400 || !kb_utf8_valid(s, len, NULL)) return;
  if (p->n == p->cap) {
    p->cap = p->cap ? p->cap * 2 : 1024;
    p->s = realloc(p->s, p->cap * sizeof *p->s);
  }
  p->s[p->n++] = strndup(s, len);
}

/* Splits a file into sentences at 。！？ and line ends. */
static void read_sentences(pool *p, const char *path) {
  kb_buf b = {0};
  if (kb_buf_read_file(&b, path, 0, NULL) != KB_OK) {
    kb_buf_free(&b);
    return;
  }
  size_t start = 0;
  for (size_t i = 0; i < b.len;) {
    size_t at = i;
    int32_t c = kb_utf8_next(b.data, b.len, &i);
    if (c == '\n' || c == 0x3002 || c == 0xFF01 || c == 0xFF1F) {
      add_sentence(p, b.data + start, (c == '\n' ? at : i) - start);
      start = i;
    }
  }
  kb_buf_free(&b);
}

static void walk(pool *p, const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat st;
    if (stat(path, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) walk(p, path);
    else if (strstr(e->d_name, ".md")) read_sentences(p, path);
  }
  closedir(d);
}

static uint64_t rng = 20240501;
static uint32_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng >> 11);
}

static void text_of(const pool *p, size_t target, kb_buf *out) {
  kb_buf_reset(out);
  while (out->len < target) kb_buf_puts(out, p->s[next() % p->n]);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: gen_tickets DIR N\n");
    return 2;
  }
  pool p = {0};
  walk(&p, argv[1]);
  if (!p.n) {
    fprintf(stderr, "gen_tickets: no sentences under %s\n", argv[1]);
    return 1;
  }
  static const char *products[] = {"database", "appserver", "storage", "network", "os",
                                   "printing", "backup",    "platform"};
  static const char *categories[] = {"installation", "maintenance", "migration",  "upgrade",
                                     "expansion",    "emergency",   "consulting", "remote-diagnosis"};
  long n = atol(argv[2]);
  kb_buf title = {0}, problem = {0}, resolution = {0};
  for (long i = 0; i < n; i++) {
    text_of(&p, 10, &title);
    text_of(&p, 550, &problem);
    text_of(&p, 450, &resolution);
    char closed[32];
    snprintf(closed, sizeof closed, "20%02u-%02u-%02u 1%u:%02u:00", 20 + next() % 6, 1 + next() % 12,
             1 + next() % 28, next() % 10, next() % 60);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", "", "title", title.data,
                          "problem", problem.data, "resolution", resolution.data, "product",
                          products[next() % 8], "category", categories[next() % 8], "priority",
                          (const char *[]){"P1", "P2", "P3", "P4"}[next() % 4], "closed", closed);
    char id[32];
    snprintf(id, sizeof id, "B%08ld", i);
    json_object_set_new(o, "id", json_string(id));
    char *line = json_dumps(o, JSON_COMPACT);
    puts(line);
    free(line);
    json_decref(o);
  }
  kb_buf_free(&title);
  kb_buf_free(&problem);
  kb_buf_free(&resolution);
  for (size_t i = 0; i < p.n; i++) free(p.s[i]);
  free(p.s);
  return 0;
}
