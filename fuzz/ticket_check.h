/* ticket_check.h — what every ticket the readers return must hold, shared
 * by the ticket fuzz targets (jsonl, csv, charset). Header-only: each
 * target is one translation unit. */
#ifndef KB_FUZZ_TICKET_CHECK_H
#define KB_FUZZ_TICKET_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "kb/doc.h"
#include "kb/text.h"
#include "kb/ticket.h"

/* A ticket: id "t/…" without '/' or control characters after it, text to
 * index, a known priority and visibility, real dates, UTF-8 everywhere. */
static inline void fuzz_check_ticket(const kb_doc *doc) {
  const char *id = kb_doc_get(doc, KB_FIELD_ID), *vis = kb_doc_get(doc, KB_FIELD_VISIBILITY);
  const char *pri = kb_doc_get(doc, KB_FIELD_PRIORITY), *title = kb_doc_get(doc, KB_FIELD_TITLE);
  if (!id || strncmp(id, "t/", 2) != 0 || !id[2] || strchr(id + 2, '/')) abort();
  for (const char *p = id; *p; p++)
    if ((unsigned char)*p < 0x20) abort();
  if (!vis || (strcmp(vis, "public") && strcmp(vis, "internal"))) abort();
  if (pri && (strlen(pri) != 2 || pri[0] != 'P' || pri[1] < '1' || pri[1] > '4')) abort();
  if (!title || !*title) abort();
  const char *created = kb_doc_get(doc, KB_FIELD_CREATED), *upd = kb_doc_get(doc, KB_FIELD_UPDATED);
  if ((created && !kb_text_is_date(created)) || (upd && !kb_text_is_date(upd))) abort();
  for (int f = 0; f < KB_FIELD_COUNT; f++) {
    const char *v = kb_doc_get(doc, (kb_field)f);
    if (v && !kb_utf8_valid(v, strlen(v), NULL)) abort();
  }
  for (size_t i = 0; i < kb_doc_segment_count(doc); i++) {
    const kb_segment *s = kb_doc_segment(doc, i);
    if (!kb_utf8_valid(s->text, s->len, NULL)) abort();
  }
}

/* A reject names its line and says why, in UTF-8 (it goes into JSON). */
static inline void fuzz_check_reject(const kb_ticket_reject *rej, int rc) {
  if (rc != KB_EPARSE && rc != KB_EENCODING && rc != KB_ETOOBIG) abort();
  if (!rej->line || !rej->reason[0]) abort();
  if (!kb_utf8_valid(rej->reason, strlen(rej->reason), NULL) ||
      !kb_utf8_valid(rej->field, strlen(rej->field), NULL))
    abort();
}

/* Whether two documents hold the same fields and segments, byte for byte. */
static inline bool fuzz_same_doc(const kb_doc *a, const kb_doc *b) {
  for (int f = 0; f < KB_FIELD_COUNT; f++) {
    const char *x = kb_doc_get(a, (kb_field)f), *y = kb_doc_get(b, (kb_field)f);
    if (!x != !y || (x && strcmp(x, y))) return false;
  }
  size_t n = kb_doc_segment_count(a);
  if (n != kb_doc_segment_count(b)) return false;
  for (size_t i = 0; i < n; i++) {
    const kb_segment *s = kb_doc_segment(a, i), *t = kb_doc_segment(b, i);
    if (s->kind != t->kind || s->internal != t->internal || s->len != t->len ||
        memcmp(s->text, t->text, s->len))
      return false;
  }
  return true;
}

#endif
