/* index.h — the C wrapper over Xapian: open, replace by id, delete,
 * commit, search, facets, metadata; and Xapian's stemmer.
 *
 * Only lib/index.cc includes <xapian.h>. Every function catches every
 * Xapian exception and turns it into a kb_error carrying Xapian's message;
 * no exception ever crosses into C.
 */
#ifndef KB_INDEX_H
#define KB_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kb/audience.h"
#include "kb/error.h"
#include "kb/text.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ## Stemmer */

typedef struct kb_stemmer kb_stemmer;

/* language: a Xapian stemmer name ("english"). Caller frees. */
int kb_stemmer_new(const char *language, kb_stemmer **out, kb_error *err);
void kb_stemmer_free(kb_stemmer *s);
/* Appends the stem of word[0..len) to out. */
int kb_stemmer_stem(kb_stemmer *s, const char *word, size_t len, kb_buf *out);

/* ## Documents to store
 *
 * A kb_xdoc is what the analyzer hands the index: postings, boolean terms,
 * value slots and the stored data, built in C and copied into Xapian
 * documents by kb_index_replace(). It holds one version of the document
 * for each audience that may see it (kb/audience.h): made by kb_xdoc_new(),
 * it has a version for every audience, and each call without _for adds to
 * all of its versions; a _for call adds to those of the audiences in who. */
typedef struct kb_xdoc kb_xdoc;

int kb_xdoc_new(kb_xdoc **out);
void kb_xdoc_free(kb_xdoc *d);
/* Keeps the versions of the audiences in who only: the others may not see
 * the document (kb_index_replace removes it from their databases). */
void kb_xdoc_set_audiences(kb_xdoc *d, kb_audiences who);
kb_audiences kb_xdoc_audiences(const kb_xdoc *d);
/* A term occurrence at a position (pos 0 = no position), adding wdf_inc. */
int kb_xdoc_add_posting(kb_xdoc *d, const char *term, size_t len, uint32_t pos, uint32_t wdf_inc);
int kb_xdoc_add_posting_for(kb_xdoc *d, kb_audiences who, const char *term, size_t len,
                            uint32_t pos, uint32_t wdf_inc);
/* A term without position (boolean filters use wdf_inc 0). */
int kb_xdoc_add_term(kb_xdoc *d, const char *term, size_t len, uint32_t wdf_inc);
int kb_xdoc_add_term_for(kb_xdoc *d, kb_audiences who, const char *term, size_t len,
                         uint32_t wdf_inc);
int kb_xdoc_set_value(kb_xdoc *d, unsigned slot, const char *value, size_t len);
int kb_xdoc_set_value_for(kb_xdoc *d, kb_audiences who, unsigned slot, const char *value,
                          size_t len);
int kb_xdoc_set_data(kb_xdoc *d, const char *data, size_t len);
/* A word for the index's spelling data ("did you mean"), added when the
 * document is stored. */
int kb_xdoc_add_spelling(kb_xdoc *d, const char *word, size_t len);
int kb_xdoc_add_spelling_for(kb_xdoc *d, kb_audiences who, const char *word, size_t len);
/* Appends value slot slot of the audience's version (nothing when d has
 * none for it): what tests and the writer compare. */
int kb_xdoc_get_value(const kb_xdoc *d, kb_audience a, unsigned slot, kb_buf *out);

/* ## Index
 *
 * An index is a folder, PATH, holding one Xapian database per audience,
 * PATH/<audience>/ (kb/audience.h): a writer keeps them all in step, a
 * reader opens one (kb_index_open_for) or all of them (kb_index_open),
 * answering from the first audience's, which holds every document. Beside
 * it, PATH.lock is held by its writer. A folder of the layout before
 * audiences (one database at PATH) is refused with a message asking for a
 * re-index. */
typedef struct kb_index kb_index;

typedef enum kb_index_mode {
  KB_INDEX_READ,  /* read-only; fails if absent */
  KB_INDEX_WRITE, /* create if absent; one writer at a time */
} kb_index_mode;

int kb_index_open(const char *path, kb_index_mode mode, kb_index **out, kb_error *err);
/* A reader of one audience's database: everything it answers is of what
 * that audience may see. */
int kb_index_open_for(const char *path, kb_audience audience, kb_index **out, kb_error *err);
/* Whether path holds an index. */
bool kb_index_exists(const char *path);
/* Closes the index. A writer's uncommitted changes are not discarded:
 * Xapian commits them on close, and swallows an error in doing so; call
 * kb_index_commit() first to see it (what kb_index_set_writer_meta() set
 * is dropped unless committed). After a write that failed (since the last
 * commit), they are discarded instead: each database stays at its last
 * commit, the one an import's checkpoint describes. NULL does nothing.
 *
 * A write that fills the disk is KB_ENOSPC, its message naming the index.
 * Where Xapian 1.4 cannot report it and terminates the process from inside
 * commit(), the process says so (the index, the reason) and exits with
 * status 1 instead of aborting: the index is then as a crash leaves it, at
 * its last commit. */
void kb_index_free(kb_index *idx);

