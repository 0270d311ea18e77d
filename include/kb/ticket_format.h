/* ticket_format.h — the fields of a ticket, the known export formats of
 * ticket systems (lib/data/ticket_formats.txt) and the assembly of one
 * record's values from its columns.
 *
 * ticket.c reads CSV cells and JSON keys; this module says what each
 * column is for and puts a record together: the first non-empty column of
 * a field by the format's order, tags joined, rich text made plain
 * (richtext.h), a system's dates and priority scale read
 * (lib/data/priority_scales.txt), the resolution's name added to the status,
 * and the fix taken from where the system keeps it (its field, the last
 * comment before closing, the last public comment of an agent), with where
 * it came from. ticket.c then validates the values and builds the kb_doc.
 */
#ifndef KB_TICKET_FORMAT_H
#define KB_TICKET_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "kb/doc.h"
#include "kb/error.h"
#include "kb/text.h"

/* The ticket fields, one list for the enum, the names (--map, the data
 * files), the kb_doc field each fills, its size limit in bytes and how its
 * value is checked:
 *   X(enum name, name, kb_doc field, limit, check, content)
 * content: one of the fields a ticket needs at least one of. */
typedef enum kb_tcheck {
  KB_TCHECK_ID,         /* trimmed; no '/', no control character */
  KB_TCHECK_TEXT,       /* copied as it is */
  KB_TCHECK_PRIORITY,   /* P1–P4 by priorities.txt */
  KB_TCHECK_DATE,       /* ISO 8601 or YYYY-MM-DD HH:MM:SS, kept as YYYY-MM-DD */
  KB_TCHECK_VISIBILITY, /* public or internal */
} kb_tcheck;

#define KB_TICKET_FIELDS(X)                                                       \
  X(ID, "id", KB_FIELD_ID, 200, KB_TCHECK_ID, false)                               \
  X(TITLE, "title", KB_FIELD_TITLE, 4096, KB_TCHECK_TEXT, true)                    \
  X(PROBLEM, "problem", KB_FIELD_BODY, 512 * 1024, KB_TCHECK_TEXT, true)           \
  X(RESOLUTION, "resolution", KB_FIELD_RESOLUTION, 512 * 1024, KB_TCHECK_TEXT, true) \
  X(PRODUCT, "product", KB_FIELD_PRODUCT, 256, KB_TCHECK_TEXT, false)              \
  X(CATEGORY, "category", KB_FIELD_CATEGORY, 256, KB_TCHECK_TEXT, false)           \
  X(PRIORITY, "priority", KB_FIELD_PRIORITY, 64, KB_TCHECK_PRIORITY, false)        \
  X(STATUS, "status", KB_FIELD_STATUS, 256, KB_TCHECK_TEXT, false)                 \
  X(CREATED, "created", KB_FIELD_CREATED, 64, KB_TCHECK_DATE, false)               \
  X(CLOSED, "closed", KB_FIELD_UPDATED, 64, KB_TCHECK_DATE, false)                 \
  X(TAGS, "tags", KB_FIELD_TAGS, 4096, KB_TCHECK_TEXT, false)                      \
  X(VISIBILITY, "visibility", KB_FIELD_VISIBILITY, 64, KB_TCHECK_VISIBILITY, false) \
  X(CUSTOMER, "customer", KB_FIELD_CUSTOMER, 512, KB_TCHECK_TEXT, false)

typedef enum kb_tfield {
#define KB_TFIELD_ENUM(e, name, field, max, check, content) KB_TF_##e,
  KB_TICKET_FIELDS(KB_TFIELD_ENUM)
#undef KB_TFIELD_ENUM
  KB_TF_COUNT
} kb_tfield;

typedef struct kb_tfield_info {
  const char *name;
  kb_field field;
  size_t max;
  kb_tcheck check;
  bool content;
} kb_tfield_info;

/* The field's entry of KB_TICKET_FIELDS. Static storage. */
const kb_tfield_info *kb_tfield_get(kb_tfield f);
/* The field named name[0..len) ("title"), or -1. */
int kb_tfield_from_name(const char *name, size_t len);

/* A column name as names are compared: case-folded, without spaces,
 * underscores or hyphens. Appends to out (NUL-terminated). */
int kb_tformat_normalise(const char *name, size_t len, kb_buf *out);

/* ## Known formats */

typedef struct kb_tformats kb_tformats; /* the built-in table, parsed */
typedef struct kb_tformat kb_tformat;   /* one format; owned by its kb_tformats */

