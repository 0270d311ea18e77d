/* fuzz_jsonl.c — fuzz target: one JSON record as a ticket (a JSONL line,
 * a line of a POST /api/tickets body), with the default field names. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ticket_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static kb_ticket_json *parser;
  if (!parser && kb_ticket_json_new(NULL, &parser, NULL) != KB_OK) abort();
  kb_doc *doc = NULL;
  kb_ticket_reject rej = {0};
  int rc = kb_ticket_json_parse(parser, (const char *)data, size, 7, &doc, &rej);
  if (rc == KB_OK) fuzz_check_ticket(doc);
  else if (rej.line != 7) abort();
  else fuzz_check_reject(&rej, rc);
  kb_doc_free(doc);
  return 0;
}
