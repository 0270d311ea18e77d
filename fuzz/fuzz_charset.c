/* fuzz_charset.c — fuzz target: charset detection and conversion, through
 * the ticket reader (JSONL) with --encoding auto and with given charsets.
 *
 * The property (issue 28, defect 1): a record that is valid UTF-8 in a
 * file comes out of `--encoding utf-8` exactly as it would alone, byte for
 * byte in every stored field; and out of `--encoding auto` the same, unless
 * the file is mostly not UTF-8 (no more lines of non-ASCII UTF-8 than lines
 * that are not UTF-8: charset.h's rule) and a charset is guessed; then a
 * record decoded otherwise is marked as guessed, so that it never replaces
 * a stored one. A stray Windows-1252 byte beside Chinese records must never
 * turn them into mojibake that overwrites good copies. A reader may refuse
 * the whole file (a guess it cannot make, asking for --encoding). With
 * other charsets given, whatever comes out is a well-formed ticket or a
 * reject. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ticket_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What a line of the file is when read alone as UTF-8. */
typedef struct expect {
  kb_doc *doc; /* the ticket it makes alone, or NULL (not UTF-8, blank, a reject) */
  bool seen;   /* the reader returned it */
} expect;

/* Splits the input into lines as the reader does ('\n'; line ends, and
 * blanks at the start, trimmed; a BOM on the first line dropped) and parses
 * each valid UTF-8 one alone. Returns the line count; *bad is the number
 * of lines that are not UTF-8. */
static size_t expectations(const char *s, size_t size, expect **out, size_t *bad) {
  size_t n = 0;
  for (size_t i = 0; i < size; i++) n += s[i] == '\n';
  n += size && s[size - 1] != '\n';
  expect *e = calloc(n + 1, sizeof *e);
  if (!e) abort();
  size_t line = 0;
  *bad = 0;
  for (size_t at = 0; at < size; line++) {
    const char *nl = memchr(s + at, '\n', size - at);
    size_t end = nl ? (size_t)(nl - s) : size, a = at, b = end;
    at = nl ? end + 1 : size;
    *bad += !kb_utf8_valid(s + a, b - a, NULL);
    if (line == 0 && b - a >= 3 && !memcmp(s + a, "\xEF\xBB\xBF", 3)) a += 3;
    while (b > a && s[b - 1] == '\r') b--;
    while (a < b && (s[a] == ' ' || s[a] == '\t')) a++;
    if (a == b || !kb_utf8_valid(s + a, b - a, NULL) || memchr(s + a, '\0', b - a)) continue;
    kb_ticket_reject rej;
    kb_doc *doc = NULL;
    if (kb_ticket_from_json(s + a, b - a, line + 1, NULL, &doc, &rej) == KB_OK) e[line].doc = doc;
  }
  *out = e;
  return n;
}

/* Reads the file in encoding; with e, checks the property above. nlines
 * is the file's line count (SIZE_MAX when unknown), bad_lines how many are
 * not UTF-8. */
static void read_all(const char *path, const char *encoding, expect *e, size_t nlines,
                     size_t bad_lines) {
  kb_ticket_opts o = {.format = KB_TICKET_JSONL, .encoding = encoding};
  kb_ticket_reader *r = NULL;
  kb_error err = {0};
  if (kb_ticket_reader_open(path, &o, &r, &err) != KB_OK) {
    if (!err.message[0]) abort();
    return;
  }
  const kb_charset_choice *cs = kb_ticket_reader_charset(r);
  bool guessed = cs->origin == KB_CHARSET_GUESSED;
  /* a guess only where UTF-8 is not the rule */
  if (guessed && (!bad_lines || !cs->bad_lines || cs->utf8_lines > cs->bad_lines)) abort();
  for (size_t i = 0; e && i < nlines; i++) e[i].seen = false;
  int rc;
  for (;;) {
    kb_doc *doc = NULL;
    kb_ticket_reject rej;
    rc = kb_ticket_reader_next(r, &doc, &rej, &err);
    if (rc == KB_ENOENT || (rc != KB_OK && rc != KB_EPARSE && rc != KB_EENCODING &&
                            rc != KB_ETOOBIG))
      break;
    size_t line = kb_ticket_reader_record_line(r);
    if (!line || line > nlines) abort();
    if (rc == KB_OK) fuzz_check_ticket(doc);
    else fuzz_check_reject(&rej, rc);
    if (e && e[line - 1].doc) {
      /* a valid UTF-8 record: decoded as UTF-8, or (in a file that is
       * mostly not) by a guess it is marked with */
      bool same = rc == KB_OK && fuzz_same_doc(doc, e[line - 1].doc);
      if (!same && (!guessed || (rc == KB_OK && !kb_ticket_reader_guessed(r)))) abort();
      e[line - 1].seen = true;
    }
    kb_doc_free(doc);
  }
  /* and none was skipped without a word (a read error stops the reader) */
  for (size_t i = 0; e && rc == KB_ENOENT && i < nlines; i++)
    if (e[i].doc && !e[i].seen) abort();
  kb_ticket_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const given[] = {"gb18030", "big5", "windows-1252", "shift_jis", "utf-16le"};
  const char *s = (const char *)data;
  int fd = memfd_create("fuzz-charset", 0);
  if (fd < 0) return 0;
  if (write(fd, data, size) == (ssize_t)size) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    /* a gzip file's lines are not its bytes' lines */
    bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    expect *e = NULL;
    size_t bad, n = expectations(s, size, &e, &bad);
    size_t lines = gzip ? SIZE_MAX : n;
    if (gzip) bad = SIZE_MAX; /* unknown */
    read_all(path, "auto", gzip ? NULL : e, lines, bad);
    read_all(path, "utf-8", gzip ? NULL : e, lines, bad);
    for (size_t i = 0; i < sizeof given / sizeof *given; i++)
      read_all(path, given[i], NULL, lines, bad);
    for (size_t i = 0; i < n; i++) kb_doc_free(e[i].doc);
    free(e);
  }
  close(fd);
  return 0;
}
