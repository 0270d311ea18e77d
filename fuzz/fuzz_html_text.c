/* fuzz_html_text.c — fuzz target: rich text of ticket exports made plain
 * (richtext.h): HTML and Jira wiki markup. Valid UTF-8 in must give valid
 * UTF-8 out, and the text is never much longer than its source (a few
 * bytes per tag at most). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kb/richtext.h"
#include "kb/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  bool valid = kb_utf8_valid(s, size, NULL);
  kb_buf out = {0};
  if (kb_richtext_html(s, size, &out) != KB_OK) abort();
  if (valid && !kb_utf8_valid(out.data, out.len, NULL)) abort();
  if (out.len > 2 * size + 8) abort();
  kb_buf_reset(&out);
  if (kb_richtext_jira(s, size, &out) != KB_OK) abort();
  if (valid && !kb_utf8_valid(out.data, out.len, NULL)) abort();
  if (out.len > 2 * size + 8) abort();
  kb_buf_free(&out);
  return 0;
}
