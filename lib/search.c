/* search.c — a search from request to hits: query, index, snippets. */
#include "kb/search.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data.h"
#include "kb/analyze.h"
#include "kb/english.h"
#include "kb/markdown.h"
#include "kb/pinyin.h"
#include "kb/query.h"

struct kb_searcher {
  kb_index *idx;
  kb_lexicon *lexicon;
  kb_lexicon *stopwords;
  kb_tokenizer *tok;
  kb_synonyms *synonyms;
  uint64_t synonyms_hash; /* of the user's synonyms in the index metadata */
  kb_pinyin_map *pinyin; /* the index's Chinese words by reading, built when first needed */
  kb_pinyin_map *lexicon_readings; /* the lexicon's and built-in synonyms' words by reading, when first needed */
  double pinyin_built;   /* when (ms, monotonic) */
  uint64_t pinyin_generation, synonyms_generation; /* of the index, when built */
  bool current_analysis; /* every document was analysed by this version (as of synonyms_generation) */
};

/* A piece of a Chinese query is suggested as a domain word it reads like
 * when the index has that word in at least HOMOPHONE_MIN_DOCS documents and
 * HOMOPHONE_RATIO times as many as the piece's rarest character pair. */
#define HOMOPHONE_MIN_DOCS 3
#define HOMOPHONE_RATIO 20

/* How long a stale pinyin map is kept: rebuilding reads every Chinese word. */
#define PINYIN_REBUILD_MS 60000.0

static const unsigned facet_slots[] = {KB_SLOT_TYPE, KB_SLOT_PRODUCT, KB_SLOT_CATEGORY,
                                       KB_SLOT_PRIORITY};
/* BM25 as tuned on make eval across every set: full length normalisation
 * keeps long sections from winning on sheer size, and a floor under it
 * (a document shorter than 0.7 of the average counts as that long) keeps
 * a few-word document from winning on shortness alone ("实名认证" over
 * "怎么进行实名认证" for "我怎么实名认证"). */
#define BM25_K1 0.8
#define BM25_B 1.0
#define BM25_MIN_NORMLEN 0.7

/* Matches counted exactly (facets, and the total of a cut match set);
 * past it both are scaled from the part counted. */
#define COUNT_LIMIT 10000

/* read with each hit: the text snippets are cut from */
static const unsigned text_slots[] = {KB_SLOT_TEXT, KB_SLOT_ITEXT, KB_SLOT_BODY,
                                      KB_SLOT_RESOLUTION};

/* True when every document was analysed by this version, which writes
 * compounds and part pairs (an index not yet re-imported after an upgrade
 * is matched with phrases). */
static bool all_analysed_alike(kb_index *idx) {
  uint32_t docs = kb_index_doc_count(idx);
  return docs && kb_index_term_freq(idx, KB_TERM_ANALYZED) == docs;
}

/* The built-in synonyms and the user's (index metadata), again whenever
 * the user's change: they apply at query time, without re-indexing. */
static int load_synonyms(kb_searcher *s, kb_error *err) {
  char *user = NULL;
  int rc = kb_index_get_meta(s->idx, KB_META_SYNONYMS, &user, err);
  if (rc != KB_OK) return rc;
  uint64_t h = kb_fnv1a(user, strlen(user));
  if (!s->synonyms || h != s->synonyms_hash) {
    kb_synonyms *fresh = NULL;
    rc = kb_synonyms_new_builtin(s->tok, user, &fresh, err);
    if (rc == KB_OK) {
      kb_synonyms_free(s->synonyms);
      s->synonyms = fresh;
      s->synonyms_hash = h;
    }
  }
  free(user);
  return rc;
}

/* Lexicon words of two to four Chinese characters, for homophones. */
static int add_lexicon_reading(const char *word, size_t len, void *ctx) {
  size_t chars = 0;
  for (size_t i = 0; i < len; chars++)
    if (!kb_is_han(kb_utf8_next(word, len, &i))) return KB_OK;
  return chars >= 2 && chars <= 4 ? kb_pinyin_map_add(ctx, word, len, 1) : KB_OK;
}

static int add_synonym_reading(const char *member, size_t len, size_t group, void *ctx) {
  (void)group;
  return add_lexicon_reading(member, len, ctx);
}

/* The words of the lexicon and of the built-in synonyms (内存溢出, 远程桌面)
 * by reading, made when first needed (readings load the pinyin table: 0.1 s
 * and 17 MB once a process); NULL when out of memory. */
static const kb_pinyin_map *lexicon_readings(kb_searcher *s) {
  if (s->lexicon_readings) return s->lexicon_readings;
  kb_pinyin_map *m = kb_pinyin_map_new();
  size_t groups = 0;
  if (m && kb_lexicon_each(s->lexicon, add_lexicon_reading, m) == KB_OK &&
      kb_synonyms_each(KB_DATA(synonyms), KB_DATA_LEN(synonyms), &groups, add_synonym_reading,
                       m) == KB_OK &&
      kb_pinyin_map_seal(m) == KB_OK)
    return s->lexicon_readings = m;
  kb_pinyin_map_free(m);
  return NULL;
}

int kb_searcher_new(const char *db_path, kb_searcher **out, kb_error *err) {
  kb_searcher *s = calloc(1, sizeof *s);
  if (!s) return kb_error_set(err, KB_ENOMEM, "out of memory");
  int rc = kb_index_open(db_path, KB_INDEX_READ, &s->idx, err);
  if (rc == KB_OK) rc = kb_lexicon_new_builtin("lexicon", &s->lexicon, err);
  if (rc == KB_OK) rc = kb_lexicon_new_builtin("stopwords", &s->stopwords, err);
  char *extra = NULL;
  if (rc == KB_OK) rc = kb_index_get_meta(s->idx, KB_META_LEXICON, &extra, err);
  if (rc == KB_OK) rc = kb_lexicon_add_text(s->lexicon, extra, strlen(extra));
  free(extra);
  if (rc == KB_OK) rc = kb_tokenizer_new(s->lexicon, &s->tok, err);
  if (rc == KB_OK) rc = load_synonyms(s, err);
  if (rc == KB_OK) s->current_analysis = all_analysed_alike(s->idx);
  if (rc != KB_OK) {
    kb_searcher_free(s);
    return rc;
  }
  *out = s;
  return KB_OK;
}

