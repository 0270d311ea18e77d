/* import.c — ticket exports into the index: reader/analyser thread, writer,
 * batches, checkpoints. */
#include "kb/import.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "kb/analyze.h"

#define QUEUE_CAP 512
#define CHECKPOINT_PREFIX "kb:import:"

/* ---------------------------------------------------------------- upsert */

/* The content hash of a document: the analyzer version and every field and
 * segment, so that the same ticket from CSV or JSONL hashes the same. */
static void doc_hash(const kb_doc *doc, char hex[17]) {
  kb_buf b = {0};
  kb_buf_puts(&b, KB_ANALYZER_VERSION);
  for (int f = 0; f < KB_FIELD_COUNT; f++) {
    const char *v = kb_doc_get(doc, (kb_field)f);
    if (f == KB_FIELD_HASH || f == KB_FIELD_SOURCE) continue;
    kb_buf_printf(&b, "\x1f%d=", f);
    if (v) kb_buf_puts(&b, v);
  }
  for (size_t i = 0; i < kb_doc_segment_count(doc); i++) {
    const kb_segment *s = kb_doc_segment(doc, i);
    kb_buf_printf(&b, "\x1e%d%d", (int)s->kind, (int)s->internal);
    kb_buf_append(&b, s->text, s->len);
  }
  kb_hash_hex(b.data, b.len, hex);
  kb_buf_free(&b);
}

/* Stores an analysed document in the databases of idx that do not hold it
 * as it is (by the hash of each version): a run cut between the commits of
 * two databases is finished by the next. A sharded import also looks in
 * the index being imported into (below, NULL otherwise): a document it
 * holds unchanged is left there, a changed one goes to the shard and
 * replaces the index's copy when the shards merge. */
static int store(kb_index *idx, kb_index *below, const char *id_term, const kb_xdoc *xd,
                 kb_upsert *outcome, kb_error *err) {
  bool changed = false, present = false;
  int rc = KB_OK;
  if (below) {
    bool same = false;
    rc = kb_index_holds(idx, id_term, xd, KB_SLOT_HASH, &same, &present, err);
    if (rc == KB_OK && !present) {
      rc = kb_index_holds(below, id_term, xd, KB_SLOT_HASH, &same, &present, err);
      if (rc == KB_OK && !same) rc = kb_index_replace(idx, id_term, xd, err);
      changed = !same;
    } else if (rc == KB_OK) {
      rc = kb_index_update(idx, id_term, xd, KB_SLOT_HASH, &changed, &present, err);
    }
  } else {
    rc = kb_index_update(idx, id_term, xd, KB_SLOT_HASH, &changed, &present, err);
  }
  *outcome = !changed ? KB_UPSERT_UNCHANGED : present ? KB_UPSERT_UPDATED : KB_UPSERT_NEW;
  return rc;
}

/* A ticket made ready to store: its content hash (set on it too), its
 * analysis into *xd and its id term; the caller frees both, also on
 * failure. */
static int prepare_doc(kb_tokenizer *t, kb_doc *doc, char hash[17], kb_xdoc **xd,
                       kb_buf *id_term, kb_error *err) {
  doc_hash(doc, hash);
  kb_doc_set_str(doc, KB_FIELD_HASH, hash);
  int rc = kb_analyze_doc(t, doc, xd, err);
  if (rc == KB_OK && kb_id_term(kb_doc_get(doc, KB_FIELD_ID), id_term) != KB_OK)
    rc = kb_error_set(err, KB_ENOMEM, "out of memory");
  return rc;
}

int kb_import_doc(kb_index *idx, kb_tokenizer *t, kb_doc *doc, kb_upsert *outcome,
                  kb_error *err) {
  char hex[17];
  kb_xdoc *xd = NULL;
  kb_buf term = {0};
  int rc = prepare_doc(t, doc, hex, &xd, &term, err);
  if (rc == KB_OK) rc = store(idx, NULL, term.data, xd, outcome, err);
  kb_xdoc_free(xd);
  kb_buf_free(&term);
  return rc;
}

/* ----------------------------------------------------------------- queue */

/* One queue per writer; the reader routes a document to writer
 * (hash of id) % writers, so that every version of an id meets the same
 * writer, and rejects to writer 0, the calling thread. */
