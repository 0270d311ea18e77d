/* search.c — a search from request to hits: query, index, snippets. */
#include "kb/search.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kb/analyze.h"
#include "kb/query.h"

struct kb_searcher {
  kb_index *idx;
  kb_lexicon *lexicon;
  kb_lexicon *stopwords;
  kb_tokenizer *tok;
};

static const unsigned facet_slots[] = {KB_SLOT_TYPE, KB_SLOT_PRODUCT, KB_SLOT_CATEGORY,
                                       KB_SLOT_PRIORITY};
/* read with each hit: the text snippets are cut from */
static const unsigned text_slots[] = {KB_SLOT_TEXT, KB_SLOT_ITEXT};

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
  if (rc != KB_OK) {
    kb_searcher_free(s);
    return rc;
  }
  *out = s;
  return KB_OK;
}

void kb_searcher_free(kb_searcher *s) {
  if (!s) return;
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
  kb_buf_append(&text, raw->values[0], raw->value_lens[0]);
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

int kb_search(kb_searcher *s, const kb_search_request *req, kb_search_response **out,
              kb_error *err) {
  double t0 = now_ms();
  *out = NULL;
  kb_query_opts qo = {.include_internal = req->include_internal, .stopwords = s->stopwords};
  kb_query *q;
  int rc = kb_query_parse(s->tok, req->query ? req->query : "", req->query_len, &qo, &q, err);
  if (rc != KB_OK) return rc;
  if (req->type) kb_query_add_filter(q, KB_PREFIX_TYPE, req->type);
  if (req->product) kb_query_add_filter(q, KB_PREFIX_PRODUCT, req->product);
  if (req->category) kb_query_add_filter(q, KB_PREFIX_CATEGORY, req->category);
  if (req->priority) kb_query_add_filter(q, KB_PREFIX_PRIORITY, req->priority);
  const kb_qnode *tree = kb_query_tree(q);
  kb_search_response *r = calloc(1, sizeof *r);
  if (!tree || !r) {
    free(r);
    kb_query_free(q);
    return kb_error_set(err, KB_ENOMEM, "out of memory");
  }
  kb_search_opts so = {
      .offset = req->offset,
      .limit = req->limit,
      .sort_by_date = req->sort_by_date,
      .date_slot = KB_SLOT_UPDATED,
      .facet_slots = req->facets ? facet_slots : NULL,
      .nfacets = req->facets ? sizeof facet_slots / sizeof facet_slots[0] : 0,
      .check_at_least = req->facets ? 10000 : 0,
      .value_slots = text_slots,
      .nvalues = sizeof text_slots / sizeof text_slots[0],
  };
  rc = kb_index_search(s->idx, tree, &so, &r->raw, err);
  if (rc == KB_OK) {
    r->total = r->raw->total;
    r->total_exact = r->raw->total_exact;
    r->hits = calloc(r->raw->nhits ? r->raw->nhits : 1, sizeof *r->hits);
    if (!r->hits) rc = kb_error_set(err, KB_ENOMEM, "out of memory");
  }
  for (size_t i = 0; rc == KB_OK && i < r->raw->nhits; i++) {
    rc = fill_hit(s, req, q, &r->raw->hits[i], &r->hits[i], err);
    r->nhits++;
  }
  kb_buf ex = {0};
  kb_query_explain(q, &ex);
  r->explain = kb_buf_detach(&ex);
  kb_query_free(q);
  if (rc != KB_OK) {
    kb_search_response_free(r);
    return rc;
  }
  r->took_ms = now_ms() - t0;
  *out = r;
  return KB_OK;
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
  free(r);
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

char *kb_search_response_json(const kb_search_response *r, const char *query) {
  json_t *o = json_object();
  json_object_set_new(o, "query", json_string(query ? query : ""));
  json_object_set_new(o, "total", json_integer(r->total));
  json_object_set_new(o, "exact", json_boolean(r->total_exact));
  json_t *hits = json_array();
  for (size_t i = 0; i < r->nhits; i++) {
    const kb_search_hit *h = &r->hits[i];
    json_t *j = json_object();
    json_object_set_new(j, "id", str_or_null(h->id));
    json_object_set_new(j, "type", str_or_null(h->type));
    json_object_set_new(j, "title", str_or_null(h->title));
    json_object_set_new(j, "score", json_real(h->score));
    json_object_set_new(j, "snippet", str_or_null(h->snippet));
    json_object_set_new(j, "product", str_or_null(h->product));
    json_object_set_new(j, "category", str_or_null(h->category));
    json_object_set_new(j, "priority", str_or_null(h->priority));
    json_object_set_new(j, "updated", str_or_null(h->updated));
    json_array_append_new(hits, j);
  }
  json_object_set_new(o, "hits", hits);
  if (r->raw && r->raw->nfacets) {
    static const char *names[] = {"type", "product", "category", "priority"};
    json_t *facets = json_object();
    for (size_t f = 0; f < r->raw->nfacets && f < 4; f++) {
      json_t *counts = json_object();
      for (size_t k = 0; k < r->raw->nfacet[f]; k++)
        json_object_set_new(counts, r->raw->facets[f][k].value,
                            json_integer(r->raw->facets[f][k].count));
      json_object_set_new(facets, names[f], counts);
    }
    json_object_set_new(o, "facets", facets);
  }
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return s;
}
