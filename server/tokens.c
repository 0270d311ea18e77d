/* tokens.c — the tokens file's parser, apart from the server so that it
 * can be tested and fuzzed on its own (fuzz/fuzz_tokens.c). */
#include "tokens.h"

#include <stdlib.h>
#include <string.h>

int kb_tokens_read(FILE *f, const char *path, FILE *msgs, token_entry **out, size_t *n) {
  token_entry *v = NULL;
  size_t count = 0;
  char line[1024];
  int lineno = 0, bad = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char tok[512], r[64];
    if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0') continue;
    if (sscanf(line, "%511s %63s", tok, r) != 2 || strlen(tok) < 16 ||
        (strcmp(r, "engineer") && strcmp(r, "admin"))) {
      if (msgs)
        fprintf(msgs, "kb-serve: %s:%d: 应为 \"TOKEN engineer|admin\"，令牌至少 16 个字符 "
                "(expected TOKEN ROLE, token of 16+ characters)\n", path, lineno);
      bad = 1;
      continue;
    }
    token_entry *nv = realloc(v, (count + 1) * sizeof *nv);
    if (nv) v = nv;
    if (!nv || !(v[count].token = strdup(tok))) {
      if (msgs) fprintf(msgs, "kb-serve: %s: 内存不足 (out of memory)\n", path);
      bad = 1;
      break;
    }
    v[count].role = strcmp(r, "admin") == 0 ? ROLE_ADMIN : ROLE_ENGINEER;
    count++;
  }
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
