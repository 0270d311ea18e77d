/* tokens.c — the tokens file's parser, apart from the server so that it
 * can be tested and fuzzed on its own (fuzz/fuzz_tokens.c). */
#include "tokens.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define BLANKS " \t\r\n\v\f"
#define TOKEN_MAX 511 /* bytes */

/* The next word of *p (blank-separated), NUL-terminated in place, or NULL. */
static char *word(char **p) {
  char *w = *p + strspn(*p, BLANKS);
  if (!*w) return NULL;
  char *e = w + strcspn(w, BLANKS);
  *p = *e ? e + 1 : e;
  *e = '\0';
  return w;
}

/* One line: false when it is neither blank, a comment, nor "TOKEN ROLE"
 * (words after the role are ignored). A line is read whole, however long,
 * so that the tail of a long comment is never taken for a line of its own. */
static bool parse_line(char *line, token_entry *t, bool *entry) {
  *entry = false;
  char *p = line + strspn(line, BLANKS);
  if (!*p || *p == '#') return true;
  char *tok = word(&p), *r = word(&p);
  size_t n = tok ? strlen(tok) : 0;
  if (!r || n < 16 || n > TOKEN_MAX || (strcmp(r, "engineer") && strcmp(r, "admin")))
    return false;
  t->token = tok;
  t->role = strcmp(r, "admin") == 0 ? ROLE_ADMIN : ROLE_ENGINEER;
  *entry = true;
  return true;
}

int kb_tokens_read(FILE *f, const char *path, FILE *msgs, token_entry **out, size_t *n) {
  token_entry *v = NULL;
  size_t count = 0, cap = 0;
  char *line = NULL;
  int lineno = 0, bad = 0;
  while (getline(&line, &cap, f) >= 0) {
    lineno++;
    token_entry t;
    bool entry;
    if (!parse_line(line, &t, &entry)) {
      if (msgs)
        fprintf(msgs, "kb-serve: %s:%d: 应为 \"TOKEN engineer|admin\"，令牌 16 到 %d 个字符 "
                "(expected TOKEN ROLE, token of 16 to %d characters)\n", path, lineno,
                TOKEN_MAX, TOKEN_MAX);
      bad = 1;
      continue;
    }
    if (!entry) continue;
    token_entry *nv = realloc(v, (count + 1) * sizeof *nv);
    if (nv) v = nv;
    if (!nv || !(v[count].token = strdup(t.token))) {
      if (msgs) fprintf(msgs, "kb-serve: %s: 内存不足 (out of memory)\n", path);
      bad = 1;
      break;
    }
    v[count++].role = t.role;
  }
  free(line);
  if (bad) {
    kb_tokens_free(v, count);
    return -1;
  }
  *out = v;
  *n = count;
  return 0;
}

void kb_tokens_free(token_entry *v, size_t n) {
  for (size_t i = 0; i < n; i++) free(v[i].token);
  free(v);
}
