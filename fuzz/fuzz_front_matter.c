/* fuzz_front_matter.c — fuzz target: an article's front matter. The input
 * is the block between the two "---" lines; what the parser accepts must
 * hold the values the header promises. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kb/markdown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is(const char *v, const char *a, const char *b) {
  return v && (strcmp(v, a) == 0 || strcmp(v, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kb_buf src = {0};
  kb_buf_puts(&src, "---\n");
  kb_buf_append(&src, (const char *)data, size);
  kb_buf_puts(&src, "\n---\n# Title\n\nBody.\n");
  kb_doc *doc = NULL;
  kb_error err = {0};
  int rc = kb_markdown_parse(src.data, src.len, "fm.md", &doc, &err);
  if (rc == KB_OK) {
    const char *id = kb_doc_get(doc, KB_FIELD_ID), *upd = kb_doc_get(doc, KB_FIELD_UPDATED);
    const char *title = kb_doc_get(doc, KB_FIELD_TITLE);
    if (!is(kb_doc_get(doc, KB_FIELD_VISIBILITY), "public", "internal")) abort();
    if (upd && !kb_text_is_date(upd)) abort();
    if (id && (strncmp(id, "a/", 2) != 0 || strstr(id, "..") || !id[2])) abort();
    if (!title || !*title) abort();
    for (int f = 0; f < KB_FIELD_COUNT; f++) {
      const char *v = kb_doc_get(doc, (kb_field)f);
      if (v && !kb_utf8_valid(v, strlen(v), NULL)) abort();
    }
  } else if (rc != KB_EPARSE && rc != KB_EENCODING && rc != KB_ETOOBIG) {
    abort();
  } else if (!err.message[0] || !kb_utf8_valid(err.message, strlen(err.message), NULL)) {
    /* the reason is shown to the user and may go into JSON */
    abort();
  }
  kb_doc_free(doc);
  kb_buf_free(&src);
  return 0;
}
