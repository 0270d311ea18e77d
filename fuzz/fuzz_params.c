/* fuzz_params.c — fuzz target: HTTP request parameters. The input is a
 * query string ("q=…&limit=…"), percent-decoded as libmicrohttpd does, and
 * checked by the server's parameter code (server/params.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PARAMS 32

typedef struct params {
  char *name[MAX_PARAMS], *value[MAX_PARAMS];
  size_t n;
} params;

static int hex(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent- and plus-decodes s[0..n) in place into a new string. */
static char *decode(const char *s, size_t n) {
  char *out = malloc(n + 1), *o = out;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '+') *o++ = ' ';
    else if (s[i] == '%' && i + 2 < n && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      *o++ = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else *o++ = s[i];
  }
  *o = '\0';
  return out;
}

static const char *lookup(void *ctx, const char *name) {
  params *p = ctx;
  for (size_t i = 0; i < p->n; i++)
    if (strcmp(p->name[i], name) == 0) return p->value[i];
  return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  params p = {0};
  for (size_t i = 0; i < size && p.n < MAX_PARAMS;) {
    size_t e = i;
    while (e < size && s[e] != '&') e++;
    size_t eq = i;
    while (eq < e && s[eq] != '=') eq++;
    p.name[p.n] = decode(s + i, eq - i);
    p.value[p.n] = decode(s + (eq < e ? eq + 1 : e), eq < e ? e - eq - 1 : 0);
    p.n++;
    i = e + 1;
  }
  kb_search_request req = {0};
  const char *bad, *why;
  if (kb_params_search(lookup, &p, &req, &bad, &why)) {
    /* what passes is bounded */
    if (req.limit < 1 || req.limit > KB_LIMIT_MAX || req.offset > KB_OFFSET_MAX ||
        kb_params_chars(req.query) > KB_Q_MAX_CHARS)
      abort();
  } else if (!bad || !why) {
    abort();
  }
  for (size_t i = 0; i < p.n; i++) {
    free(p.name[i]);
    free(p.value[i]);
  }
  return 0;
}
