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

/* Stores an analysed document unless its hash is already there. */
static int store(kb_index *idx, const char *id_term, const char *hash, const kb_xdoc *xd,
                 kb_upsert *outcome, kb_error *err) {
  char *old = NULL;
  int rc = kb_index_get_value(idx, id_term, KB_SLOT_HASH, &old, err);
  if (rc != KB_OK) return rc;
  if (old && strcmp(old, hash) == 0) {
    *outcome = KB_UPSERT_UNCHANGED;
  } else {
    *outcome = old ? KB_UPSERT_UPDATED : KB_UPSERT_NEW;
    rc = kb_index_replace(idx, id_term, xd, err);
  }
  free(old);
  return rc;
}

int kb_import_doc(kb_index *idx, kb_tokenizer *t, kb_doc *doc, kb_upsert *outcome,
                  kb_error *err) {
  char hex[17];
  doc_hash(doc, hex);
  kb_doc_set_str(doc, KB_FIELD_HASH, hex);
  kb_xdoc *xd = NULL;
  kb_buf term = {0};
  int rc = kb_analyze_doc(t, doc, &xd, err);
  if (rc == KB_OK) {
    kb_id_term(kb_doc_get(doc, KB_FIELD_ID), &term);
    rc = store(idx, term.data, hex, xd, outcome, err);
  }
  kb_xdoc_free(xd);
  kb_buf_free(&term);
  return rc;
}

/* ----------------------------------------------------------------- queue */

typedef struct item {
  kb_xdoc *xd; /* NULL for a reject */
  char *id_term;
  char hash[17];
  kb_ticket_reject rej; /* rej.raw owned by the item */
  uint64_t offset, raw_offset;
  size_t line;
} item;

typedef struct pipeline {
  pthread_mutex_t lock;
  pthread_cond_t not_empty, not_full;
  item q[QUEUE_CAP];
  size_t head, count;
  bool done;     /* the reader has finished */
  bool stop;     /* the writer gave up */
  int read_rc;   /* the reader's fatal error, if any */
  kb_error read_err;
  kb_ticket_reader *reader;
  const kb_lexicon *lexicon;
} pipeline;

static void push(pipeline *p, item *it) {
  pthread_mutex_lock(&p->lock);
  while (p->count == QUEUE_CAP && !p->stop) pthread_cond_wait(&p->not_full, &p->lock);
  if (p->stop) {
    pthread_mutex_unlock(&p->lock);
    kb_xdoc_free(it->xd);
    free(it->id_term);
    free(it->rej.raw);
    return;
  }
  p->q[(p->head + p->count) % QUEUE_CAP] = *it;
  p->count++;
  pthread_cond_signal(&p->not_empty);
  pthread_mutex_unlock(&p->lock);
}

/* Takes the next item; false when the reader is done and the queue empty. */
static bool pop(pipeline *p, item *it) {
  pthread_mutex_lock(&p->lock);
  while (p->count == 0 && !p->done) pthread_cond_wait(&p->not_empty, &p->lock);
  bool got = p->count > 0;
  if (got) {
    *it = p->q[p->head];
    p->head = (p->head + 1) % QUEUE_CAP;
    p->count--;
    pthread_cond_signal(&p->not_full);
  }
  pthread_mutex_unlock(&p->lock);
  return got;
}

/* The reading and analysing thread. */
static void *read_and_analyse(void *arg) {
  pipeline *p = arg;
  kb_tokenizer *t = NULL;
  kb_error err = {0};
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
               .line = kb_ticket_reader_line(p->reader)};
    if (r == KB_EPARSE || r == KB_EENCODING || r == KB_ETOOBIG) {
      it.rej = rej;
      it.rej.raw = rej.raw ? strndup(rej.raw, rej.raw_len) : NULL;
      push(p, &it);
      continue;
    }
    if (r != KB_OK) {
      rc = r;
      break;
    }
    doc_hash(doc, it.hash);
    kb_doc_set_str(doc, KB_FIELD_HASH, it.hash);
    rc = kb_analyze_doc(t, doc, &it.xd, &err);
    if (rc == KB_OK) {
      kb_buf term = {0};
      kb_id_term(kb_doc_get(doc, KB_FIELD_ID), &term);
      it.id_term = kb_buf_detach(&term);
      push(p, &it);
    }
    kb_doc_free(doc);
  }
  kb_tokenizer_free(t);
  pthread_mutex_lock(&p->lock);
  p->done = true;
  p->read_rc = rc;
  if (rc != KB_OK) p->read_err = err;
  pthread_cond_broadcast(&p->not_empty);
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

/* ----------------------------------------------------------- checkpoints */

/* An input's identity: its real path, size and modification time. Empty
 * for standard input, which cannot be resumed. */