/* Parses lib/data/ticket_formats.txt and priority_scales.txt. Caller frees. */
int kb_tformats_new(kb_tformats **out, kb_error *err);
void kb_tformats_free(kb_tformats *t);

/* The first format whose signature columns are all among the normalised
 * names[0..n) (kb_tformat_normalise), or NULL. */
const kb_tformat *kb_tformats_detect(const kb_tformats *t, char *const *names, size_t n);

/* Its short name ("jira") and its description ("Jira 问题 (Jira issues,
 * CSV)"). Owned by the table. */
const char *kb_tformat_name(const kb_tformat *f);
const char *kb_tformat_title(const kb_tformat *f);

/* What a column is for. */
typedef enum kb_tcol_kind {
  KB_TCOL_NONE,      /* ignored */
  KB_TCOL_FIELD,     /* fills .field */
  KB_TCOL_OUTCOME,   /* the resolution's name: added to the status */
  KB_TCOL_COMMENTS,  /* a comment (CSV cell) or the comments (a JSON array) */
  KB_TCOL_REQUESTER, /* the requester (whose comments are not the fix) */
} kb_tcol_kind;

#define KB_TCOL_HTML 1u     /* rich text: HTML made plain when it looks like HTML */
#define KB_TCOL_WIKI 2u     /* Jira wiki markup made readable */
#define KB_TCOL_STRIP_ID 4u /* "name(#12)": the id cut */

/* Who named a column for its field; a lower one wins. */
typedef enum kb_tcol_source {
  KB_TCOL_USER,    /* --map */
  KB_TCOL_FORMAT,  /* the recognised format */
  KB_TCOL_DEFAULT, /* ticket_fields.txt */
} kb_tcol_source;

typedef struct kb_tcol {
  kb_tcol_kind kind;
  int field;   /* kb_tfield for KB_TCOL_FIELD, else -1 */
  unsigned flags;
  kb_tcol_source source;
  unsigned rank; /* among the format's columns of one field, its place (first wins) */
} kb_tcol;

/* The roles of the normalised column name in format f (a column may fill
 * two fields: Jira's Component/s is the product and tags): up to max into
 * out; returns how many (0: the format does not name it). */
size_t kb_tformat_columns(const kb_tformat *f, const char *norm, kb_tcol *out, size_t max);
/* Whether format f names a column for the field (then the default names
 * are not used for it). */
bool kb_tformat_names_field(const kb_tformat *f, int field);

/* The keys of a JSON comment object (Zendesk), from "comment keys": 0 the
 * date, 1 the author, 2 whether it is public, 3… the text, in order of
 * preference; NULL past the last or when the format has none. Owned by the
 * table. */
const char *kb_tformat_comment_key(const kb_tformat *f, size_t i);
/* Whether the normalised name is one of the format's HTML columns. */
bool kb_tformat_is_html(const kb_tformat *f, const char *norm);

/* ## One record */

typedef struct kb_trecord kb_trecord;

/* A record assembler for format f (NULL: the default names only). Caller
 * frees. */
int kb_trecord_new(const kb_tformat *f, kb_trecord **out);
void kb_trecord_free(kb_trecord *r);
/* Forgets the last record, keeping memory. */
void kb_trecord_reset(kb_trecord *r);
/* Forgets the last record and reads the next by format f (NULL: none). */
void kb_trecord_set_format(kb_trecord *r, const kb_tformat *f);

/* One column's value; column is its name as in the input (for the fix's
 * origin). A lower (source, rank) wins a field; a value from --map or the
 * defaults takes its field even when empty (the first such column wins), a
 * format's only when it is not. Values are copied. */
int kb_trecord_add(kb_trecord *r, const kb_tcol *col, const char *column, const char *value,
                   size_t len);
/* One comment of a JSON comment array: its date, author and whether it is
 * public may be NULL; html says the text is HTML. */
int kb_trecord_comment(kb_trecord *r, const char *date, const char *author, bool is_public,
                       const char *text, size_t len, bool html);

/* The values by ticket field (NULL = absent), borrowed until the next
 * reset, and where the fix came from ("close_notes", "Comment 3 (jsmith,
 * 2024-03-04 10:15)"), or NULL when the record has none. */
int kb_trecord_finish(kb_trecord *r, char *values[KB_TF_COUNT], size_t lens[KB_TF_COUNT],
                      const char **fix_from);

#endif
