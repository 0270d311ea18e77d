/* doc.c — the document model. */
#include "kb/doc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/text.h"

struct kb_doc {
  char *fields[KB_FIELD_COUNT];
  kb_segment *segs;
  size_t nsegs, cap;
};

static const char *const field_names[KB_FIELD_COUNT] = {
#define KB_FIELD_NAME(name, key) key,
    KB_DOC_FIELDS(KB_FIELD_NAME)
#undef KB_FIELD_NAME
};

const char *kb_field_name(kb_field f) {
  return (unsigned)f < KB_FIELD_COUNT ? field_names[f] : "?";
}

int kb_field_from_name(const char *name) {
  for (int i = 0; i < KB_FIELD_COUNT; i++)
    if (strcmp(field_names[i], name) == 0) return i;
  return -1;
}

kb_doc *kb_doc_new(void) { return calloc(1, sizeof(kb_doc)); }

void kb_doc_free(kb_doc *doc) {
  if (!doc) return;
  for (int i = 0; i < KB_FIELD_COUNT; i++) free(doc->fields[i]);
  for (size_t i = 0; i < doc->nsegs; i++) free(doc->segs[i].text);
  free(doc->segs);
  free(doc);
}

const char *kb_doc_get(const kb_doc *doc, kb_field f) { return doc->fields[f]; }

int kb_doc_set(kb_doc *doc, kb_field f, const char *value, size_t len) {
  char *copy = NULL;
  if (value) {
    copy = malloc(len + 1);
    if (!copy) return KB_ENOMEM;
    memcpy(copy, value, len);
    copy[len] = '\0';
  }
  free(doc->fields[f]);
  doc->fields[f] = copy;
  return KB_OK;
}

int kb_doc_set_str(kb_doc *doc, kb_field f, const char *value) {
  return kb_doc_set(doc, f, value, value ? strlen(value) : 0);
}

int kb_doc_add_segment(kb_doc *doc, kb_segment_kind kind, bool internal, const char *text,
                       size_t len) {
  if (len == 0) return KB_OK;
  if (kb_grow(&doc->segs, &doc->cap, doc->nsegs + 1, sizeof *doc->segs) != KB_OK) return KB_ENOMEM;
  char *copy = malloc(len + 1);
  if (!copy) return KB_ENOMEM;
  memcpy(copy, text, len);
  copy[len] = '\0';
  doc->segs[doc->nsegs++] = (kb_segment){kind, internal, copy, len};
  return KB_OK;
}

size_t kb_doc_segment_count(const kb_doc *doc) { return doc->nsegs; }

const kb_segment *kb_doc_segment(const kb_doc *doc, size_t i) {
  return i < doc->nsegs ? &doc->segs[i] : NULL;
}

bool kb_doc_is_internal(const kb_doc *doc) {
  const char *v = doc->fields[KB_FIELD_VISIBILITY];
  return v && strcmp(v, "internal") == 0;
}

const char *kb_doc_guess_language(const kb_doc *doc) {
  size_t han = 0, letters = 0;
  for (size_t s = 0; s < doc->nsegs; s++) {
    const char *t = doc->segs[s].text;
    size_t len = doc->segs[s].len;
    for (size_t i = 0; i < len;) {
      int32_t c = kb_utf8_next(t, len, &i);
      if (kb_is_han(c)) han++;
      else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) letters++;
    }
  }
  /* a Han character carries about as much as a short Latin word */
  return han * 4 >= letters ? "zh" : "en";
}

/* ------------------------------------------------------------------ ids */

static bool is_bidi_control(int32_t cp) {
  return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

/* True when seg[0..len) is dots only, a dot written "." or "%2e". */
static bool dots_only(const char *seg, size_t len) {
  if (!len) return false;
  for (size_t i = 0; i < len;) {
    if (seg[i] == '.') i++;
    else if (len - i >= 3 && seg[i] == '%' && seg[i + 1] == '2' && (seg[i + 2] | 0x20) == 'e') i += 3;
    else return false;
  }
  return true;
}

const char *kb_doc_id_problem(const char *id) {
  size_t len = strlen(id);
  if (!len) return "为空 (empty)";
  if (!kb_utf8_valid(id, len, NULL)) return "不是有效的 UTF-8 (not valid UTF-8)";
  for (size_t i = 0; i < len;) {
    int32_t cp = kb_utf8_next(id, len, &i);
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0))
      return "含控制字符 (a control character)";
    if (is_bidi_control(cp))
      return "含双向文本控制字符，显示的文字会与链接不符 (a bidirectional control character such as "
             "U+202E: the text shown would not be the link)";
    if (cp == 0x200B || cp == 0x2060 || cp == 0xFEFF) /* two ids that look the same */
      return "含不可见字符 (an invisible character: U+200B, U+2060 or U+FEFF)";
  }
  for (const char *seg = id;;) {
    const char *end = strchr(seg, '/');
    size_t n = end ? (size_t)(end - seg) : strlen(seg);
    if (dots_only(seg, n)) return "含 . 或 .. 路径段 (a . or .. path segment, also as %2e)";
    if (!end) break;
    seg = end + 1;
  }
  return NULL;
}

int kb_doc_id_url(const char *id, kb_buf *out) {
  int rc = kb_buf_putc(out, '/');
  for (const unsigned char *p = (const unsigned char *)id; *p && rc == KB_OK; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        *p == '-' || *p == '.' || *p == '_' || *p == '~' || *p == '/')
      rc = kb_buf_putc(out, (char)*p);
    else
      rc = kb_buf_printf(out, "%%%02X", *p);
  }
  return rc;
}

void kb_hash_hex(const void *data, size_t len, char out[17]) {
  snprintf(out, 17, "%016llx", (unsigned long long)kb_fnv1a(data, len));
}
