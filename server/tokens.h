/* tokens.h — kb-serve's tokens file: lines "TOKEN ROLE" (ROLE engineer or
 * admin, TOKEN of 16 to 511 bytes without blanks; words after ROLE are
 * ignored), comments (lines whose first non-blank character is '#') and
 * blank lines, of any length. */
#ifndef KB_SERVER_TOKENS_H
#define KB_SERVER_TOKENS_H

#include <stddef.h>
#include <stdio.h>

typedef enum role { ROLE_PUBLIC, ROLE_ENGINEER, ROLE_ADMIN } role;

typedef struct token_entry {
  char *token;
  role role;
} token_entry;

/* Reads a whole tokens file from f; path names it in messages, written to
 * msgs (NULL = none), one per bad line ("path:line: …"). Returns 0 with
 * *out (caller frees with kb_tokens_free) and *n, or -1 when any line is
 * bad or memory runs out: then nothing is returned, so that a typo neither
 * locks engineers out nor applies half a file. */
int kb_tokens_read(FILE *f, const char *path, FILE *msgs, token_entry **out, size_t *n);
void kb_tokens_free(token_entry *v, size_t n);

#endif