typedef struct item {
  kb_xdoc *xd; /* NULL for a reject */
  char *id_term;
  char hash[17];
  kb_ticket_reject rej; /* rej.raw owned by the item */
  uint64_t offset, raw_offset;
  size_t line, records; /* records read so far, this one included */
  size_t record_line;   /* where it starts, for errors */
} item;

typedef struct queue {
  pthread_cond_t not_empty, not_full;
  item q[QUEUE_CAP];
  size_t head, count, cap; /* the writers share QUEUE_CAP: memory stays bounded */
} queue;

typedef struct pipeline {
  pthread_mutex_t lock;
  queue *queues;
  size_t nqueues;
  bool done;     /* the reader has finished */
  bool stop;     /* a writer gave up */
  int read_rc;   /* the reader's fatal error, if any */
  kb_error read_err;
  size_t records; /* where the reader starts counting (a checkpoint's count) */
  kb_ticket_reader *reader;
  const char *name; /* the input, as errors name it */
  const char *index_path; /* for the reading thread's own reader of it (guard_guess) */
  kb_index *stored;       /* that reader, opened at the first guessed record */
  kb_index **staged;      /* and a reader of each staged shard then (sharded imports) */
  size_t nstaged;
  const kb_lexicon *lexicon;
} pipeline;

static void item_free(item *it) {
  kb_xdoc_free(it->xd);
  free(it->id_term);
  free(it->rej.raw);
}

static void push(pipeline *p, size_t k, item *it) {
  queue *q = &p->queues[k];
  pthread_mutex_lock(&p->lock);
  while (q->count == q->cap && !p->stop) pthread_cond_wait(&q->not_full, &p->lock);
  if (p->stop) {
    pthread_mutex_unlock(&p->lock);
    item_free(it);
    return;
  }
  q->q[(q->head + q->count) % QUEUE_CAP] = *it;
  q->count++;
  pthread_cond_signal(&q->not_empty);
  pthread_mutex_unlock(&p->lock);
}

/* Takes the next item of queue k; false when the reader is done and the
 * queue empty. */
static bool pop(pipeline *p, size_t k, item *it) {
  queue *q = &p->queues[k];
  pthread_mutex_lock(&p->lock);
  while (q->count == 0 && !p->done) pthread_cond_wait(&q->not_empty, &p->lock);
  bool got = q->count > 0;
  if (got) {
    *it = q->q[q->head];
    q->head = (q->head + 1) % QUEUE_CAP;
    q->count--;
    pthread_cond_signal(&q->not_full);
  }
  pthread_mutex_unlock(&p->lock);
  return got;
}

static void stop_all(pipeline *p) {
  pthread_mutex_lock(&p->lock);
  p->stop = true;
  for (size_t k = 0; k < p->nqueues; k++) pthread_cond_broadcast(&p->queues[k].not_full);
  pthread_mutex_unlock(&p->lock);
}

static void staging_path(const kb_index *idx, size_t k, char *out, size_t n);

/* Opens the readers guard_guess looks in: the index, and each shard staged
 * in it (by earlier inputs of this run or by a run whose merge failed),
 * whose copies replace the index's at the merge. */
static int open_stored(pipeline *p, kb_error *err) {
  int rc = kb_index_open(p->index_path, KB_INDEX_READ, &p->stored, err);
  size_t n = rc == KB_OK ? kb_import_staged(p->stored) : 0;
  if (n) {
    p->staged = calloc(n, sizeof *p->staged);
    if (!p->staged) return kb_error_set(err, KB_ENOMEM, "out of memory");
  }
  for (size_t k = 0; k < n && rc == KB_OK; k++, p->nstaged++) {
    char sp[PATH_MAX + 32];
    staging_path(p->stored, k, sp, sizeof sp);
    rc = kb_index_open(sp, KB_INDEX_READ, &p->staged[k], err);
  }
  return rc;
}

static void close_stored(pipeline *p) {
  for (size_t k = 0; k < p->nstaged; k++) kb_index_free(p->staged[k]);
  free(p->staged);
  p->staged = NULL;
  p->nstaged = 0;
  kb_index_free(p->stored);
  p->stored = NULL;
}