/* Replaces the document whose unique term is id_term (adds it if absent)
 * in the database of each audience doc has a version for, and removes it
 * from the databases of the others (a ticket made internal leaves the
 * public's). */
int kb_index_replace(kb_index *idx, const char *id_term, const kb_xdoc *doc, kb_error *err);
/* Whether idx holds doc under id_term as kb_index_replace() would leave
 * it, judged by value slot slot (a content hash of each version): the
 * database of each audience doc has a version for holds id_term with that
 * version's value in slot, the others hold no id_term. *present: whether
 * the first audience's database holds id_term. For a writer or a reader
 * of every audience. */
int kb_index_holds(kb_index *idx, const char *id_term, const kb_xdoc *doc, unsigned slot,
                   bool *same, bool *present, kb_error *err);
/* kb_index_replace() in the databases that do not hold doc as it is (as
 * kb_index_holds judges them): an unchanged version is not stored again,
 * so that a database whose audience sees nothing new is not touched (an
 * internal section rewritten leaves the public's as it was), and a run cut
 * between the commits of two databases is finished by the next. *changed:
 * whether any database changed; *present as kb_index_holds. */
int kb_index_update(kb_index *idx, const char *id_term, const kb_xdoc *doc, unsigned slot,
                    bool *changed, bool *present, kb_error *err);
/* Deletes by unique term from every database; *found (if not NULL) says
 * whether any held it. */
int kb_index_delete(kb_index *idx, const char *id_term, bool *found, kb_error *err);
/* Commits every database that changed, the first audience's last (two
 * commits are not atomic: what it holds, such as an import checkpoint, is
 * then true of all of them). A database without changes is not touched,
 * not even its revision. */
int kb_index_commit(kb_index *idx, kb_error *err);
/* For a reader: picks up the latest commit. *changed says whether it moved. */
int kb_index_reopen(kb_index *idx, bool *changed, kb_error *err);
/* How many reopens have moved the reader: what depends on the index's
 * contents compares it with the generation it was built at. */
uint64_t kb_index_generation(const kb_index *idx);
/* The contents the handle sees, as one number shared by every handle on
 * them (the database's UUID, which a merge changes, and its revision): for
 * what is kept across handles, such as cached answers. */
uint64_t kb_index_version(const kb_index *idx);

/* Stored data of the document with this unique term; *data is malloc'ed
 * (caller frees) or NULL when the document is absent. */
int kb_index_get_data(kb_index *idx, const char *id_term, char **data, kb_error *err);
/* Value slot of the document with this unique term, or NULL when absent. */
int kb_index_get_value(kb_index *idx, const char *id_term, unsigned slot, char **value,
                       kb_error *err);

/* Appends Xapian's spelling suggestion for word (within max_edits edits,
 * from the spelling data of stored documents); nothing when it has none. */
int kb_index_spelling(kb_index *idx, const char *word, unsigned max_edits, kb_buf *out,
                      kb_error *err);

/* Calls fn for every term starting with prefix (in sorted order) with its
 * document frequency; a non-zero return stops and is returned. */
typedef int (*kb_term_fn)(const char *term, size_t len, uint32_t doc_freq, void *ctx);
int kb_index_each_term(kb_index *idx, const char *prefix, kb_term_fn fn, void *ctx,
                       kb_error *err);

/* Calls fn with the value in slot of every document indexed by term. */
typedef int (*kb_value_fn)(const char *value, size_t len, void *ctx);
int kb_index_each_value(kb_index *idx, const char *term, unsigned slot, kb_value_fn fn,
                        void *ctx, kb_error *err);

uint32_t kb_index_doc_count(kb_index *idx);
/* Documents in audience a's database (0 when idx did not open it). */
uint32_t kb_index_doc_count_for(kb_index *idx, kb_audience a);
uint32_t kb_index_term_freq(kb_index *idx, const char *term);
uint64_t kb_index_unique_terms(kb_index *idx);

/* Database metadata (key → value), read from the database that answers.
 * *value is malloc'ed, "" when unset. */
int kb_index_get_meta(kb_index *idx, const char *key, char **value, kb_error *err);
/* Sets key in every database: settings every reader uses (the lexicon,
 * synonyms). */
int kb_index_set_meta(kb_index *idx, const char *key, const char *value, kb_error *err);
/* Sets key for the writers only (import checkpoints, article folders): in
 * the first audience's database, at the next kb_index_commit() once every
 * other database has committed, so that a checkpoint holds for all. An
 * empty value removes the key. */
int kb_index_set_writer_meta(kb_index *idx, const char *key, const char *value, kb_error *err);

/* Calls fn for every metadata key starting with prefix, with its value; a
 * non-zero return stops and is returned. */
typedef int (*kb_meta_fn)(const char *key, const char *value, void *ctx);
int kb_index_each_meta(kb_index *idx, const char *prefix, kb_meta_fn fn, void *ctx,
                       kb_error *err);

