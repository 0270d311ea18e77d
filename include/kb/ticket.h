/* ticket.h — closed-ticket exports (JSONL and CSV) into kb_doc records,
 * with the line each record starts on, for precise errors.
 *
 * A reader streams one input (a file or standard input, gzip-compressed or
 * not, detected by magic bytes) in any charset ICU converts (detected or
 * given); records come out one at a time, so memory does not grow with the
 * input. Fields come from the CSV header or JSON keys through a default
 * name table (lib/data/ticket_fields.txt: English and Chinese column names)
 * and the user's --map.
 *
 * Ticket fields: id (required), title, problem, resolution (at least one of
 * the three), product, category, priority (P1–P4, also 1–4, p1, 紧急/高/中/低,
 * critical/high/medium/low), status, created, closed (ISO 8601 or
 * YYYY-MM-DD HH:MM:SS), tags, visibility (default internal), customer.
 */
#ifndef KB_TICKET_H
#define KB_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kb/charset.h"
#include "kb/doc.h"
#include "kb/error.h"

typedef enum kb_ticket_format {
  KB_TICKET_AUTO,  /* by file name (.csv, .csv.gz → CSV), else JSONL */
  KB_TICKET_JSONL,
  KB_TICKET_CSV,
} kb_ticket_format;

typedef struct kb_ticket_opts {
  kb_ticket_format format;
  const char *encoding; /* "auto" (NULL), "utf-8", "gbk", "gb18030", "big5", any ICU name */
  const char *map;      /* "title=主题,id=工单号" (NULL = defaults only) */
  size_t max_record;    /* bytes; 0 = 1 MiB */
} kb_ticket_opts;

/* A record that was skipped: where it starts, which field, why, and its
 * text as it was in the input (for a rejects file). */
typedef struct kb_ticket_reject {
  size_t line;          /* 1-based line where the record starts */
  char field[32];       /* "" when the record as a whole is bad */
  char reason[256];
  char *raw;            /* the record's bytes; owned by the reader, valid until the next call */
  size_t raw_len;
} kb_ticket_reject;

typedef struct kb_ticket_reader kb_ticket_reader;

/* Opens path ("-" = standard input). For CSV the header is read here. The
 * error names the file and, for a bad header or --map, the reason. */
int kb_ticket_reader_open(const char *path, const kb_ticket_opts *opts, kb_ticket_reader **out,
                          kb_error *err);
void kb_ticket_reader_free(kb_ticket_reader *r);

/* The next record: KB_OK and *doc (caller frees); KB_EPARSE, KB_EENCODING or
 * KB_ETOOBIG with *rej filled (the record is skipped, call again);
 * KB_ENOENT at the end; another negative code on a read error (in err). */
int kb_ticket_reader_next(kb_ticket_reader *r, kb_doc **doc, kb_ticket_reject *rej,
                          kb_error *err);

/* The charset the input is read in, and how it was chosen (charset.h).
 * With --encoding auto the whole input is read once at open to judge it
 * (standard input is copied to a temporary file for that). Owned by the
 * reader. */
const kb_charset_choice *kb_ticket_reader_charset(const kb_ticket_reader *r);
/* Whether the last record returned had bytes decoded by a guessed charset
 * (KB_CHARSET_GUESSED): such a record must not replace a stored one. */
bool kb_ticket_reader_guessed(const kb_ticket_reader *r);

/* A CSV input's header row as it was in the input (its charset, its line
 * end), or NULL for JSONL. Owned by the reader. */
const char *kb_ticket_reader_header(const kb_ticket_reader *r, size_t *len);

/* Bytes of the (uncompressed) input consumed through the end of the last
 * record returned or rejected, and the lines so far. */
uint64_t kb_ticket_reader_offset(const kb_ticket_reader *r);
size_t kb_ticket_reader_line(const kb_ticket_reader *r);
/* The line where the last record returned or rejected starts (1-based). */
size_t kb_ticket_reader_record_line(const kb_ticket_reader *r);
/* The input's name for messages: its path, or "(stdin)". Owned by the reader. */
const char *kb_ticket_reader_path(const kb_ticket_reader *r);
/* Bytes read from the file itself (compressed), for progress against its size. */
uint64_t kb_ticket_reader_raw_offset(const kb_ticket_reader *r);

/* Skips forward to a position an earlier reader reported (offset, line),
 * to resume an import. Only forward from where the reader is. */
int kb_ticket_reader_skip_to(kb_ticket_reader *r, uint64_t offset, size_t line, kb_error *err);

/* ## JSON records one at a time
 *
 * A kb_ticket_json holds the field-name map (built once: --map, then the
 * defaults) for many records, e.g. the lines of a POST body. */
typedef struct kb_ticket_json kb_ticket_json;

/* map as in kb_ticket_opts (NULL = defaults). Caller frees. */
int kb_ticket_json_new(const char *map, kb_ticket_json **out, kb_error *err);
void kb_ticket_json_free(kb_ticket_json *p);
/* One JSON object as a ticket; line is used in *rej. Returns as
 * kb_ticket_reader_next (KB_OK with *doc, or a reject code). */
int kb_ticket_json_parse(const kb_ticket_json *p, const char *json, size_t len, size_t line,
                         kb_doc **doc, kb_ticket_reject *rej);

/* One JSON object (a JSONL line, or a POST body line) as a ticket; line is
 * used in *rej. Builds the name map for this one call. */
int kb_ticket_from_json(const char *json, size_t len, size_t line, const char *map,
                        kb_doc **doc, kb_ticket_reject *rej);

/* "P1".."P4" for a priority as exports write it, or NULL. */
const char *kb_ticket_priority(const char *value);

#endif