/* A record decoded by a guessed charset may add a ticket, never replace a
 * stored one: the guess may be wrong where the stored copy was right. Such
 * a record becomes a reject (its text as it was, for a re-run with
 * --encoding). Looks at what is committed, in the index and in the staged
 * shards (a staged copy is the one the merge keeps, so it is the stored
 * one when there is one): a guessed record may still replace one of this
 * same input stored earlier in the run. */
static int guard_guess(pipeline *p, item *it, const kb_ticket_reject *read, kb_error *err) {
  if (!p->stored) {
    int rc = open_stored(p, err);
    if (rc != KB_OK) return rc;
  }
  char *old = NULL;
  int rc = KB_OK;
  for (size_t k = 0; k < p->nstaged && rc == KB_OK && !old; k++)
    rc = kb_index_get_value(p->staged[k], it->id_term, KB_SLOT_HASH, &old, err);
  if (rc == KB_OK && !old) rc = kb_index_get_value(p->stored, it->id_term, KB_SLOT_HASH, &old, err);
  if (rc != KB_OK || !old || strcmp(old, it->hash) == 0) {
    free(old);
    return rc;
  }
  free(old);
  const char *charset = kb_ticket_reader_charset(p->reader)->name;
  kb_xdoc_free(it->xd);
  it->xd = NULL;
  it->rej.line = it->record_line;
  snprintf(it->rej.field, sizeof it->rej.field, "id");
  snprintf(it->rej.reason, sizeof it->rej.reason,
           "已存储，不用猜测的编码覆盖；确认请用 --encoding %.40s (stored: not replaced by a "
           "record read in a guessed charset)", charset);
  it->rej.raw = read->raw ? strndup(read->raw, read->raw_len) : NULL;
  it->rej.raw_len = read->raw ? read->raw_len : 0;
  return KB_OK;
}

