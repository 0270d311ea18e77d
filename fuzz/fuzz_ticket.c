/* fuzz_ticket.c — fuzz target: ticket exports, read as CSV and as JSONL in
 * whatever charset the detector picks, every record analysed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kb/analyze.h"
#include "kb/ticket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(const char *path, kb_ticket_format fmt, kb_tokenizer *tok) {
  kb_ticket_opts o = {.format = fmt, .max_record = 4096};
  kb_ticket_reader *r = NULL;
  if (kb_ticket_reader_open(path, &o, &r, NULL) != KB_OK) return;
  for (int i = 0; i < 10000; i++) {
    kb_doc *doc = NULL;
    kb_ticket_reject rej;
    int rc = kb_ticket_reader_next(r, &doc, &rej, NULL);
    if (rc == KB_OK) {
      kb_xdoc *xd = NULL;
      if (kb_analyze_doc(tok, doc, &xd, NULL) != KB_OK) abort();
      kb_xdoc_free(xd);
      kb_doc_free(doc);
    } else if (rc != KB_EPARSE && rc != KB_EENCODING && rc != KB_ETOOBIG) {
      break;
    }
  }
  kb_ticket_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static kb_lexicon *lex;
  static kb_tokenizer *tok;
  if (!tok && (kb_lexicon_new_builtin("lexicon", &lex, NULL) != KB_OK ||
               kb_tokenizer_new(lex, &tok, NULL) != KB_OK))
    abort();
  int fd = memfd_create("fuzz-ticket", 0);
  if (fd < 0) return 0;
  if (write(fd, data, size) == (ssize_t)size) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    read_all(path, KB_TICKET_CSV, tok);
    read_all(path, KB_TICKET_JSONL, tok);
  }
  close(fd);
  return 0;
}