static void input_identity(const char *path, kb_buf *key, uint64_t *size) {
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
  char hex[17];
  kb_hash_hex(id.data, id.len, hex);
  kb_buf_printf(key, CHECKPOINT_PREFIX "%s", hex);
  kb_buf_free(&id);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sets the checkpoint and commits: the batch and its checkpoint are one
 * commit. */
static int commit_batch(kb_index *idx, const char *key, uint64_t offset, size_t line,
                        size_t records, kb_error *err) {
  if (*key) {
    char v[96];
    snprintf(v, sizeof v, "%llu %zu %zu", (unsigned long long)offset, line, records);
    int rc = kb_index_set_meta(idx, key, v, err);
    if (rc != KB_OK) return rc;
  }
  return kb_index_commit(idx, err);
}

int kb_import_file(kb_index *idx, const char *path, const kb_import_opts *opts,
                   kb_import_stats *stats, kb_error *err) {
  double t0 = now_s();
  size_t batch = opts->batch ? opts->batch : KB_IMPORT_BATCH;
  kb_buf key = {0};
  uint64_t size;
  input_identity(path, &key, &size);
  if (!key.data) kb_buf_append(&key, "", 0);
  stats->raw_total += size;

  pipeline p = {.lexicon = opts->lexicon};
  int rc = kb_ticket_reader_open(path, &opts->ticket, &p.reader, err);
  if (rc != KB_OK) {
    kb_buf_free(&key);
    return rc;
  }
  /* resume after the last committed batch of this same input */
  size_t records = 0;
  char *ckpt = NULL;
  if (*key.data && !opts->no_resume && kb_index_get_meta(idx, key.data, &ckpt, err) == KB_OK &&
      *ckpt) {
    unsigned long long off;
    size_t line, n;
    if (sscanf(ckpt, "%llu %zu %zu", &off, &line, &n) == 3 &&
        kb_ticket_reader_skip_to(p.reader, off, line, err) == KB_OK) {
      records = n;
      stats->resumed += n;
      if (opts->on_resume) opts->on_resume(path, n, off, opts->ctx);
    }
  }
  free(ckpt);

  pthread_mutex_init(&p.lock, NULL);
  pthread_cond_init(&p.not_empty, NULL);
  pthread_cond_init(&p.not_full, NULL);
  pthread_t reader;
  pthread_create(&reader, NULL, read_and_analyse, &p);

  size_t in_batch = 0;
  uint64_t last_offset = kb_ticket_reader_offset(p.reader);
  uint64_t base_raw = stats->raw_bytes, base_bytes = stats->bytes;
  double last_progress = 0;
  item it;
  while (rc == KB_OK && pop(&p, &it)) {
    records++;
    if (it.xd) {
      kb_upsert outcome = KB_UPSERT_UNCHANGED;
      rc = store(idx, it.id_term, it.hash, it.xd, &outcome, err);
      if (outcome == KB_UPSERT_NEW) stats->imported++;
      else if (outcome == KB_UPSERT_UPDATED) stats->updated++;
      else stats->unchanged++;
    } else {
      stats->rejected++;
      size_t hlen;
      const char *header = kb_ticket_reader_header(p.reader, &hlen);
      if (opts->on_reject) opts->on_reject(path, header, hlen, &it.rej, opts->ctx);
    }
    last_offset = it.offset;
    stats->bytes = base_bytes + it.offset;
    stats->raw_bytes = base_raw + it.raw_offset;
    kb_xdoc_free(it.xd);
    free(it.id_term);
    free(it.rej.raw);
    if (rc == KB_OK && ++in_batch >= batch) {
      rc = commit_batch(idx, key.data, it.offset, it.line, records, err);
      in_batch = 0;
    }
    double now = now_s();
    if (opts->on_progress && now - last_progress >= 0.2) {
      stats->seconds += now - t0;
      opts->on_progress(path, stats, opts->ctx);
      stats->seconds -= now - t0;
      last_progress = now;
    }
  }
  /* stop the reader if the writer failed, then collect it */
  pthread_mutex_lock(&p.lock);
  p.stop = true;
  pthread_cond_broadcast(&p.not_full);
  pthread_mutex_unlock(&p.lock);
  pthread_join(reader, NULL);
  while (pop(&p, &it)) {
    kb_xdoc_free(it.xd);
    free(it.id_term);
    free(it.rej.raw);
  }
  if (rc == KB_OK && p.read_rc != KB_OK) {
    rc = p.read_rc;
    if (err) *err = p.read_err;
  }
  /* the last batch: committed with the input's end as checkpoint */
  if (rc == KB_OK)
    rc = commit_batch(idx, key.data, last_offset, kb_ticket_reader_line(p.reader), records, err);
  kb_ticket_reader_free(p.reader);
  pthread_mutex_destroy(&p.lock);
  pthread_cond_destroy(&p.not_empty);
  pthread_cond_destroy(&p.not_full);
  kb_buf_free(&key);
  stats->seconds += now_s() - t0;
  return rc;
}
