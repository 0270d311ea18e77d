/* pinyin.c — readings from the built-in table (build/data/pinyin.txt, lines
 * "phrase TAB frequency TAB ids", ids being ibus-pinyin's initial and
 * final numbers per character), a map from readings to an index's words. */
#include "kb/pinyin.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

extern const char _binary_pinyin_txt_start[], _binary_pinyin_txt_end[];

/* ibus-pinyin's numbering (pyzy): 0 no initial, 1–23 initials, 24–57 finals */
static const char *const initials_by_id[] = {"",  "b", "c", "ch", "d", "f", "g", "h",
                                             "j", "k", "l", "m",  "n", "p", "q", "r",
                                             "s", "sh", "t", "w", "x", "y", "z", "zh"};
static const char *const finals_by_id[] = {
    "a",  "ai",  "an",  "ang", "ao",   "e",  "ei",  "en",  "eng", "er",  "i",   "ia",
    "ian", "iang", "iao", "ie", "in",  "ing", "iong", "iu", "o",   "ong", "ou",  "u",
    "ua", "uai", "uan", "uang", "ue",  "ui", "un",  "uo",  "v",   "ue"};
#define FIRST_FINAL 24
#define NFINALS (sizeof finals_by_id / sizeof finals_by_id[0])

typedef struct reading {
  const char *word; /* into the built-in table */
  uint32_t word_len, freq;
  uint32_t syl_off; /* syllables "shu ju ku" in the arena */
} reading;

static struct {
  reading *slots; /* open addressing by word */
  size_t cap;
  kb_buf arena;
  char syllables[1024][8]; /* open addressing; "" = free */
  bool ok;
} table;

static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static size_t slot_of(const char *w, size_t len) {
  size_t i = (size_t)kb_fnv1a(w, len) & (table.cap - 1);
  while (table.slots[i].word &&
         (table.slots[i].word_len != len || memcmp(table.slots[i].word, w, len) != 0))
    i = (i + 1) & (table.cap - 1);
  return i;
}

static void add_syllable(const char *s, size_t len) {
  if (len >= 8) return;
  size_t i = (size_t)kb_fnv1a(s, len) & 1023;
  while (table.syllables[i][0]) {
    if (strlen(table.syllables[i]) == len && memcmp(table.syllables[i], s, len) == 0) return;
    i = (i + 1) & 1023;
  }
  memcpy(table.syllables[i], s, len);
  table.syllables[i][len] = '\0';
}

static bool is_syllable(const char *s, size_t len) {
  if (!len || len >= 8) return false;
  size_t i = (size_t)kb_fnv1a(s, len) & 1023;
  while (table.syllables[i][0]) {
    if (strlen(table.syllables[i]) == len && memcmp(table.syllables[i], s, len) == 0) return true;
    i = (i + 1) & 1023;
  }
  return false;
}

/* Decodes "17 47 8 47 9 47" into "shu ju ku"; false on a number out of range. */
static bool decode(const char *ids, const char *end, kb_buf *out) {
  while (ids < end) {
    char *next, *after;
    long ini = strtol(ids, &next, 10);
    if (next == ids) break;
    long fin = strtol(next, &after, 10);
    if (after == next) return false;
    ids = after;
    if (ini < 0 || ini >= FIRST_FINAL || fin < FIRST_FINAL ||
        fin >= FIRST_FINAL + (long)NFINALS)
      return false;
    const char *i = initials_by_id[ini], *f = finals_by_id[fin - FIRST_FINAL];
    /* ü after j, q, x, y is written u; after n and l, v */
    if (out->len) kb_buf_putc(out, ' ');
    size_t start = out->len;
    kb_buf_puts(out, i);
    kb_buf_puts(out, (*i && strchr("jqxy", *i) && f[0] == 'v') ? "u" : f);
    add_syllable(out->data + start, out->len - start);
    while (ids < end && *ids == ' ') ids++;
  }
  return out->len > 0;
}

