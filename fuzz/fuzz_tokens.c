/* fuzz_tokens.c — fuzz target: kb-serve's tokens file (server/tokens.c).
 * A file is taken whole or not at all; every token taken is 16 characters
 * or more, without blanks, and stands at the start of a line of the file
 * (after blanks) followed by its role on that line: no token comes from
 * the middle of a line, a comment, or a line cut in two. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokens.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* Whether s[0..size) has a line "  TOKEN<blanks>ROLE<blanks>…". */
static bool on_a_line(const char *s, size_t size, const token_entry *t) {
  size_t tl = strlen(t->token);
  const char *role = t->role == ROLE_ADMIN ? "admin" : "engineer";
  size_t rl = strlen(role);
  for (size_t at = 0; at < size;) {
    const char *nl = memchr(s + at, '\n', size - at);
    size_t end = nl ? (size_t)(nl - s) : size, i = at;
    while (i < end && blank(s[i])) i++;
    if (i < end && s[i] != '#' && end - i > tl && !memcmp(s + i, t->token, tl) &&
        blank(s[i + tl])) {
      i += tl;
      while (i < end && blank(s[i])) i++;
      if (end - i >= rl && !memcmp(s + i, role, rl)) return true;
    }
    at = end + 1;
  }
  return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!size) return 0; /* fmemopen takes no empty buffer */
  FILE *f = fmemopen((void *)data, size, "r");
  if (!f) return 0;
  token_entry *v = NULL;
  size_t n = 0;
  if (kb_tokens_read(f, "fuzz.tokens", NULL, &v, &n) == 0) {
    for (size_t i = 0; i < n; i++) {
      const char *t = v[i].token;
      if (strlen(t) < 16 || strpbrk(t, " \t\r\n\v\f")) abort();
      if (v[i].role != ROLE_ENGINEER && v[i].role != ROLE_ADMIN) abort();
      if (!on_a_line((const char *)data, size, &v[i])) abort();
    }
    kb_tokens_free(v, n);
  }
  fclose(f);
  return 0;
}
