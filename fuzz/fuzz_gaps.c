/* fuzz_gaps.c — fuzz target: the gap report's file (server/gaps.c), as
 * kb-serve loads it at start-up from beside the index, then counted into
 * and reported. The report is JSON holding at most the table's bound of
 * entries, each with a non-empty query. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The file's folder, made at the first call and removed at exit. */
static char dir[] = "/tmp/kb-fuzz-gaps-XXXXXX";
static char path[64];

static void remove_dir(void) {
  char tmp[80];
  unlink(path);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  unlink(tmp);
  rmdir(dir);
}

static void check(kb_gaps *g) {
  json_t *r = kb_gaps_report(g);
  json_t *list = json_object_get(r, "gaps");
  if (!json_is_array(list) || json_array_size(list) > 1000) abort();
  size_t i;
  json_t *e;
  json_array_foreach(list, i, e) {
    const char *q = json_string_value(json_object_get(e, "query"));
    if (!q || !*q) abort();
  }
  json_decref(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!path[0]) {
    if (!mkdtemp(dir)) abort();
    atexit(remove_dir);
    snprintf(path, sizeof path, "%s/kb.db.gaps.tsv", dir);
  }
  FILE *f = fopen(path, "w");
  if (!f) abort();
  if (fwrite(data, 1, size, f) != size) abort();
  fclose(f);
  kb_gaps *g = kb_gaps_new(path);
  if (!g) abort();
  check(g);
  /* a query the file may hold already, and one it cannot */
  kb_gaps_search(g, "打印机 脱机", false);
  kb_gaps_search(g, "ora-12170", true);
  kb_gaps_click(g, "ora-12170");
  check(g);
  kb_gaps_free(g);
  return 0;
}