static void load_table(void) {
  const char *p = _binary_pinyin_txt_start, *end = _binary_pinyin_txt_end;
  size_t lines = 0;
  for (const char *q = p; q < end; q++) lines += *q == '\n';
  table.cap = 1;
  while (table.cap < lines * 2 + 16) table.cap <<= 1;
  table.slots = calloc(table.cap, sizeof *table.slots);
  if (!table.slots) return;
  kb_buf syl = {0};
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) eol = end;
    const char *t1 = memchr(p, '\t', (size_t)(eol - p));
    const char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(eol - t1 - 1)) : NULL;
    if (t2 && t1 > p && (size_t)(t1 - p) < 64) {
      uint32_t freq = (uint32_t)strtoul(t1 + 1, NULL, 10);
      kb_buf_reset(&syl);
      size_t i = slot_of(p, (size_t)(t1 - p));
      /* the most frequent reading of a word; the first of equals */
      if (decode(t2 + 1, eol, &syl) && (!table.slots[i].word || freq > table.slots[i].freq)) {
        table.slots[i] = (reading){p, (uint32_t)(t1 - p), freq, (uint32_t)table.arena.len};
        kb_buf_append(&table.arena, syl.data, syl.len + 1);
      }
    }
    p = eol + 1;
  }
  kb_buf_free(&syl);
  table.ok = table.arena.data != NULL;
}

static const char *syllables_of(const char *w, size_t len) {
  size_t i = slot_of(w, len);
  return table.slots[i].word ? table.arena.data + table.slots[i].syl_off : NULL;
}

static void put_reading(const char *syl, kb_buf *reading, kb_buf *initials) {
  for (const char *s = syl; *s; s++) {
    if (*s == ' ') continue;
    if (reading) kb_buf_putc(reading, *s);
    if (initials && (s == syl || s[-1] == ' ')) kb_buf_putc(initials, *s);
  }
}

bool kb_pinyin_of(const char *word, size_t len, kb_buf *reading, kb_buf *initials) {
  pthread_once(&table_once, load_table);
  if (!table.ok || !len) return false;
  const char *syl = len < 64 ? syllables_of(word, len) : NULL;
  if (syl) {
    put_reading(syl, reading, initials);
    return true;
  }
  /* character by character: all or nothing */
  const char *chars[64];
  size_t n = 0;
  for (size_t i = 0; i < len;) {
    size_t clen = 1;
    unsigned char c = (unsigned char)word[i];
    if (c >= 0xF0) clen = 4;
    else if (c >= 0xE0) clen = 3;
    else if (c >= 0xC0) clen = 2;
    if (i + clen > len || n == 64 || !(chars[n++] = syllables_of(word + i, clen))) return false;
    i += clen;
  }
  for (size_t k = 0; k < n; k++) put_reading(chars[k], reading, initials);
  return true;
}

bool kb_pinyin_is_syllables(const char *s, size_t len) {
  pthread_once(&table_once, load_table);
  if (!table.ok || !len || len > 64) return false;
  bool can[65] = {true};
  for (size_t i = 1; i <= len; i++)
    for (size_t k = 1; k <= 6 && k <= i && !can[i]; k++)
      can[i] = can[i - k] && is_syllable(s + i - k, k);
  return can[len];
}

/* ------------------------------------------------------------------- map */

typedef struct map_word {
  char *word, *reading, *initials;
  uint32_t weight;
} map_word;

struct kb_pinyin_map {
  map_word *v;
  size_t n, cap;
  map_word **by_reading, **by_initials;
};

kb_pinyin_map *kb_pinyin_map_new(void) { return calloc(1, sizeof(kb_pinyin_map)); }

void kb_pinyin_map_free(kb_pinyin_map *m) {
  if (!m) return;
  for (size_t i = 0; i < m->n; i++) free(m->v[i].word), free(m->v[i].reading), free(m->v[i].initials);
  free(m->v);
  free(m->by_reading);
  free(m->by_initials);
  free(m);
}

