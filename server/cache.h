/* cache.h — answers kept for repeated searches: the most recently used
 * response bodies by request, each valid for one version of the index (a
 * commit or a merge makes a new version, so nothing stale is served).
 * Safe to share between threads. */
#ifndef KB_SERVER_CACHE_H
#define KB_SERVER_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct kb_cache kb_cache;

/* Up to max_entries bodies and max_bytes of keys and bodies. NULL when out
 * of memory; max_entries 0 gives a cache that keeps nothing. */
kb_cache *kb_cache_new(size_t max_entries, size_t max_bytes);
void kb_cache_free(kb_cache *c);

/* A copy of what was stored for key at index version (malloc'ed, *len its
 * length, *total the number stored with it), or NULL. */
char *kb_cache_get(kb_cache *c, const char *key, uint64_t version, size_t *len,
                   uint32_t *total);
/* Stores a copy of body for key at version, replacing an older one; the
 * least recently used go when the cache is full. Out of memory stores nothing. */
void kb_cache_put(kb_cache *c, const char *key, uint64_t version, const char *body, size_t len,
                  uint32_t total);

/* Lookups that found an answer, and that did not. */
void kb_cache_stats(kb_cache *c, uint64_t *hits, uint64_t *misses);

#endif
