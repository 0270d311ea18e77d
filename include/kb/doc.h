/* doc.h — the document model shared by every source (articles, tickets).
 *
 * A kb_doc holds string fields (id, title, product, …) and the text to index
 * as segments: each segment has a kind (title, heading, body, code, problem,
 * resolution) and says whether it is internal (engineers only).
 */
#ifndef KB_DOC_H
#define KB_DOC_H

#include <stdbool.h>
#include <stddef.h>

#include "kb/error.h"
#include "kb/text.h"

/* X(enum name, JSON key) — one list for the enum and the field names. */
#define KB_DOC_FIELDS(X)          \
  X(ID, "id")                     \
  X(TYPE, "type")                 \
  X(TITLE, "title")               \
  X(BODY, "body")                 \
  X(RESOLUTION, "resolution")     \
  X(PRODUCT, "product")           \
  X(CATEGORY, "category")         \
  X(TAGS, "tags")                 \
  X(PRIORITY, "priority")         \
  X(VISIBILITY, "visibility")     \
  X(STATUS, "status")             \
  X(CUSTOMER, "customer")         \
  X(CREATED, "created")           \
  X(UPDATED, "updated")           \
  X(LANGUAGE, "language")         \
  X(SOURCE, "source")             \
  X(HASH, "hash")

typedef enum kb_field {
#define KB_FIELD_ENUM(name, key) KB_FIELD_##name,
  KB_DOC_FIELDS(KB_FIELD_ENUM)
#undef KB_FIELD_ENUM
  KB_FIELD_COUNT
} kb_field;

/* The JSON key of a field ("title"). Static storage. */
const char *kb_field_name(kb_field f);
/* The field with JSON key name, or -1. */
int kb_field_from_name(const char *name);

typedef enum kb_segment_kind {
  KB_SEG_TITLE,
  KB_SEG_HEADING,
  KB_SEG_BODY,
  KB_SEG_CODE,
  KB_SEG_TAGS,
  KB_SEG_PROBLEM,
  KB_SEG_RESOLUTION,
} kb_segment_kind;

typedef struct kb_segment {
  kb_segment_kind kind;
  bool internal;
  char *text; /* owned by the doc */
  size_t len;
} kb_segment;

typedef struct kb_doc kb_doc;

kb_doc *kb_doc_new(void); /* NULL when out of memory */
void kb_doc_free(kb_doc *doc);

/* Field value, or NULL when unset. Borrowed until the field changes or the
 * doc is freed. */
const char *kb_doc_get(const kb_doc *doc, kb_field f);
/* Copies value[0..len) into the field (replacing it); NULL clears it. */
int kb_doc_set(kb_doc *doc, kb_field f, const char *value, size_t len);
int kb_doc_set_str(kb_doc *doc, kb_field f, const char *value);

/* Appends a text segment (copied). Empty text is ignored. */
int kb_doc_add_segment(kb_doc *doc, kb_segment_kind kind, bool internal, const char *text,
                       size_t len);
size_t kb_doc_segment_count(const kb_doc *doc);
/* Borrowed until the doc changes or is freed. */
const kb_segment *kb_doc_segment(const kb_doc *doc, size_t i);

/* True for an internal document (visibility "internal"). */
bool kb_doc_is_internal(const kb_doc *doc);

/* "zh" when the text segments are mostly Han characters, else "en". */
const char *kb_doc_guess_language(const kb_doc *doc);

/* ## Ids
 *
 * An id becomes a link (/a/…, /t/…), so it must be one that works and
 * shows what it opens. */

/* Why id cannot be a document id, or NULL when it can: empty, not UTF-8,
 * a control character (C0, DEL, C1), a bidirectional control (U+061C,
 * U+200E/F, U+202A–U+202E, U+2066–U+2069: the text shown would not be the
 * link), an invisible character (U+200B, U+2060, U+FEFF: two ids that
 * look the same), or a path segment of dots only (".", "..", also as %2e: a
 * browser or proxy resolves it to another address). Spaces and other
 * characters are allowed: kb_doc_id_url() encodes them. Static storage. */
const char *kb_doc_id_problem(const char *id);
/* Appends "/" and id percent-encoded for a URL path to out: everything but
 * ASCII letters, digits, "-", ".", "_", "~" and "/" as %XX. */
int kb_doc_id_url(const char *id, kb_buf *out);

/* 64-bit FNV-1a of data, as 16 hex digits into out[17]. */
void kb_hash_hex(const void *data, size_t len, char out[17]);

#endif
