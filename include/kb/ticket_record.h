/* ticket_record.h — one ticket record put together from its columns by
 * its export format's rules (ticket_format.h): the first non-empty column
 * of a field by the format's order, tags joined, rich text made plain
 * (richtext.h), a system's dates and priority scale read, the resolution's
 * name added to the status ("Closed / Fixed"), and the fix taken from where
 * the system keeps it (its field, the last comment before closing, the
 * last public comment of an agent), with where it came from.
 */
#ifndef KB_TICKET_RECORD_H
#define KB_TICKET_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "kb/ticket_format.h"

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
