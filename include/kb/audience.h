/* audience.h — who reads the index, and what each reader may see.
 *
 * An index folder holds one Xapian database per audience (PATH/<name>/),
 * each a complete index of exactly what its readers may see: its
 * documents, and of each document the sections it may read. So ranking
 * statistics, document lengths, match counts, facets, spelling data and
 * completions are each audience's own, and an audience's answers depend on
 * nothing it may not see. Writers keep every audience's database in step
 * (lib/index.cc); a reader opens its audience's only.
 *
 * The audiences are the one list below. The first sees everything (the
 * engineers): a writer's lookups read its database, and it is committed
 * last, so that what it holds about the import (checkpoints) is true of
 * every database. Another audience (signed-in customers with a contract,
 * one organisation) is one more line: the visibilities it sees and whether
 * it reads internal sections.
 */
#ifndef KB_AUDIENCE_H
#define KB_AUDIENCE_H

#include <stdbool.h>

#include "kb/doc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(enum name, folder name, visibilities seen (comma-separated; NULL =
 * every document), internal sections seen) */
#define KB_AUDIENCE_LIST(X)                 \
  X(INTERNAL, "internal", NULL, true)       \
  X(PUBLIC, "public", "public", false)

typedef enum kb_audience {
#define KB_AUDIENCE_ENUM(name, folder, visibilities, sections) KB_AUDIENCE_##name,
  KB_AUDIENCE_LIST(KB_AUDIENCE_ENUM)
#undef KB_AUDIENCE_ENUM
  KB_AUDIENCE_COUNT
} kb_audience;

/* A set of audiences: bit (1u << audience) for each. */
typedef unsigned kb_audiences;
#define KB_AUDIENCES_ALL ((1u << KB_AUDIENCE_COUNT) - 1)

/* The folder name of an audience's database ("public"). Static storage. */
const char *kb_audience_name(kb_audience a);
/* The audience named name, or -1. */
int kb_audience_from_name(const char *name);
/* The audiences that may see doc (by its visibility). */
kb_audiences kb_audiences_of(const kb_doc *doc);
/* The audiences that may read internal sections (of the documents they see). */
kb_audiences kb_audiences_internal_sections(void);

#ifdef __cplusplus
}
#endif

#endif
