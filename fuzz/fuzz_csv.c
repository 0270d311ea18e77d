/* fuzz_csv.c — fuzz target: a CSV export with a --map. The input's first
 * line is the map ("title=主题,id=工单号"), the rest the file: a header row,
 * then records. Every record comes out as a ticket or a reject naming its
 * line, lines only move forward, and the reader's offset stays within the
 * file. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ticket_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* gzip is the decompressed size's business: offsets count those bytes */
static void read_all(const char *path, const char *encoding, const char *map, size_t file_size,
                     bool gzip) {
  kb_ticket_opts o = {.format = KB_TICKET_CSV, .encoding = encoding, .map = map,
                      .max_record = 4096};
  kb_ticket_reader *r = NULL;
  kb_error err = {0};
  if (kb_ticket_reader_open(path, &o, &r, &err) != KB_OK) {
    if (!err.message[0]) abort();
    return;
  }
  size_t last_line = 0;
  for (;;) {
    kb_doc *doc = NULL;
    kb_ticket_reject rej;
    int rc = kb_ticket_reader_next(r, &doc, &rej, &err);
    if (rc == KB_ENOENT) break;
    size_t line = kb_ticket_reader_record_line(r);
    if (line <= last_line || (!gzip && kb_ticket_reader_offset(r) > file_size)) abort();
    last_line = line;
    if (rc == KB_OK) {
      fuzz_check_ticket(doc);
      kb_doc_free(doc);
    } else if (rej.line != line) {
      abort();
    } else {
      fuzz_check_reject(&rej, rc);
    }
  }
  kb_ticket_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data, *nl = memchr(s, '\n', size);
  if (!nl) return 0;
  char *map = strndup(s, (size_t)(nl - s));
  int fd = memfd_create("fuzz-csv", 0);
  size_t file_size = size - (size_t)(nl + 1 - s);
  if (map && fd >= 0 && write(fd, nl + 1, file_size) == (ssize_t)file_size) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    bool gzip = file_size >= 2 && (unsigned char)nl[1] == 0x1f && (unsigned char)nl[2] == 0x8b;
    read_all(path, "utf-8", map, file_size, gzip);
    read_all(path, "auto", map, file_size, gzip);
  }
  if (fd >= 0) close(fd);
  free(map);
  return 0;
}