void kb_searcher_free(kb_searcher *s) {
  if (!s) return;
  kb_pinyin_map_free(s->pinyin);
  kb_pinyin_map_free(s->lexicon_readings);
  kb_synonyms_free(s->synonyms);
  kb_tokenizer_free(s->tok);
  kb_lexicon_free(s->lexicon);
  kb_lexicon_free(s->stopwords);
  kb_index_free(s->idx);
  free(s);
}

kb_index *kb_searcher_index(kb_searcher *s) { return s->idx; }
kb_tokenizer *kb_searcher_tokenizer(kb_searcher *s) { return s->tok; }

static char *json_str_dup(json_t *o, const char *key) {
  const char *v = json_string_value(json_object_get(o, key));
  return v ? strdup(v) : NULL;
}

/* Fills a hit from the stored data: fields and a snippet of the visible text. */
static int fill_hit(kb_searcher *s, const kb_search_request *req, const kb_query *q,
                    const kb_hit *raw, kb_search_hit *hit, kb_error *err) {
  json_t *o = json_loads(raw->data, 0, NULL);
  if (!o) return kb_error_set(err, KB_EINDEX, "stored data of document %u is not JSON", raw->docid);
  hit->id = json_str_dup(o, "id");
  hit->type = json_str_dup(o, "type");
  hit->title = json_str_dup(o, "title");
  hit->product = json_str_dup(o, "product");
  hit->category = json_str_dup(o, "category");
  hit->priority = json_str_dup(o, "priority");
  hit->updated = json_str_dup(o, "updated");
  hit->score = raw->score;
  kb_buf text = {0}, snip = {0};
  if (raw->value_lens[0]) {
    kb_buf_append(&text, raw->values[0], raw->value_lens[0]);
  } else if (hit->type && strcmp(hit->type, "ticket") == 0) {
    /* not stored: the problem and resolution are the text (an article's
     * body is Markdown with its internal sections: never a snippet's) */
    kb_buf_append(&text, raw->values[2], raw->value_lens[2]);
    if (raw->value_lens[2] && raw->value_lens[3]) kb_buf_putc(&text, '\n');
    kb_buf_append(&text, raw->values[3], raw->value_lens[3]);
  }
  if (req->include_internal && raw->value_lens[1]) {
    if (text.len) kb_buf_putc(&text, '\n');
    kb_buf_append(&text, raw->values[1], raw->value_lens[1]);
  }
  int rc = kb_snippet_make(s->tok, kb_query_highlights(q), text.data ? text.data : "", text.len,
                           req->snippet ? req->snippet : &KB_SNIPPET_HTML, &snip, err);
  hit->snippet = kb_buf_detach(&snip);
  kb_buf_free(&text);
  json_decref(o);
  return rc;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The query of a request: its text, filters and visibility. */
static int request_query(kb_searcher *s, const kb_search_request *req, kb_query **q,
                         kb_error *err) {
  kb_query_opts qo = {.include_internal = req->include_internal, .stopwords = s->stopwords,
                      .synonyms = s->synonyms, .current_analysis = s->current_analysis};
  int rc = kb_query_parse(s->tok, req->query ? req->query : "", req->query_len, &qo, q, err);
  if (rc != KB_OK) return rc;
  if (req->type) rc = kb_query_add_filter(*q, KB_PREFIX_TYPE, req->type);
  if (rc == KB_OK && req->product) rc = kb_query_add_filter(*q, KB_PREFIX_PRODUCT, req->product);
  if (rc == KB_OK && req->category)
    rc = kb_query_add_filter(*q, KB_PREFIX_CATEGORY, req->category);
  if (rc == KB_OK && req->priority)
    rc = kb_query_add_filter(*q, KB_PREFIX_PRIORITY, req->priority);
  if (rc == KB_OK && (req->date_from || req->date_to))
    rc = kb_query_add_range(*q, KB_SLOT_UPDATED, req->date_from, req->date_to);
  if (rc != KB_OK) {
    kb_query_free(*q);
    *q = NULL;
    return kb_error_set(err, rc, rc == KB_ETOOBIG ? "query: over 64 filters" : "query: %s",
                        kb_strerror(rc));
  }
  return KB_OK;
}

static kb_search_opts request_opts(const kb_search_request *req) {
  return (kb_search_opts){
      .offset = req->offset,
      .limit = req->limit,
      .sort_by_date = req->sort_by_date,
      .date_slot = KB_SLOT_UPDATED,
      .facet_slots = req->facets ? facet_slots : NULL,
      .nfacets = req->facets ? sizeof facet_slots / sizeof facet_slots[0] : 0,
      .facets_joined = true, /* KB_SLOT_FACETS is facet_slots' values joined */
      .facets_joined_slot = KB_SLOT_FACETS,
      .check_at_least = req->facets ? COUNT_LIMIT : 0,
      .value_slots = text_slots,
      .nvalues = sizeof text_slots / sizeof text_slots[0],
      .bm25_k1 = BM25_K1,
      .bm25_b = BM25_B,
      .bm25_min_normlen = BM25_MIN_NORMLEN,
  };
}

/* Turns raw results into hits with snippets; takes raw. */
static int make_response(kb_searcher *s, const kb_search_request *req, const kb_query *q,
                         kb_results *raw, double t0, kb_search_response **out, kb_error *err) {
  kb_search_response *r = calloc(1, sizeof *r);
  if (!r) {
    kb_results_free(raw);
    return kb_error_set(err, KB_ENOMEM, "out of memory");
  }
  r->raw = raw;
  r->total = raw->total;
  r->total_exact = raw->total_exact;
  r->hits = calloc(raw->nhits ? raw->nhits : 1, sizeof *r->hits);
  int rc = r->hits ? KB_OK : kb_error_set(err, KB_ENOMEM, "out of memory");
  for (size_t i = 0; rc == KB_OK && i < raw->nhits; i++) {
    rc = fill_hit(s, req, q, &raw->hits[i], &r->hits[i], err);
    r->nhits++;
  }
  if (req->explain) {
    kb_buf ex = {0};
    kb_query_explain(q, &ex);
    r->explain = kb_buf_detach(&ex);
  }
  if (rc != KB_OK) {
    kb_search_response_free(r);
    return rc;
  }
  r->took_ms = now_ms() - t0;
  *out = r;
  return KB_OK;
}

/* Documents holding word, or its internal form too for an engineer. */
static uint32_t docs_with(kb_searcher *s, const char *prefix, const char *word, size_t len,
                          bool include_internal) {
  kb_buf t = {0};
  uint32_t n = 0;
  for (int internal = 0; internal <= (int)include_internal; internal++) {
    kb_buf_reset(&t);
    if (internal) kb_buf_puts(&t, KB_PREFIX_INTERNAL);
    kb_buf_puts(&t, prefix);
    kb_buf_append(&t, word, len);
    n += kb_index_term_freq(s->idx, t.data);
  }
  kb_buf_free(&t);
  return n;
}

/* One search of req's query into *out; *q is the caller's to free, also
 * on failure. */
static int search_query(kb_searcher *s, const kb_search_request *req, double t0, kb_query **q,
                        kb_search_response **out, kb_error *err) {
  int rc = request_query(s, req, q, err);
  if (rc != KB_OK) return rc;
  const kb_qnode *tree = kb_query_tree(*q);
  kb_search_opts so = request_opts(req);
  so.relative_cutoff = kb_query_match_fraction(*q);
  so.cut_ignores = kb_query_title_term(*q);
  /* the match set is counted even without facets: Xapian's estimate is of
   * everything the OR matches (a page would say 30 results of 7), and even
   * for one word it may be off (4,000 for 3,516 matches), where the count,
   * a boolean pass stopped at COUNT_LIMIT, is cheap */
  if (!so.check_at_least) so.check_at_least = COUNT_LIMIT;
  kb_results *raw = NULL;
  if (!tree) return kb_error_set(err, KB_ENOMEM, "out of memory");
  if ((rc = kb_index_search(s->idx, tree, &so, &raw, err)) != KB_OK) return rc;
  return make_response(s, req, *q, raw, t0, out, err);
}

/* w[0..n) split at cuts[0..ncuts), the parts joined by spaces, into out. */
static void put_parts(const char *w, size_t n, const size_t *cuts, size_t ncuts, kb_buf *out) {
  for (size_t k = 0, a = 0; k <= ncuts; k++) {
    size_t b = k < ncuts ? cuts[k] : n;
    if (k) kb_buf_putc(out, ' ');
    kb_buf_append(out, w + a, b - a);
    a = b;
  }
}

/* Whether the words of text follow each other in at least need documents
 * the reader sees. */
static bool phrase_in(kb_searcher *s, const char *text, bool include_internal, uint32_t need) {
  kb_buf quoted = {0};
  kb_buf_printf(&quoted, "\"%s\"", text);
  kb_search_request req = {.query = quoted.data, .query_len = quoted.len,
                           .include_internal = include_internal};
  kb_query *q = NULL;
  kb_results *r = NULL;
  bool found = false;
  if (request_query(s, &req, &q, NULL) == KB_OK && kb_query_tree(q)) {
    kb_search_opts so = {.limit = 1, .check_at_least = need};
    found = kb_index_search(s->idx, kb_query_tree(q), &so, &r, NULL) == KB_OK && r->nhits > 0 &&
            r->total >= need;
  }
  kb_results_free(r);
  kb_query_free(q);
  kb_buf_free(&quoted);
  return found;
}

typedef struct joined_split {
  size_t cuts[2], ncuts;
  uint32_t freq; /* documents holding its rarest part */
} joined_split;

static int by_split_freq(const void *a, const void *b) {
  const joined_split *x = a, *y = b;
  if (x->ncuts != y->ncuts) return x->ncuts < y->ncuts ? -1 : 1;
  return x->freq < y->freq ? 1 : (x->freq > y->freq ? -1 : 0);
}

/* A Latin word (folded, no document holds it) that is two or three words
 * run together (bluescreen → blue screen, outofmemory → out of memory),
 * into out: the words must follow each other in documents the reader sees,
 * in a tenth of those holding the rarest of them at least, so that a name
 * no document has is not read as words that merely exist (hxpathdiag as
 * hx path diag) or meet by chance (memcached as mem cached: once, where
 * mem is in 120 documents). Two parts before three, then the split whose
 * rarest part is most frequent. */
static bool split_joined(kb_searcher *s, const char *w, size_t n, bool include_internal,
                         kb_buf *out) {
  enum { MIN_PART = 2, MAX_TRIED = 4 };
  joined_split *v = NULL;
  size_t nv = 0, cap = 0;
  for (size_t i = MIN_PART; i + MIN_PART <= n; i++) {
    uint32_t fa = docs_with(s, KB_PREFIX_SURFACE, w, i, false);
    if (!fa) continue;
    /* j == n: two parts; else three */
    for (size_t j = i + MIN_PART; j <= n; j++) {
      if (j < n && j + MIN_PART > n) continue;
      uint32_t f = docs_with(s, KB_PREFIX_SURFACE, w + i, j - i, false);
      if (f > fa) f = fa;
      if (f && j < n) {
        uint32_t fc = docs_with(s, KB_PREFIX_SURFACE, w + j, n - j, false);
        if (fc < f) f = fc;
      }
      if (!f || kb_grow(&v, &cap, nv + 1, sizeof *v) != KB_OK) continue;
      v[nv++] = (joined_split){{i, j}, j < n ? 2 : 1, f};
    }
  }
  if (nv) qsort(v, nv, sizeof *v, by_split_freq);
  bool found = false;
  for (size_t k = 0; k < nv && k < MAX_TRIED && !found; k++) {
    kb_buf_reset(out);
    put_parts(w, n, v[k].cuts, v[k].ncuts, out);
    found = phrase_in(s, out->data, include_internal, v[k].freq / 10 ? v[k].freq / 10 : 1);
  }
  if (!found) kb_buf_reset(out);
  free(v);
  return found;
}

/* The query with each Latin word that no public document has replaced by
 * the index's spelling suggestion, else (when split) by the words it runs
 * together; NULL when nothing changes. Spelling data holds public
 * documents' words only, so nothing internal is suggested. */
static char *did_you_mean(kb_searcher *s, const char *q, size_t len, bool include_internal,
                          bool split) {
  kb_buf out = {0}, word = {0}, fix = {0};
  bool changed = false;
  for (size_t i = 0; i < len;) {
    size_t e = i;
    while (e < len && q[e] != ' ') e++;
    bool latin = e - i >= 3 && e - i <= 30;
    for (size_t k = i; k < e && latin; k++)
      latin = (q[k] >= 'a' && q[k] <= 'z') || (q[k] >= 'A' && q[k] <= 'Z');
    kb_buf_reset(&fix);
    if (latin) {
      kb_buf_reset(&word);
      kb_text_fold(q + i, e - i, &word, NULL);
      /* a real word the documents lack is no typo (exit is not ext); a
       * short word gets one edit, as two make another word of it (wifi
       * would be with) */
      if (docs_with(s, KB_PREFIX_SURFACE, word.data, word.len, false) == 0 &&
          !kb_english_word(word.data, word.len)) {
        kb_index_spelling(s->idx, word.data, word.len <= 5 ? 1 : 2, &fix, NULL);
        if (!fix.len && split) split_joined(s, word.data, word.len, include_internal, &fix);
      }
    }
    if (out.len) kb_buf_putc(&out, ' ');
    if (fix.len) {
      kb_buf_append(&out, fix.data, fix.len);
      changed = true;
    } else {
      kb_buf_append(&out, q + i, e - i);
    }
    i = e;
    while (i < len && q[i] == ' ') i++;
  }
  kb_buf_free(&word);
  kb_buf_free(&fix);
  if (!changed) {
    kb_buf_free(&out);
    return NULL;
  }
  return kb_buf_detach(&out);
}

/* ------------------------------------------------- Chinese homophones */

static bool visible_term(kb_searcher *s, const char *prefix, const char *word);

/* The domain word that text (a piece of a Chinese query) is a homophone typo
 * of, or NULL: a lexicon word read the same, frequent in the index, where
 * some pair of text's characters is rare. Borrowed from the reading map:
 * valid until the next pinyin_map(), which may rebuild it (copy it first). */
static const char *homophone_of(kb_searcher *s, const char *text, size_t len,
                                bool include_internal) {
  uint32_t rarest = UINT32_MAX;
  for (size_t i = 0, j = 0; i < len; i = j) {
    kb_utf8_next(text, len, &j);
    size_t e = j;
    if (e == len) break;
    kb_utf8_next(text, len, &e);
    uint32_t f = docs_with(s, KB_PREFIX_BIGRAM, text + i, e - i, include_internal);
    if (f < rarest) rarest = f;
  }
  /* characters that often follow each other are no typo (nor worth the
   * readings) */
  if ((uint64_t)HOMOPHONE_RATIO * rarest >= kb_index_doc_count(s->idx)) return NULL;
  const kb_pinyin_map *m = lexicon_readings(s);
  kb_buf reading = {0};
  const char *words[4];
  size_t n = m && kb_pinyin_of(text, len, &reading, NULL)
                 ? kb_pinyin_map_find(m, reading.data, reading.len, false, words, 4)
                 : 0;
  kb_buf_free(&reading);
  for (size_t i = 0; i < n; i++) {
    if (strlen(words[i]) == len && memcmp(words[i], text, len) == 0) return NULL;
    uint32_t docs = docs_with(s, "", words[i], strlen(words[i]), include_internal);
    if (docs >= HOMOPHONE_MIN_DOCS && docs > (uint64_t)HOMOPHONE_RATIO * rarest &&
        (include_internal || visible_term(s, "", words[i])))
      return words[i];
  }
  return NULL;
}

/* How the query's segmenter cut it, by byte offset: where its words start
 * and end, and where it left a Chinese character alone that is not a stop
 * word (a word it did not know: where a homophone typo shows). */
typedef struct query_cuts {
  const kb_lexicon *stopwords;
  unsigned char *at;
} query_cuts;

enum { CUT_START = 1, CUT_END = 2, CUT_LONE = 4 };

static int mark_cut(const kb_token *t, void *ctx) {
  query_cuts *c = ctx;
  if (t->alt) return 0;
  c->at[t->start] |= CUT_START;
  c->at[t->end] |= CUT_END;
  size_t i = 0;
  if (t->kind == KB_TOKEN_CJK && !kb_lexicon_contains(c->stopwords, t->surface, t->surface_len)) {
    kb_utf8_next(t->term, t->term_len, &i);
    if (i == t->term_len) c->at[t->start] |= CUT_LONE;
  }
  return 0;
}

/* The query with each piece of 2 to 4 Chinese characters, whole words of
 * its segmentation of which one is a lone character, that is a homophone
 * typo of a domain word (连街 for 连接, 打印积 for 打印机: the wrong candidate
 * of a pinyin input method) replaced by the word, longest piece first; NULL
 * when nothing changes. The results are the query's as typed when it
 * finds anything; kb_search searches the fix when it finds nothing. */
static char *homophone_fix(kb_searcher *s, const char *q, size_t len, bool include_internal) {
  if (!kb_utf8_valid(q, len, NULL)) return NULL;
  /* a query without Chinese is not segmented again */
  bool han = false;
  for (size_t i = 0; i < len && !han;) han = kb_is_han(kb_utf8_next(q, len, &i));
  if (!han) return NULL;
  query_cuts cuts = {s->stopwords, calloc(len + 1, 1)};
  uint32_t pos = 1;
  if (!cuts.at || kb_tokenizer_run(s->tok, q, len, &pos, mark_cut, &cuts, NULL) != KB_OK) {
    free(cuts.at);
    return NULL;
  }
  kb_buf out = {0};
  bool changed = false;
  for (size_t i = 0; i < len;) {
    /* the characters from i: offsets of up to 4 Chinese ones in a row */
    size_t off[5], nc = 0, j = i;
    while (nc < 4 && j < len) {
      size_t k = j;
      if (!kb_is_han(kb_utf8_next(q, len, &k))) break;
      off[nc++] = j;
      j = k;
    }
    off[nc] = j;
    const char *word = NULL;
    size_t take = 0;
    for (size_t l = nc; l >= 2 && !word && (cuts.at[i] & CUT_START); l--) {
      bool has_lone = false;
      for (size_t k = 0; k < l; k++) has_lone |= cuts.at[off[k]] & CUT_LONE;
      if (has_lone && (cuts.at[off[l]] & CUT_END))
        word = homophone_of(s, q + i, off[l] - i, include_internal);
      take = l;
    }
    if (word) {
      kb_buf_puts(&out, word);
      changed = true;
      i = off[take];
    } else {
      size_t k = i;
      kb_utf8_next(q, len, &k);
      kb_buf_append(&out, q + i, k - i);
      i = k;
    }
  }
  free(cuts.at);
  if (!changed) {
    kb_buf_free(&out);
    return NULL;
  }
  return kb_buf_detach(&out);
}

/* The words of a query tree (word terms without their field prefix; the
 * bigram fallback, compounds, part pairs and the exact-title term left out)
 * that no document holds, for zero-result diagnostics: appended to the
 * explanation. */
typedef struct word_freq {
  kb_buf words; /* NUL-separated */
  kb_buf found; /* one byte per word: whether some term of it matched */
} word_freq;

/* Terms of a query that are not its words: the bigram fallback, the
 * exact-title term, compounds and part pairs. */
static bool is_word_term(const char *term) {
  static const char *const others[] = {KB_PREFIX_BIGRAM, KB_PREFIX_INTERNAL_BIGRAM,
                                       KB_PREFIX_EXACT_TITLE, KB_PREFIX_COMPOUND,
                                       KB_PREFIX_INTERNAL_COMPOUND, KB_PREFIX_PAIR,
                                       KB_PREFIX_INTERNAL_PAIR};
  for (size_t i = 0; i < sizeof others / sizeof *others; i++)
    if (strncmp(term, others[i], strlen(others[i])) == 0) return false;
  return true;
}

static void collect_words(kb_index *idx, const kb_qnode *n, word_freq *wf) {
  if (n->op == KB_Q_TERM && n->term && is_word_term(n->term)) {
    const char *w = n->term;
    while (*w >= 'A' && *w <= 'Z') w++;
    if (!*w) return;
    bool hit = kb_index_term_freq(idx, n->term) > 0;
    size_t k = 0;
    for (size_t i = 0; i < wf->words.len; i += strlen(wf->words.data + i) + 1, k++)
      if (strcmp(wf->words.data + i, w) == 0) {
        wf->found.data[k] |= hit;
        return;
      }
    kb_buf_append(&wf->words, w, strlen(w) + 1);
    kb_buf_putc(&wf->found, hit);
    return;
  }
  for (size_t i = 0; i < n->nkids; i++) collect_words(idx, n->kids[i], wf);
}

static void explain_misses(kb_index *idx, const kb_qnode *tree, char **explain) {
  word_freq wf = {0};
  collect_words(idx, tree, &wf);
  kb_buf out = {0};
  kb_buf_puts(&out, *explain ? *explain : "");
  size_t k = 0, misses = 0;
  for (size_t i = 0; i < wf.words.len; i += strlen(wf.words.data + i) + 1, k++) {
    if (wf.found.data[k]) continue;
    kb_buf_puts(&out, misses++ ? " " : "  [无匹配 (no match): ");
    kb_buf_puts(&out, wf.words.data + i);
  }
  if (misses) kb_buf_putc(&out, ']');
  if (out.data) {
    free(*explain);
    *explain = kb_buf_detach(&out);
  }
  kb_buf_free(&wf.words);
  kb_buf_free(&wf.found);
}

/* ------------------------------------------------------------- pinyin */

static int add_pinyin_word(const char *term, size_t len, uint32_t freq, void *ctx) {
  /* words of two characters or more: one syllable alone says too little */
  return len >= 6 ? kb_pinyin_map_add(ctx, term, len, freq) : KB_OK;
}

static const kb_pinyin_map *pinyin_map(kb_searcher *s) {
  double now = now_ms();
  bool stale = s->pinyin_generation != kb_index_generation(s->idx);
  if (s->pinyin && !(stale && now - s->pinyin_built > PINYIN_REBUILD_MS)) return s->pinyin;
  kb_pinyin_map *m = kb_pinyin_map_new();
  int rc = m ? KB_OK : KB_ENOMEM;
  /* the index's public-text Chinese words: lead bytes of U+3400–U+9FFF */
  for (unsigned char lead = 0xE3; rc == KB_OK && lead <= 0xE9; lead++) {
    char prefix[2] = {(char)lead, '\0'};
    rc = kb_index_each_term(s->idx, prefix, add_pinyin_word, m, NULL);
  }
  if (rc == KB_OK) rc = kb_pinyin_map_seal(m);
  if (rc != KB_OK) {
    kb_pinyin_map_free(m);
    return s->pinyin;
  }
  kb_pinyin_map_free(s->pinyin);
  s->pinyin = m;
  s->pinyin_built = now;
  s->pinyin_generation = kb_index_generation(s->idx);
  return m;
}

/* A Latin word no document holds, which might be pinyin. */
static bool pinyin_candidate(kb_searcher *s, const char *w, size_t len) {
  if (len < 2 || len > 30) return false;
  for (size_t i = 0; i < len; i++)
    if (w[i] < 'a' || w[i] > 'z') return false;
  static const char *const prefixes[] = {"", KB_PREFIX_INTERNAL, KB_PREFIX_SURFACE};
  kb_buf t = {0};
  bool absent = true;
  for (size_t i = 0; i < 3 && absent; i++) {
    kb_buf_reset(&t);
    kb_buf_puts(&t, prefixes[i]);
    kb_buf_append(&t, w, len);
    absent = kb_index_term_freq(s->idx, t.data) == 0;
  }
  kb_buf_free(&t);
  return absent;
}

/* Initials ("sjk") are short and could be anything: not a stop word
 * ("how"), not more than one vowel. */
static bool may_be_initials(kb_searcher *s, const char *key, size_t len) {
  size_t vowels = 0;
  for (size_t i = 0; i < len; i++) vowels += strchr("aeiouv", key[i]) != NULL;
  return len <= 4 && vowels <= 1 && !kb_lexicon_contains(s->stopwords, key, len);
}

/* The heaviest word spelt by key that the reader may see, or NULL; borrowed
 * from m, valid until the next pinyin_map(). */
static const char *pinyin_word(kb_searcher *s, const kb_pinyin_map *m, const char *key,
                               size_t len, bool include_internal) {
  bool syllables = kb_pinyin_is_syllables(key, len);
  if (!syllables && !may_be_initials(s, key, len)) return NULL;
  const char *words[8];
  size_t n = kb_pinyin_map_find(m, key, len, !syllables, words, 8);
  for (size_t i = 0; i < n; i++)
    if (include_internal || visible_term(s, "", words[i])) return words[i];
  return NULL;
}

/* A query typed in pinyin: each run of Latin words that no document holds
 * is read as pinyin ("shujuku", "shu ju ku", the initials "sjk"), longest
 * spelling first, and replaced by the Chinese word it spells; words of the
 * query that match something stay as they are, so that this only ever
 * turns a miss into a match. NULL when nothing changed. */
static char *pinyin_rewrite(kb_searcher *s, const char *q, size_t len, bool include_internal) {
  if (!kb_utf8_valid(q, len, NULL)) return NULL;
  /* the words as typed (offsets into q) and folded (NUL-separated) */
  size_t start[64], end[64], fstart[64], n = 0;
  bool cand[64], any = false;
  kb_buf folded = {0};
  for (size_t i = 0; i < len && n < 64;) {
    while (i < len && q[i] == ' ') i++;
    if (i == len) break;
    start[n] = i;
    while (i < len && q[i] != ' ') i++;
    end[n] = i;
    fstart[n] = folded.len;
    kb_text_fold(q + start[n], end[n] - start[n], &folded, NULL);
    kb_buf_putc(&folded, '\0');
    const char *w = folded.data + fstart[n];
    /* OR is the query syntax's, whatever it spells */
    bool op = end[n] - start[n] == 2 && memcmp(q + start[n], "OR", 2) == 0;
    any |= cand[n] = !op && pinyin_candidate(s, w, strlen(w));
    n++;
  }
  const kb_pinyin_map *m = any && n < 64 ? pinyin_map(s) : NULL;
  kb_buf out = {0}, key = {0};
  bool changed = false;
  for (size_t k = 0; m && k < n;) {
    const char *word = NULL;
    size_t j = k + 1;
    if (cand[k]) {
      size_t last = k;
      while (last + 1 < n && cand[last + 1]) last++;
      for (j = last + 1; j > k && !word; j--) {
        kb_buf_reset(&key);
        for (size_t t = k; t < j; t++) kb_buf_puts(&key, folded.data + fstart[t]);
        if (j - k == 1 || kb_pinyin_is_syllables(key.data, key.len))
          word = pinyin_word(s, m, key.data, key.len, include_internal);
      }
      j = word ? j + 1 : k + 1;
    }
    if (out.len) kb_buf_putc(&out, ' ');
    if (word) {
      kb_buf_puts(&out, word);
      changed = true;
    } else {
      kb_buf_append(&out, q + start[k], end[j - 1] - start[k]);
    }
    k = j;
  }
  kb_buf_free(&folded);
  kb_buf_free(&key);
  if (!changed) {
    kb_buf_free(&out);
    return NULL;
  }
  return kb_buf_detach(&out);
}

/* The query corrected (malloc'ed), or NULL: Chinese homophones, then Latin
 * spelling. A split (mem cached of memcached) is only offered for a query
 * that found nothing: a name the index lacks reads as words too often. */
static char *correction_of(kb_searcher *s, const kb_search_request *req, bool found_nothing) {
  char *heard = homophone_fix(s, req->query, req->query_len, req->include_internal);
  const char *hq = heard ? heard : req->query;
  char *spelled = did_you_mean(s, hq, heard ? strlen(heard) : req->query_len,
                               req->include_internal, found_nothing);
  if (!spelled) return heard;
  free(heard);
  return spelled;
}

/* Searches text instead of req's query; when it finds something, *q and
 * *out become its own (the old ones freed) and it returns true. */
static bool search_instead(kb_searcher *s, const kb_search_request *req, const char *text,
                           double t0, kb_query **q, kb_search_response **out) {
  kb_search_request fixed = *req;
  fixed.query = text;
  fixed.query_len = strlen(text);
  kb_query *fq = NULL;
  kb_search_response *fr = NULL;
  if (search_query(s, &fixed, t0, &fq, &fr, NULL) != KB_OK || fr->total == 0) {
    kb_search_response_free(fr);
    kb_query_free(fq);
    return false;
  }
  kb_search_response_free(*out);
  *out = fr;
  kb_query_free(*q);
  *q = fq;
  return true;
}

int kb_search(kb_searcher *s, const kb_search_request *req, kb_search_response **out,
              kb_error *err) {
  double t0 = now_ms();
  *out = NULL;
  int rc = kb_index_reopen(s->idx, NULL, err);
  if (rc != KB_OK) return rc;
  /* the user's synonyms may have changed with the index (whoever reopened it) */
  if (s->synonyms_generation != kb_index_generation(s->idx)) {
    s->synonyms_generation = kb_index_generation(s->idx);
    load_synonyms(s, NULL); /* the old ones stay if that fails */
    s->current_analysis = all_analysed_alike(s->idx);
  }
  /* pinyin the index cannot match becomes the Chinese it spells; the
   * answer says so in its suggestion */
  char *spelled = req->query_len
                      ? pinyin_rewrite(s, req->query, req->query_len, req->include_internal)
                      : NULL;
  kb_search_request pinyin_req;
  if (spelled) {
    pinyin_req = *req;
    pinyin_req.query = spelled;
    pinyin_req.query_len = strlen(spelled);
    req = &pinyin_req;
  }
  kb_query *q = NULL;
  bool corrected = spelled != NULL;
  rc = search_query(s, req, t0, &q, out, err);
  if (rc == KB_OK && req->query && req->query_len && !spelled) {
    spelled = correction_of(s, req, (*out)->total == 0);
    /* the query as typed found nothing: the corrected one is searched instead */
    if (spelled && (*out)->total == 0) corrected = search_instead(s, req, spelled, t0, &q, out);
  }
  if (rc == KB_OK) {
    (*out)->suggestion = spelled;
    (*out)->corrected = corrected;
    spelled = NULL;
    if (req->explain && req->query && req->query_len)
      explain_misses(s->idx, kb_query_tree(q), &(*out)->explain);
  }
  free(spelled);
  kb_query_free(q);
  return rc;
}

int kb_search_similar(kb_searcher *s, const char *id, const kb_search_request *req,
                      kb_search_response **out, kb_error *err) {
  double t0 = now_ms();
  *out = NULL;
  kb_doc *doc = NULL;
  int rc = kb_search_fetch(s, id, req->include_internal, &doc, NULL, err);
  kb_doc_free(doc);
  if (rc != KB_OK) return rc;
  kb_search_request base = *req;
  base.query = "";
  base.query_len = 0;
  kb_query *q;
  if ((rc = request_query(s, &base, &q, err)) != KB_OK) return rc;
  kb_qnode *filters = kb_query_filters(q);
  kb_buf term = {0};
  kb_id_term(id, &term);
  kb_search_opts so = request_opts(req);
  kb_results *raw = NULL;
  if (!filters) rc = kb_error_set(err, KB_ENOMEM, "out of memory");
  else rc = kb_index_similar(s->idx, term.data, filters->nkids ? filters : NULL, &so, &raw, err);
  if (rc == KB_OK) rc = make_response(s, req, q, raw, t0, out, err);
  kb_qnode_free(filters);
  kb_buf_free(&term);
  kb_query_free(q);
  return rc;
}

/* Sets doc's fields from the stored JSON. */
static void fields_from_json(kb_doc *doc, json_t *o) {
  const char *key;
  json_t *v;
  json_object_foreach(o, key, v) {
    int f = kb_field_from_name(key);
    if (f >= 0 && json_is_string(v)) kb_doc_set_str(doc, (kb_field)f, json_string_value(v));
  }
}

int kb_search_fetch(kb_searcher *s, const char *id, bool include_internal, kb_doc **doc,
                    char **html, kb_error *err) {
  *doc = NULL;
  if (html) *html = NULL;
  kb_buf term = {0};
  kb_id_term(id, &term);
  char *data = NULL, *body = NULL, *resolution = NULL;
  int rc = kb_index_reopen(s->idx, NULL, err);
  if (rc == KB_OK) rc = kb_index_get_data(s->idx, term.data, &data, err);
  json_t *o = data ? json_loads(data, 0, NULL) : NULL;
  const char *vis = json_string_value(json_object_get(o, "visibility"));
  if (rc == KB_OK && (!o || (!include_internal && (!vis || strcmp(vis, "public") != 0))))
    rc = kb_error_set(err, KB_ENOENT, "%s: 没有这个文档 (no such document)", id);
  if (rc == KB_OK) rc = kb_index_get_value(s->idx, term.data, KB_SLOT_BODY, &body, err);
  if (rc == KB_OK)
    rc = kb_index_get_value(s->idx, term.data, KB_SLOT_RESOLUTION, &resolution, err);
  if (rc == KB_OK && !(*doc = kb_doc_new())) rc = kb_error_set(err, KB_ENOMEM, "out of memory");
  if (rc == KB_OK) {
    fields_from_json(*doc, o);
    if (body && *body) kb_doc_set_str(*doc, KB_FIELD_BODY, body);
    if (resolution && *resolution) kb_doc_set_str(*doc, KB_FIELD_RESOLUTION, resolution);
  }
  if (rc == KB_OK && html) {
    kb_buf h = {0};
    if (body) rc = kb_markdown_to_html(body, strlen(body), include_internal, &h, err);
    if (rc == KB_OK && resolution && *resolution) {
      kb_buf_puts(&h, "<h2>解决方案 (resolution)</h2>\n");
      rc = kb_markdown_to_html(resolution, strlen(resolution), include_internal, &h, err);
    }
    *html = kb_buf_detach(&h);
  }
  if (rc != KB_OK) {
    kb_doc_free(*doc);
    *doc = NULL;
    if (html) {
      free(*html);
      *html = NULL;
    }
  }
  json_decref(o);
  free(data);
  free(body);
  free(resolution);
  kb_buf_free(&term);
  return rc;
}

/* ------------------------------------------------------------ suggest */

typedef struct cand {
  char *word;
  uint32_t freq;
} cand;

typedef struct cand_list {
  cand *v;
  size_t n, cap;
  size_t skip; /* prefix length to strip */
} cand_list;

static int add_cand(const char *term, size_t len, uint32_t freq, void *ctx) {
  cand_list *l = ctx;
  if (kb_grow(&l->v, &l->cap, l->n + 1, sizeof *l->v) != KB_OK) return KB_ENOMEM;
  l->v[l->n].word = strndup(term + l->skip, len - l->skip);
  l->v[l->n].freq = freq;
  l->n++;
  return l->n >= 2000; /* enough to rank */
}

static int by_freq(const void *a, const void *b) {
  const cand *x = a, *y = b;
  return x->freq < y->freq ? 1 : (x->freq > y->freq ? -1 : strcmp(x->word, y->word));
}

/* True when word (a term with prefix) occurs in a document the reader sees. */
static bool visible_term(kb_searcher *s, const char *prefix, const char *word) {
  kb_buf t = {0}, v = {0};
  kb_buf_puts(&t, prefix);
  kb_buf_puts(&t, word);
  kb_filter_term(KB_PREFIX_VISIBILITY, "public", &v);
  kb_qnode *f = kb_qnode_new(KB_Q_FILTERED, NULL, 0);
  bool ok = false;
  if (f && kb_qnode_add(f, kb_qnode_new(KB_Q_TERM, t.data, t.len)) == KB_OK &&
      kb_qnode_add(f, kb_qnode_new(KB_Q_FILTER, v.data, v.len)) == KB_OK) {
    kb_search_opts so = {.limit = 1};
    kb_results *r = NULL;
    ok = kb_index_search(s->idx, f, &so, &r, NULL) == KB_OK && r->nhits > 0;
    kb_results_free(r);
  }
  kb_qnode_free(f);
  kb_buf_free(&t);
  kb_buf_free(&v);
  return ok;
}

int kb_search_suggest(kb_searcher *s, const char *text, bool include_internal, size_t limit,
                      char ***words, size_t *n, kb_error *err) {
  *words = NULL;
  *n = 0;
  /* the last word typed: after the last space (or ideographic space) */
  const char *last = text;
  for (const char *p = text; *p; p++)
    if (*p == ' ' || *p == '\t') last = p + 1;
    else if (strncmp(p, "\xE3\x80\x80", 3) == 0) last = p + 3;
  kb_buf folded = {0};
  if (!*last || !kb_utf8_valid(last, strlen(last), NULL)) return KB_OK;
  int rc = kb_text_fold(last, strlen(last), &folded, err);
  if (rc != KB_OK || !folded.len || folded.len > KB_TERM_MAX) {
    kb_buf_free(&folded); /* a word that folds to nothing completes nothing */
    return rc;
  }
  bool latin = (unsigned char)folded.data[0] < 0x80;
  const char *prefix = latin ? KB_PREFIX_SURFACE : "";
  kb_buf full = {0};
  kb_buf_puts(&full, prefix);
  kb_buf_append(&full, folded.data, folded.len);
  cand_list l = {.skip = strlen(prefix)};
  rc = kb_index_reopen(s->idx, NULL, err);
  if (rc == KB_OK) rc = kb_index_each_term(s->idx, full.data, add_cand, &l, err);
  if (rc > 0) rc = KB_OK;
  if (l.n) qsort(l.v, l.n, sizeof *l.v, by_freq);
  char **out = calloc(limit ? limit : 1, sizeof *out);
  for (size_t i = 0; rc == KB_OK && out && i < l.n && *n < limit; i++) {
    if (!latin && (unsigned char)l.v[i].word[0] < 0x80) continue; /* CJK words only */
    if (strcmp(l.v[i].word, folded.data) == 0 && l.n > 1) continue; /* the prefix itself */
    const char *vis_prefix = latin ? KB_PREFIX_SURFACE : "";
    if (!include_internal && !visible_term(s, vis_prefix, l.v[i].word)) continue;
    out[(*n)++] = l.v[i].word;
    l.v[i].word = NULL;
  }
  /* pinyin being typed: the Chinese words it begins, after the Latin ones */
  bool pinyin = rc == KB_OK && latin && out && *n < limit && folded.len >= 2;
  for (size_t i = 0; pinyin && i < folded.len; i++)
    pinyin = folded.data[i] >= 'a' && folded.data[i] <= 'z';
  const kb_pinyin_map *m = pinyin ? pinyin_map(s) : NULL;
  if (m) {
    const char *cands[32];
    size_t nc = kb_pinyin_map_complete(m, folded.data, folded.len, cands, 32);
    for (size_t i = 0; i < nc && *n < limit; i++) {
      if (!include_internal && !visible_term(s, "", cands[i])) continue;
      char *w = strdup(cands[i]);
      if (w) out[(*n)++] = w;
    }
  }
  for (size_t i = 0; i < l.n; i++) free(l.v[i].word);
  free(l.v);
  kb_buf_free(&full);
  kb_buf_free(&folded);
  if (rc != KB_OK) {
    kb_search_words_free(out, *n);
    *n = 0;
    return rc;
  }
  if (!out) return kb_error_set(err, KB_ENOMEM, "out of memory");
  *words = out;
  return KB_OK;
}

void kb_search_words_free(char **words, size_t n) {
  for (size_t i = 0; words && i < n; i++) free(words[i]);
  free(words);
}

void kb_search_response_free(kb_search_response *r) {
  if (!r) return;
  for (size_t i = 0; i < r->nhits; i++) {
    kb_search_hit *h = &r->hits[i];
    free(h->id), free(h->type), free(h->title), free(h->snippet);
    free(h->product), free(h->category), free(h->priority), free(h->updated);
  }
  free(r->hits);
  kb_results_free(r->raw);
  free(r->explain);
  free(r->suggestion);
  free(r);
}

const char *kb_search_suggestion_label(const kb_search_response *r) {
  return r->corrected ? "以下是更正后的结果 (showing results for)" : "您是不是要找 (did you mean)";
}

/* A JSON string of s's whole characters (a query may hold invalid UTF-8,
 * which JSON cannot: json_string would fail and its key go missing). */
static json_t *str_or_null(const char *s) {
  if (!s) return json_null();
  size_t len = strlen(s);
  if (kb_utf8_valid(s, len, NULL)) return json_string(s);
  char *clean = strdup(s);
  if (clean) kb_utf8_drop_invalid(clean, len);
  json_t *j = clean ? json_string(clean) : NULL;
  free(clean);
  return j;
}

static json_t *hit_object(const kb_search_hit *h) {
  json_t *j = json_object();
  json_object_set_new(j, "id", str_or_null(h->id));
  json_object_set_new(j, "type", str_or_null(h->type));
  json_object_set_new(j, "title", str_or_null(h->title));
  json_object_set_new(j, "snippet", str_or_null(h->snippet));
  json_object_set_new(j, "score", json_real(h->score));
  json_object_set_new(j, "product", str_or_null(h->product));
  json_object_set_new(j, "category", str_or_null(h->category));
  json_object_set_new(j, "priority", str_or_null(h->priority));
  json_object_set_new(j, "updated", str_or_null(h->updated));
  /* ids are paths of kb-serve's pages: a/..., t/... */
  kb_buf url = {0};
  if (h->id) kb_doc_id_url(h->id, &url);
  json_object_set_new(j, "url", str_or_null(url.data));
  kb_buf_free(&url);
  return j;
}

json_t *kb_search_response_object(const kb_search_response *r, const char *query) {
  static const char *const facet_names[] = {"type", "product", "category", "priority"};
  json_t *o = json_object();
  json_object_set_new(o, "query", str_or_null(query ? query : ""));
  json_object_set_new(o, "total", json_integer(r->total));
  json_object_set_new(o, "exact", json_boolean(r->total_exact));
  json_t *hits = json_array();
  for (size_t i = 0; i < r->nhits; i++) json_array_append_new(hits, hit_object(&r->hits[i]));
  json_object_set_new(o, "hits", hits);
  json_t *facets = json_object();
  for (size_t f = 0; f < sizeof facet_names / sizeof facet_names[0]; f++) {
    json_t *counts = json_object();
    for (size_t k = 0; r->raw && f < r->raw->nfacets && k < r->raw->nfacet[f]; k++)
      json_object_set_new(counts, r->raw->facets[f][k].value,
                          json_integer(r->raw->facets[f][k].count));
    json_object_set_new(facets, facet_names[f], counts);
  }
  json_object_set_new(o, "facets", facets);
  json_object_set_new(o, "suggestion", str_or_null(r->suggestion));
  json_object_set_new(o, "corrected", json_boolean(r->corrected));
  /* out of memory, a set above left its key out: no answer rather than a
   * wrong one (the first and last keys stand for the object's own failures;
   * every string is valid UTF-8, so only memory can fail them) */
  if (!hits || !facets || !json_object_get(o, "query") || !json_object_get(o, "corrected")) {
    json_decref(o);
    return NULL;
  }
  return o;
}

char *kb_search_response_json(const kb_search_response *r, const char *query) {
  json_t *o = kb_search_response_object(r, query);
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  return s;
}