int kb_pinyin_map_add(kb_pinyin_map *m, const char *word, size_t len, uint32_t weight) {
  kb_buf r = {0}, i = {0};
  if (!kb_pinyin_of(word, len, &r, &i)) return KB_OK;
  if (kb_grow((void **)&m->v, &m->cap, m->n + 1, sizeof *m->v) != KB_OK) {
    kb_buf_free(&r);
    kb_buf_free(&i);
    return KB_ENOMEM;
  }
  map_word *w = &m->v[m->n];
  w->word = strndup(word, len);
  w->reading = kb_buf_detach(&r);
  w->initials = kb_buf_detach(&i);
  w->weight = weight;
  if (!w->word || !w->reading || !w->initials) {
    free(w->word), free(w->reading), free(w->initials);
    return KB_ENOMEM;
  }
  m->n++;
  return KB_OK;
}

static int by_reading(const void *a, const void *b) {
  const map_word *x = *(map_word *const *)a, *y = *(map_word *const *)b;
  int c = strcmp(x->reading, y->reading);
  return c ? c : (x->weight < y->weight) - (x->weight > y->weight);
}

static int by_initials(const void *a, const void *b) {
  const map_word *x = *(map_word *const *)a, *y = *(map_word *const *)b;
  int c = strcmp(x->initials, y->initials);
  return c ? c : (x->weight < y->weight) - (x->weight > y->weight);
}

int kb_pinyin_map_seal(kb_pinyin_map *m) {
  free(m->by_reading);
  free(m->by_initials);
  m->by_reading = malloc((m->n ? m->n : 1) * sizeof *m->by_reading);
  m->by_initials = malloc((m->n ? m->n : 1) * sizeof *m->by_initials);
  if (!m->by_reading || !m->by_initials) return KB_ENOMEM;
  for (size_t i = 0; i < m->n; i++) m->by_reading[i] = m->by_initials[i] = &m->v[i];
  qsort(m->by_reading, m->n, sizeof *m->by_reading, by_reading);
  qsort(m->by_initials, m->n, sizeof *m->by_initials, by_initials);
  return KB_OK;
}

/* The first entry of a sorted array whose key (at offset) is >= k[0..len). */
static size_t lower_bound(map_word *const *a, size_t n, bool initials, const char *k, size_t len) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const char *key = initials ? a[mid]->initials : a[mid]->reading;
    if (strncmp(key, k, len) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static size_t find_in(map_word *const *a, size_t total, bool initials, const char *key,
                      size_t len, const char **out, size_t n) {
  size_t got = 0;
  for (size_t i = lower_bound(a, total, initials, key, len); i < total && got < n; i++) {
    const char *k = initials ? a[i]->initials : a[i]->reading;
    if (strncmp(k, key, len) != 0 || k[len]) break;
    out[got++] = a[i]->word;
  }
  return got;
}

size_t kb_pinyin_map_find(const kb_pinyin_map *m, const char *key, size_t len,
                          bool initials_too, const char **out, size_t n) {
  /* keys are C strings: one with a NUL inside matches nothing */
  if (!m->by_reading || !len || memchr(key, '\0', len)) return 0;
  size_t got = find_in(m->by_reading, m->n, false, key, len, out, n);
  return got || !initials_too ? got : find_in(m->by_initials, m->n, true, key, len, out, n);
}

size_t kb_pinyin_map_complete(const kb_pinyin_map *m, const char *prefix, size_t len,
                              const char **out, size_t n) {
  if (!m->by_reading || !len || !n || memchr(prefix, '\0', len)) return 0;
  /* the heaviest n of the range, by insertion into out */
  uint32_t *w = calloc(n, sizeof *w);
  size_t got = 0;
  for (size_t i = lower_bound(m->by_reading, m->n, false, prefix, len);
       w && i < m->n && strncmp(m->by_reading[i]->reading, prefix, len) == 0; i++) {
    uint32_t wt = m->by_reading[i]->weight;
    if (got == n && wt <= w[n - 1]) continue;
    size_t at = got < n ? got++ : n - 1;
    while (at > 0 && w[at - 1] < wt) {
      w[at] = w[at - 1];
      out[at] = out[at - 1];
      at--;
    }
    w[at] = wt;
    out[at] = m->by_reading[i]->word;
  }
  free(w);
  return got;
}
