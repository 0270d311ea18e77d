/* ticket_format.h — the fields of a ticket and the known export formats of
 * ticket systems (lib/data/ticket_formats.txt).
 *
 * ticket.c reads CSV cells and JSON keys; this module says what each
 * column is for (by the format recognised, ticket_formats.txt) and what
 * the format's rules are: its dates, its priority scale
 * (lib/data/priority_scales.txt), its empty values, its comments and where
 * it keeps the fix. ticket_record.h puts a record together by them, and
 * ticket.c then validates the values and builds the kb_doc.
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

/* ## A format's rules (NULL f: none) */

/* A date as the system writes it ("04/Mar/24 10:15 AM") in ISO form
 * ("2024-03-04 10:15") into out; false when the format has no date form
 * of its own or v is not in it. */
bool kb_tformat_date(const kb_tformat *f, const char *v, size_t len, kb_buf *out);
/* "P1".."P4" for a case-folded priority in the format's scale, or NULL. */
const char *kb_tformat_priority(const kb_tformat *f, const char *folded);
/* What a field's code stands for ("FIELD values:" in the data: ServiceNow's
 * state 6 is Resolved), or NULL. Owned by the table. */
const char *kb_tformat_value(const kb_tformat *f, int field, const char *v, size_t len);
/* Whether v is one of the values the format writes for "none" (0000-00-00). */
bool kb_tformat_is_empty(const kb_tformat *f, const char *v, size_t len);

/* The parts of a CSV comment cell, "date;author;text". */
typedef enum kb_tpart { KB_TPART_DATE, KB_TPART_AUTHOR, KB_TPART_TEXT } kb_tpart;
/* 3 and the parts in order, or 0 when the format's comments are not cut. */
size_t kb_tformat_comment_parts(const kb_tformat *f, kb_tpart parts[3]);

/* Where a format keeps the fix, tried in order ("fix:"). */
typedef enum kb_tfix {
  KB_TFIX_FIELD,                 /* the resolution column */
  KB_TFIX_COMMENT_BEFORE_CLOSED, /* the last comment dated at or before closing */
  KB_TFIX_AGENT_COMMENT,         /* the last public comment not by the requester */
} kb_tfix;
/* How many methods, *methods borrowed from the table (0: the resolution
 * column alone). */
size_t kb_tformat_fix(const kb_tformat *f, const kb_tfix **methods);

/* A column's role in words, appended to out ("; " between roles), for
 * kb-index import --dry-run. */
void kb_tcol_describe(const kb_tcol *c, kb_buf *out);

#endif

