/* import.h — bulk import of ticket exports into the index: a reading and
 * analysing thread feeding the writer, commits in batches, a checkpoint in
 * the index so that an interrupted import resumes where its last batch
 * ended, and per-record rejects that never stop the run.
 *
 * Crash safety: each batch is one Xapian commit holding its documents and
 * the checkpoint (input identity → offset, line, records), so a kill at any
 * moment leaves the index as of the last whole batch, and a re-run of the
 * same input skips what is committed and goes on from there. A fatal error
 * does not undo the unfinished batch: closing a writer (the index or a
 * shard) commits what it holds if it can (Xapian commits on close), maybe
 * ahead of the checkpoint, and a re-run finds those records unchanged.
 *
 * Charsets: a record decoded by a charset that was guessed (charset.h,
 * KB_CHARSET_GUESSED) may add a ticket but never replaces a stored one with
 * different content: it is rejected, naming the charset to confirm with
 * --encoding.
 */
#ifndef KB_IMPORT_H
#define KB_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kb/doc.h"
#include "kb/error.h"
#include "kb/index.h"
#include "kb/ticket.h"
#include "kb/tokenize.h"

typedef enum kb_upsert {
  KB_UPSERT_NEW,
  KB_UPSERT_UPDATED,
  KB_UPSERT_UNCHANGED,
} kb_upsert;

/* Stores doc (which must have id and type) unless the index already holds
 * the same content (by hash); *outcome says which. No commit. */
int kb_import_doc(kb_index *idx, kb_tokenizer *t, kb_doc *doc, kb_upsert *outcome,
                  kb_error *err);

typedef struct kb_import_stats {
  size_t imported, updated, unchanged, rejected;
  size_t resumed;      /* records skipped because a checkpoint had them */
  uint64_t bytes;      /* input bytes read (uncompressed) */
  uint64_t raw_bytes;  /* file bytes read (compressed), for progress */
  uint64_t raw_total;  /* file size, 0 when unknown (stdin) */
  double seconds;
} kb_import_stats;

typedef struct kb_import_opts {
  kb_ticket_opts ticket;
  size_t batch;               /* records per commit; 0 = KB_IMPORT_BATCH */
  /* > 1: write that many staging shards in parallel (kb_import_merge then
   * merges them into the index); 0 or 1: write the index directly */
  unsigned shards;
  bool no_resume;             /* ignore a checkpoint: read the input from its start */
  const kb_lexicon *lexicon;  /* for the analysing thread's tokenizer */
  /* called in order, on the calling thread; header is a CSV input's header
   * row (NULL for JSONL), so that a rejects file can be re-imported */
  void (*on_reject)(const char *path, const char *header, size_t header_len,
                    const kb_ticket_reject *rej, void *ctx);
  void (*on_progress)(const char *path, const kb_import_stats *st, void *ctx);
  void (*on_resume)(const char *path, size_t records, uint64_t offset, void *ctx);
  /* the charset an input is read in, once it is opened (ticket.h) */
  void (*on_charset)(const char *path, const kb_charset_choice *charset, void *ctx);
  void *ctx;
} kb_import_opts;

#define KB_IMPORT_BATCH 5000

/* Imports one file ("-" = standard input, never resumed). stats
 * accumulate. Returns KB_OK when the whole input was read (rejects are
 * counted, not errors), or a fatal error. */
int kb_import_file(kb_index *idx, const char *path, const kb_import_opts *opts,
                   kb_import_stats *stats, kb_error *err);

/* A sharded import: each writer thread stores the documents whose id hashes
 * to it in its own staging index inside the index folder, committing its
 * share of each batch with the checkpoint; a re-run resumes from the
 * earliest checkpoint of the shards. Search sees nothing of it until
 * kb_import_merge compacts the index and the shards into a new folder and
 * swaps it in (the shards' version of an id replaces the index's); a crash
 * before that leaves the index as it was and the shards for the re-run.
 * Returns how many staging shards the index folder holds. */
size_t kb_import_staged(const kb_index *idx);
/* Merges the staging shards into *idx (reopened in place); nothing to do
 * when there are none. */
int kb_import_merge(kb_index **idx, kb_error *err);

#endif