/* The reading and analysing thread. */
static void *read_and_analyse(void *arg) {
  pipeline *p = arg;
  kb_tokenizer *t = NULL;
  kb_error err = {0};
  size_t records = p->records;
  int rc = kb_tokenizer_new(p->lexicon, &t, &err);
  while (rc == KB_OK) {
    pthread_mutex_lock(&p->lock);
    bool stop = p->stop;
    pthread_mutex_unlock(&p->lock);
    if (stop) break;
    kb_doc *doc = NULL;
    kb_ticket_reject rej;
    int r = kb_ticket_reader_next(p->reader, &doc, &rej, &err);
    if (r == KB_ENOENT) break;
    item it = {.offset = kb_ticket_reader_offset(p->reader),
               .raw_offset = kb_ticket_reader_raw_offset(p->reader),
               .line = kb_ticket_reader_line(p->reader),
               .record_line = kb_ticket_reader_record_line(p->reader),
               .records = ++records};
    if (r == KB_EPARSE || r == KB_EENCODING || r == KB_ETOOBIG) {
      it.rej = rej;
      it.rej.raw = rej.raw ? strndup(rej.raw, rej.raw_len) : NULL;
      push(p, 0, &it);
      continue;
    }
    if (r != KB_OK) {
      rc = r;
      break;
    }
    kb_buf term = {0};
    rc = prepare_doc(t, doc, it.hash, &it.xd, &term, &err);
    kb_doc_free(doc);
    it.id_term = kb_buf_detach(&term);
    if (rc == KB_OK && kb_ticket_reader_guessed(p->reader)) rc = guard_guess(p, &it, &rej, &err);
    if (rc != KB_OK) {
      kb_error_prefix(&err, "%s:%zu: ", p->name, it.record_line);
      item_free(&it);
      break;
    }
    if (!it.xd) {
      push(p, 0, &it);
      continue;
    }
    /* to the writer its id hashes to */
    push(p, kb_fnv1a(it.id_term, strlen(it.id_term)) % p->nqueues, &it);
  }
  kb_tokenizer_free(t);
  close_stored(p);
  pthread_mutex_lock(&p->lock);
  p->records = records;
  p->done = true;
  p->read_rc = rc;
  if (rc != KB_OK) p->read_err = err;
  for (size_t k = 0; k < p->nqueues; k++) pthread_cond_broadcast(&p->queues[k].not_empty);
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

/* ----------------------------------------------------------- checkpoints */

/* An input's identity: its real path, size and modification time, and the
 * charset asked for (read in another, it is another input: a re-run with
 * --encoding after a guess reads it again). Empty for standard input,
 * which cannot be resumed. */
static void input_identity(const char *path, const char *encoding, kb_buf *key, uint64_t *size) {
  struct stat st;
  char real[PATH_MAX];
  *size = 0;
  if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
      !realpath(path, real))
    return;
  *size = (uint64_t)st.st_size;
  kb_buf id = {0};
  kb_buf_printf(&id, "%s\n%llu\n%lld.%09ld", real, (unsigned long long)st.st_size,
                (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  /* "auto" adds nothing, so that checkpoints made before this rule hold */
  if (encoding && *encoding && strcmp(encoding, "auto") != 0) kb_buf_printf(&id, "\n%s", encoding);
  char hex[17];
  kb_hash_hex(id.data, id.len, hex);
  kb_buf_printf(key, CHECKPOINT_PREFIX "%s", hex);
  kb_buf_free(&id);
}

typedef struct checkpoint {
  uint64_t offset;
  size_t line, records;
} checkpoint;

static bool read_checkpoint(kb_index *idx, const char *key, checkpoint *c) {
  char *v = NULL;
  kb_error err = {0};
  unsigned long long off;
  bool ok = kb_index_get_meta(idx, key, &v, &err) == KB_OK && *v &&
            sscanf(v, "%llu %zu %zu", &off, &c->line, &c->records) == 3;
  if (ok) c->offset = off;
  free(v);
  return ok;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void format_checkpoint(const checkpoint *c, char v[96]) {
  snprintf(v, 96, "%llu %zu %zu", (unsigned long long)c->offset, c->line, c->records);
}

/* Sets the checkpoint and commits: the batch and its checkpoint are one
 * commit of the first audience's database, after the others' (so a
 * checkpoint holds for every database). */
static int commit_batch(kb_index *idx, const char *key, const checkpoint *c, kb_error *err) {
  if (*key) {
    char v[96];
    format_checkpoint(c, v);
    int rc = kb_index_set_writer_meta(idx, key, v, err);
    if (rc != KB_OK) return rc;
  }
  return kb_index_commit(idx, err);
}

/* --------------------------------------------------------------- writers */

/* A writer stores the documents of its queue into its index: the index
 * itself, or one staging shard of a sharded import. */
typedef struct writer {
  pipeline *p;
  size_t k;
  kb_index *idx;
  kb_index *main; /* a sharded import's reader of the index: what is already there */
  const char *key;
  size_t batch, in_batch;
  checkpoint done; /* of the last document written */
  size_t imported, updated, unchanged;
  int rc;
  kb_error err;
} writer;

static int write_item(writer *w, const item *it) {
  kb_upsert outcome = KB_UPSERT_UNCHANGED;
  int rc = store(w->idx, w->main, it->id_term, it->xd, &outcome, &w->err);
  /* a failed store counts as nothing: the import stops at it */
  pthread_mutex_lock(&w->p->lock); /* the counts are read for progress */
  w->imported += rc == KB_OK && outcome == KB_UPSERT_NEW;
  w->updated += rc == KB_OK && outcome == KB_UPSERT_UPDATED;
  w->unchanged += rc == KB_OK && outcome == KB_UPSERT_UNCHANGED;
  pthread_mutex_unlock(&w->p->lock);
  w->done = (checkpoint){it->offset, it->line, it->records};
  if (rc == KB_OK && ++w->in_batch >= w->batch) {
    rc = commit_batch(w->idx, w->key, &w->done, &w->err);
    w->in_batch = 0;
  }
  /* a commit fails at the record that completes its batch */
  if (rc != KB_OK) kb_error_prefix(&w->err, "%s:%zu: ", w->p->name, it->record_line);
  return rc;
}

/* The loop of writers 1..n-1, each on its own thread. */
static void *write_shard(void *arg) {
  writer *w = arg;
  item it;
  while (w->rc == KB_OK && pop(w->p, w->k, &it)) {
    w->rc = write_item(w, &it);
    item_free(&it);
  }
  if (w->rc != KB_OK) stop_all(w->p);
  return NULL;
}

/* ---------------------------------------------------------------- import */

/* The outcome counts: those of earlier files (base) plus every writer's. */
static void add_counts(kb_import_stats *st, const size_t base[3], writer *w, size_t nw) {
  st->imported = base[0];
  st->updated = base[1];
  st->unchanged = base[2];
  pthread_mutex_lock(&w[0].p->lock);
  for (size_t k = 0; k < nw; k++) {
    st->imported += w[k].imported;
    st->updated += w[k].updated;
    st->unchanged += w[k].unchanged;
  }
  pthread_mutex_unlock(&w[0].p->lock);
}

static void staging_path(const kb_index *idx, size_t k, char *out, size_t n) {
  snprintf(out, n, "%s/staging-%zu", kb_index_path(idx), k);
}

static int thread_error(kb_error *err, int e) {
  return kb_error_set(err, KB_EINTERNAL, "无法启动线程 (cannot start a thread): %s", strerror(e));
}

/* Starts the reading thread and writers 1..nw-1 (writer 0 is the calling
 * thread). A thread that cannot start is writer 0's error, so that those
 * that did are stopped and collected as after any writer's. Returns whether
 * the reader started; *started is 1 + the writer threads that did. */
static bool start_threads(pipeline *p, writer *w, size_t nw, pthread_t *reader,
                          pthread_t *threads, size_t *started) {
  *started = 1;
  if (!threads) {
    w[0].rc = kb_error_set(&w[0].err, KB_ENOMEM, "out of memory");
    return false;
  }
  int e = pthread_create(reader, NULL, read_and_analyse, p);
  if (e) {
    w[0].rc = thread_error(&w[0].err, e);
    return false;
  }
  for (; *started < nw; ++*started) {
    e = pthread_create(&threads[*started], NULL, write_shard, &w[*started]);
    if (e) {
      w[0].rc = thread_error(&w[0].err, e);
      break;
    }
  }
  return true;
}

size_t kb_import_staged(const kb_index *idx) {
  size_t n = 0;
  for (char path[PATH_MAX + 32];; n++) {
    staging_path(idx, n, path, sizeof path);
    if (!kb_index_exists(path)) return n;
  }
}

/* The writers: the index itself, or the staging shards (each committing
 * its share of a batch, so that memory stays that of one batch). A shard
 * writer starts with no index of its own: if opening one fails, the
 * cleanup frees the shards opened so far, never the caller's index. */
static int open_writers(writer *w, size_t nw, pipeline *p, kb_index *idx, const char *key,
                        size_t batch, kb_error *err) {
  for (size_t k = 0; k < nw; k++) {
    w[k] = (writer){.p = p, .k = k, .key = key, .batch = nw > 1 ? (batch + nw - 1) / nw : batch};
    if (nw == 1) {
      w[k].idx = idx;
      return KB_OK;
    }
    char sp[PATH_MAX + 32];
    staging_path(idx, k, sp, sizeof sp);
    int rc = kb_index_open(sp, KB_INDEX_WRITE, &w[k].idx, err);
    if (rc == KB_OK) rc = kb_index_open(kb_index_path(idx), KB_INDEX_READ, &w[k].main, err);
    if (rc != KB_OK) return rc;
  }
  return KB_OK;
}

int kb_import_file(kb_index *idx, const char *path, const kb_import_opts *opts,
                   kb_import_stats *stats, kb_error *err) {
  double t0 = now_s();
  size_t nw = opts->shards > 1 ? opts->shards : 1;
  size_t batch = opts->batch ? opts->batch : KB_IMPORT_BATCH;
  kb_buf key = {0};
  uint64_t size;
  input_identity(path, opts->ticket.encoding, &key, &size);
  if (!key.data) kb_buf_append(&key, "", 0);
  stats->raw_total += size;

  writer *w = calloc(nw, sizeof *w);
  pipeline p = {.lexicon = opts->lexicon, .nqueues = nw, .queues = calloc(nw, sizeof(queue)),
                .index_path = kb_index_path(idx)};
  int rc = w && p.queues && key.data ? KB_OK : kb_error_set(err, KB_ENOMEM, "out of memory");
  if (rc == KB_OK) rc = open_writers(w, nw, &p, idx, key.data, batch, err);
  if (rc == KB_OK) rc = kb_ticket_reader_open(path, &opts->ticket, &p.reader, err);
  if (rc != KB_OK) goto out;
  p.name = kb_ticket_reader_path(p.reader);
  if (opts->on_charset) opts->on_charset(path, kb_ticket_reader_charset(p.reader), opts->ctx);

  /* resume after the last committed batch of this same input (of every shard) */
  checkpoint from = {0};
  bool resume = *key.data && !opts->no_resume;
  for (size_t k = 0; k < nw && resume; k++) {
    checkpoint c;
    resume = read_checkpoint(w[k].idx, key.data, &c);
    if (resume && (k == 0 || c.offset < from.offset)) from = c;
  }
  if (resume) {
    /* going on from wherever the reader stopped would skip or repeat records */
    rc = kb_ticket_reader_skip_to(p.reader, from.offset, from.line, err);
    if (rc != KB_OK) {
      kb_error_prefix(err, "无法从检查点继续，--restart 从头读取 (cannot resume from the "
                           "checkpoint; --restart reads the input from its start): ");
      goto out;
    }
    p.records = from.records;
    stats->resumed += from.records;
    if (opts->on_resume) opts->on_resume(path, from.records, from.offset, opts->ctx);
  }

  pthread_mutex_init(&p.lock, NULL);
  for (size_t k = 0; k < nw; k++) {
    pthread_cond_init(&p.queues[k].not_empty, NULL);
    pthread_cond_init(&p.queues[k].not_full, NULL);
    p.queues[k].cap = QUEUE_CAP / nw;
  }
  pthread_t reader, *threads = calloc(nw, sizeof *threads);
  size_t started; /* writer threads 1..started-1; writer 0 is this thread */
  bool reading = start_threads(&p, w, nw, &reader, threads, &started);

  /* writer 0, on this thread, also reports rejects and progress */
  uint64_t base_raw = stats->raw_bytes, base_bytes = stats->bytes;
  size_t base_counts[3] = {stats->imported, stats->updated, stats->unchanged};
  double last_progress = 0;
  item it;
  while (w[0].rc == KB_OK && pop(&p, 0, &it)) {
    if (it.xd) {
      w[0].rc = write_item(&w[0], &it);
    } else {
      stats->rejected++;
      size_t hlen;
      const char *header = kb_ticket_reader_header(p.reader, &hlen);
      if (opts->on_reject) opts->on_reject(path, header, hlen, &it.rej, opts->ctx);
    }
    stats->bytes = base_bytes + it.offset;
    stats->raw_bytes = base_raw + it.raw_offset;
    item_free(&it);
    double now = now_s();
    if (opts->on_progress && now - last_progress >= 0.2) {
      add_counts(stats, base_counts, w, nw);
      stats->seconds += now - t0;
      opts->on_progress(path, stats, opts->ctx);
      stats->seconds -= now - t0;
      last_progress = now;
    }
  }
  if (w[0].rc != KB_OK) stop_all(&p);
  for (size_t k = 1; k < started; k++) pthread_join(threads[k], NULL);
  free(threads);
  /* stop the reader if a writer failed, then collect it */
  stop_all(&p);
  if (reading) pthread_join(reader, NULL);
  else p.done = true; /* nothing was read: the queues are empty */
  for (size_t k = 0; k < nw; k++)
    while (pop(&p, k, &it)) item_free(&it);
  add_counts(stats, base_counts, w, nw);
  for (size_t k = 0; k < nw; k++) {
    if (rc == KB_OK && w[k].rc != KB_OK) {
      rc = w[k].rc;
      if (err) *err = w[k].err;
    }
  }
  if (rc == KB_OK && p.read_rc != KB_OK) {
    rc = p.read_rc;
    if (err) *err = p.read_err;
  }
  /* the last batch of every writer: committed with the input's end */
  checkpoint end = {kb_ticket_reader_offset(p.reader), kb_ticket_reader_line(p.reader),
                    p.records};
  for (size_t k = 0; k < nw && rc == KB_OK; k++) {
    rc = commit_batch(w[k].idx, key.data, &end, err);
    if (rc != KB_OK) kb_error_prefix(err, "%s: ", p.name);
  }
  pthread_mutex_destroy(&p.lock);
  for (size_t k = 0; k < nw; k++) {
    pthread_cond_destroy(&p.queues[k].not_empty);
    pthread_cond_destroy(&p.queues[k].not_full);
  }
out:
  kb_ticket_reader_free(p.reader);
  for (size_t k = 0; w && nw > 1 && k < nw; k++) {
    kb_index_free(w[k].idx);
    kb_index_free(w[k].main);
  }
  free(w);
  free(p.queues);
  kb_buf_free(&key);
  stats->seconds += now_s() - t0;
  return rc;
}

/* ----------------------------------------------------------------- merge */

/* Collects a checkpoint key (NUL-separated; a key may come twice). */
static int collect_key(const char *key, const char *value, void *ctx) {
  (void)value;
  return kb_buf_append(ctx, key, strlen(key) + 1);
}

/* An input's checkpoint in the merged index: the earliest of the shards'.
 * Before it every record is committed, whichever shard it went to; a later
 * one would skip the records a shard had not committed yet. None when a
 * shard has none: it committed nothing of that input. */
static bool earliest_checkpoint(kb_index **shards, size_t n, const char *key, checkpoint *out) {
  for (size_t k = 0; k < n; k++) {
    checkpoint c;
    if (!read_checkpoint(shards[k], key, &c)) return false;
    if (k == 0 || c.offset < out->offset) *out = c;
  }
  return true;
}

/* Gives key that checkpoint in the index and in every shard, or removes it
 * from them all, so that the merged index has it whichever source's value
 * of a key the compaction keeps. */
static int agree_on_checkpoint(kb_index *idx, kb_index **shards, size_t n, const char *key,
                               kb_error *err) {
  checkpoint c;
  char v[96] = ""; /* an empty value removes the key */
  if (earliest_checkpoint(shards, n, key, &c)) format_checkpoint(&c, v);
  int rc = kb_index_set_writer_meta(idx, key, v, err);
  for (size_t k = 0; k < n && rc == KB_OK; k++)
    rc = kb_index_set_writer_meta(shards[k], key, v, err);
  return rc;
}

/* Every input's checkpoint, the same in the index and the shards, and
 * committed in each. Lowering a shard's checkpoint is safe should the
 * merge not happen: a re-run resumes from the earliest one anyway. */
static int merge_checkpoints(kb_index *idx, kb_index **shards, size_t n, kb_error *err) {
  kb_buf keys = {0};
  int rc = KB_OK;
  for (size_t k = 0; k < n && rc == KB_OK; k++)
    rc = kb_index_each_meta(shards[k], CHECKPOINT_PREFIX, collect_key, &keys, err);
  if (rc == KB_ENOMEM) kb_error_set(err, rc, "out of memory"); /* collect_key's says nothing */
  for (size_t i = 0; rc == KB_OK && i < keys.len; i += strlen(keys.data + i) + 1)
    rc = agree_on_checkpoint(idx, shards, n, keys.data + i, err);
  kb_buf_free(&keys);
  for (size_t k = 0; k < n && rc == KB_OK; k++) rc = kb_index_commit(shards[k], err);
  return rc;
}

int kb_import_merge(kb_index **idx, kb_error *err) {
  size_t n = kb_import_staged(*idx);
  if (!n) return KB_OK;
  kb_index **shards = calloc(n, sizeof *shards);
  char **paths = calloc(n, sizeof *paths);
  int rc = shards && paths ? KB_OK : kb_error_set(err, KB_ENOMEM, "out of memory");
  /* writable: the merge sets their checkpoints too */
  for (size_t k = 0; k < n && rc == KB_OK; k++) {
    char sp[PATH_MAX + 32];
    staging_path(*idx, k, sp, sizeof sp);
    paths[k] = strdup(sp);
    rc = paths[k] ? kb_index_open(sp, KB_INDEX_WRITE, &shards[k], err)
                  : kb_error_set(err, KB_ENOMEM, "out of memory");
  }
  if (rc == KB_OK) rc = merge_checkpoints(*idx, shards, n, err);
  if (rc == KB_OK) rc = kb_index_commit(*idx, err);
  for (size_t k = 0; shards && k < n; k++) kb_index_free(shards[k]);
  /* ids in both: the shards' version wins, in the merged copy (deleted from
   * the index now, they would be missing from search until the swap) */
  if (rc == KB_OK)
    rc = kb_index_replace_by_compaction(idx, (const char *const *)paths, n, KB_PREFIX_ID, err);
  for (size_t k = 0; paths && k < n; k++) free(paths[k]);
  free(paths);
  free(shards);
  return rc;
}
