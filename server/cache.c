/* cache.c — an LRU of response bodies: a hash table of chained entries and
 * a doubly linked list in order of use, under one mutex (lookups copy the
 * body out, so an entry may be evicted while its copy is being sent). */
#include "cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kb/text.h"

typedef struct entry {
  struct entry *next_in_bucket;
  struct entry *newer, *older;
  uint64_t hash, version;
  char *key;
  char *body;
  size_t len, bytes;
  uint32_t total;
} entry;

struct kb_cache {
  pthread_mutex_t lock;
  entry **buckets;
  size_t nbuckets; /* a power of two */
  entry *newest, *oldest;
  size_t entries, bytes, max_entries, max_bytes;
  uint64_t hits, misses;
};

kb_cache *kb_cache_new(size_t max_entries, size_t max_bytes) {
  kb_cache *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->max_entries = max_entries;
  c->max_bytes = max_bytes;
  c->nbuckets = 16;
  while (c->nbuckets < 2 * max_entries) c->nbuckets *= 2;
  c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
  if (!c->buckets) {
    free(c);
    return NULL;
  }
  pthread_mutex_init(&c->lock, NULL);
  return c;
}

static void entry_free(entry *e) {
  free(e->key);
  free(e->body);
  free(e);
}

void kb_cache_free(kb_cache *c) {
  if (!c) return;
  for (entry *e = c->newest, *next; e; e = next) {
    next = e->older;
    entry_free(e);
  }
  free(c->buckets);
  pthread_mutex_destroy(&c->lock);
  free(c);
}

static entry **slot_of(kb_cache *c, uint64_t hash, const char *key) {
  entry **at = &c->buckets[hash & (c->nbuckets - 1)];
  while (*at && ((*at)->hash != hash || strcmp((*at)->key, key) != 0)) at = &(*at)->next_in_bucket;
  return at;
}

static void unlink_lru(kb_cache *c, entry *e) {
  if (e->newer) e->newer->older = e->older;
  else c->newest = e->older;
  if (e->older) e->older->newer = e->newer;
  else c->oldest = e->newer;
  e->newer = e->older = NULL;
}

static void push_newest(kb_cache *c, entry *e) {
  e->older = c->newest;
  e->newer = NULL;
  if (c->newest) c->newest->newer = e;
  c->newest = e;
  if (!c->oldest) c->oldest = e;
}

/* Takes e out of the table and the list, and frees it. */
static void drop(kb_cache *c, entry *e) {
  entry **at = slot_of(c, e->hash, e->key);
  *at = e->next_in_bucket;
  unlink_lru(c, e);
  c->entries--;
  c->bytes -= e->bytes;
  entry_free(e);
}

char *kb_cache_get(kb_cache *c, const char *key, uint64_t version, size_t *len,
                   uint32_t *total) {
  uint64_t hash = kb_fnv1a(key, strlen(key));
  char *copy = NULL;
  pthread_mutex_lock(&c->lock);
  entry *e = *slot_of(c, hash, key);
  if (e && e->version == version && (copy = malloc(e->len + 1))) {
    memcpy(copy, e->body, e->len + 1);
    *len = e->len;
    *total = e->total;
    unlink_lru(c, e);
    push_newest(c, e);
  }
  if (copy) c->hits++;
  else c->misses++;
  pthread_mutex_unlock(&c->lock);
  return copy;
}

void kb_cache_put(kb_cache *c, const char *key, uint64_t version, const char *body, size_t len,
                  uint32_t total) {
  size_t key_len = strlen(key), bytes = key_len + len + sizeof(entry);
  if (!c->max_entries || bytes > c->max_bytes) return;
  entry *e = calloc(1, sizeof *e);
  if (!e || !(e->key = malloc(key_len + 1)) || !(e->body = malloc(len + 1))) {
    if (e) entry_free(e);
    return;
  }
  memcpy(e->key, key, key_len + 1);
  memcpy(e->body, body, len);
  e->body[len] = '\0';
  e->len = len;
  e->bytes = bytes;
  e->total = total;
  e->version = version;
  e->hash = kb_fnv1a(key, key_len);
  pthread_mutex_lock(&c->lock);
  entry *old = *slot_of(c, e->hash, key);
  if (old) drop(c, old);
  while (c->oldest && (c->entries + 1 > c->max_entries || c->bytes + bytes > c->max_bytes))
    drop(c, c->oldest);
  entry **at = &c->buckets[e->hash & (c->nbuckets - 1)];
  e->next_in_bucket = *at;
  *at = e;
  push_newest(c, e);
  c->entries++;
  c->bytes += bytes;
  pthread_mutex_unlock(&c->lock);
}

void kb_cache_stats(kb_cache *c, uint64_t *hits, uint64_t *misses) {
  pthread_mutex_lock(&c->lock);
  *hits = c->hits;
  *misses = c->misses;
  pthread_mutex_unlock(&c->lock);
}
