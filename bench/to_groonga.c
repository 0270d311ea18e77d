/* to_groonga.c — ticket JSONL (as bench/gen_tickets writes it) into a
 * Groonga `load` command over the same records, for bench/load_bench:
 * title, body (problem and resolution), product, category, priority.
 *
 *   to_groonga < tickets.jsonl > load.grn
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *field(json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "";
}

int main(void) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  bool first = true;
  fputs("load --table Tickets\n[\n", stdout);
  while ((n = getline(&line, &cap, stdin)) > 0) {
    json_t *o = json_loadb(line, (size_t)n, 0, NULL);
    if (!o) continue;
    const char *problem = field(o, "problem"), *resolution = field(o, "resolution");
    size_t plen = strlen(problem), rlen = strlen(resolution);
    char *body = malloc(plen + rlen + 2);
    memcpy(body, problem, plen);
    body[plen] = '\n';
    memcpy(body + plen + 1, resolution, rlen + 1);
    json_t *r = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "_key", field(o, "id"), "title",
                          field(o, "title"), "body", body, "product", field(o, "product"),
                          "category", field(o, "category"), "priority", field(o, "priority"));
    char *s = json_dumps(r, JSON_COMPACT);
    printf("%s%s", first ? "" : ",\n", s);
    first = false;
    free(s);
    free(body);
    json_decref(r);
    json_decref(o);
  }
  fputs("\n]\n", stdout);
  free(line);
  return 0;
}
