/* english.c — the English word list: sorted lines built into the library,
 * found by binary search over their offsets. */
#include "kb/english.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

extern const char _binary_english_txt_start[], _binary_english_txt_end[];

static const char **lines; /* the start of each line, in the list's (byte) order */
static size_t nlines;
static pthread_once_t lines_once = PTHREAD_ONCE_INIT;

static void index_lines(void) {
  const char *p = _binary_english_txt_start, *end = _binary_english_txt_end;
  size_t n = 0;
  for (const char *q = p; q < end; q++) n += *q == '\n';
  lines = malloc((n ? n : 1) * sizeof *lines);
  if (!lines) return;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) break;
    lines[nlines++] = p;
    p = eol + 1;
  }
}

/* line against word: <0, 0, >0 as strcmp, the line ending at '\n' */
static int compare(const char *line, const char *word, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned char a = (unsigned char)line[i], b = (unsigned char)word[i];
    if (a == '\n') return -1;
    if (a != b) return a < b ? -1 : 1;
  }
  return line[len] == '\n' ? 0 : 1;
}

bool kb_english_word(const char *word, size_t len) {
  pthread_once(&lines_once, index_lines);
  size_t lo = 0, hi = nlines;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = compare(lines[mid], word, len);
    if (c == 0) return true;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return false;
}