/* Replaces each audience's database of the writer *main by a compaction
 * of it and the n shard indexes' of that audience (its metadata wins over
 * theirs), removes the shards and reopens *main there. A document of *main
 * whose unique term (starting with id_prefix) a shard holds is replaced by
 * the shard's version, and removed from the audiences the shard's version
 * is not for; search sees the old version until the swap and the new one
 * after, never neither. Every audience is compacted before any is
 * swapped in; each audience's swap is two renames, finished by the next
 * writer if it is cut between them, the first audience's last; the merge
 * of an audience already swapped, run again, gives the same database.
 * Readers see the new folder on their next kb_index_reopen(). On a failed
 * compaction (a full disk) every database is as it was; a crash between
 * two audiences' swaps is finished by running the merge again (*main may
 * be NULL if reopening failed). */
int kb_index_replace_by_compaction(kb_index **main, const char *const *shards, size_t n,
                                   const char *id_prefix, kb_error *err);

/* Bytes on disk of the index folder (every audience's database). */
uint64_t kb_index_size_bytes(kb_index *idx);
const char *kb_index_path(const kb_index *idx);

/* ## Queries
 *
 * A query tree built by the query module and translated node by node into a
 * Xapian::Query. */
typedef enum kb_qop {
  KB_Q_TERM,      /* term, weighted by scale (wqf 1) */
  KB_Q_FILTER,    /* boolean term: matches without weight */
  KB_Q_MATCH_ALL, /* every document */
  KB_Q_AND,
  KB_Q_OR,
  KB_Q_AND_NOT,   /* kids[0] without any of kids[1..] */
  KB_Q_AND_MAYBE, /* kids[0], scored also by kids[1..] */
  KB_Q_PHRASE,    /* kids are terms in order */
  KB_Q_NEAR,      /* kids within window positions, any order */
  KB_Q_SYNONYM,   /* kids weighted as one term */
  KB_Q_FILTERED,  /* kids[0] restricted by kids[1] without weight */
  KB_Q_VALUE_RANGE, /* value slot `window` between term and term2 (strings) */
} kb_qop;

typedef struct kb_qnode {
  kb_qop op;
  char *term;     /* KB_Q_TERM, KB_Q_FILTER; low bound of KB_Q_VALUE_RANGE */
  char *term2;    /* high bound of KB_Q_VALUE_RANGE */
  double scale;   /* weight multiplier, 1.0 by default */
  unsigned window; /* KB_Q_PHRASE, KB_Q_NEAR; 0 = number of kids. KB_Q_OR:
                      when nonzero, an OR of more subqueries (its nested
                      ORs counted as theirs) matches only this many, those
                      that can weigh most (Xapian's OP_ELITE_SET) */
  struct kb_qnode **kids;
  size_t nkids;
  size_t cap;
} kb_qnode;

/* ## Search */

typedef struct kb_search_opts {
  size_t offset;
  size_t limit;
  bool sort_by_date;        /* value slot date_slot descending, then relevance */
  unsigned date_slot;
  double relative_cutoff;   /* matches score at least this fraction of the best (0 = any) */
  const char *cut_ignores;  /* a term whose weight the best is taken without
                               (a bonus that must not shrink the set), or NULL */
  const unsigned *facet_slots; /* value slots to count over the whole match set */
  size_t nfacets;
  bool facets_joined;       /* facets_joined_slot holds the facet slots' values
                               joined by '\x1f' (in facet_slots' order): read
                               instead of them when every document has it */
  unsigned facets_joined_slot;
  uint32_t check_at_least;  /* exact counts up to this many matches; past it
                               total and facets are scaled up from the part
                               counted */
  double bm25_k1, bm25_b;   /* 0 = Xapian's defaults */
  double bm25_min_normlen;  /* a document shorter than this fraction of the
                               average length is scored as that long (0 =
                               Xapian's 0.5) */
  const unsigned *value_slots; /* value slots to return with each hit */
  size_t nvalues;
} kb_search_opts;

typedef struct kb_hit {
  uint32_t docid;
  double score;
  int percent;
  char *data; /* stored data, malloc'ed */
  char **values; /* the requested value slots, in order, malloc'ed */
  size_t *value_lens;
  size_t nvalues;
} kb_hit;

typedef struct kb_facet_count {
  char *value;
  uint32_t count;
} kb_facet_count;

typedef struct kb_results {
  kb_hit *hits;
  size_t nhits;
  uint32_t total;       /* matches estimated (exact when total_exact) */
  bool total_exact;
  kb_facet_count **facets; /* per requested slot, sorted by count desc */
  size_t *nfacet;          /* entries per slot */
  size_t nfacets;
} kb_results;

/* Documents most like the document with unique term id_term: the top terms
 * of its expand set (relevance feedback) as a query, the document itself
 * left out. restrict (may be NULL) filters the candidates (visibility,
 * type). Results as kb_index_search. */
int kb_index_similar(kb_index *idx, const char *id_term, const kb_qnode *restrict_to,
                     const kb_search_opts *opts, kb_results **out, kb_error *err);

/* Runs q; *out is caller-freed with kb_results_free(). */
int kb_index_search(kb_index *idx, const kb_qnode *q, const kb_search_opts *opts,
                    kb_results **out, kb_error *err);
void kb_results_free(kb_results *r);

#ifdef __cplusplus
}
#endif

#endif
