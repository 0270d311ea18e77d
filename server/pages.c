/* pages.c — the plain, server-rendered HTML pages: home, results, a
 * document. No JavaScript; every value is escaped by the templates. */
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "template.h"

#define PAGE_SIZE 10

static enum MHD_Result send_page(struct MHD_Connection *c, request *r, unsigned status,
                                 const char *title, const char *q, const char *content) {
  kb_buf page = {0};
  kb_tpl_var vars[] = {{"title", title}, {"q", q}, {"content", content}};
  kb_tpl_render(KB_TPL_LAYOUT, vars, 3, &page);
  size_t len = page.len;
  return kb_respond(c, r, status, "text/html; charset=utf-8", kb_buf_detach(&page), len);
}

static enum MHD_Result page_error(struct MHD_Connection *c, request *r, unsigned status,
                                  const char *message) {
  kb_buf content = {0};
  kb_buf_puts(&content, "<h1>");
  kb_html_escape(message, strlen(message), &content);
  kb_buf_puts(&content, "</h1><p><a href=\"/\">返回首页 (home)</a></p>");
  enum MHD_Result ret = send_page(c, r, status, message, "", content.data);
  kb_buf_free(&content);
  return ret;
}

enum MHD_Result kb_page_home(struct MHD_Connection *c, request *r) {
  kb_error err = {0};
  kb_searcher *ks = kb_worker_searcher(r->srv, &err);
  if (!ks) return page_error(c, r, 500, "索引不可用 (index unavailable)");
  /* the count of what this reader can find (the public: public documents) */
  kb_search_request req = {.include_internal = r->role != ROLE_PUBLIC, .limit = 0};
  kb_search_response *resp = NULL;
  char docs[32] = "0";
  if (kb_search(ks, &req, &resp, &err) == KB_OK) snprintf(docs, sizeof docs, "%u", resp->total);
  kb_search_response_free(resp);
  kb_buf content = {0};
  kb_tpl_var vars[] = {{"docs", docs}};
  kb_tpl_render(KB_TPL_HOME, vars, 1, &content);
  enum MHD_Result ret = send_page(c, r, 200, "首页 (home)", "", content.data);
  kb_buf_free(&content);
  return ret;
}

static void put_urlencoded(kb_buf *url, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        *p == '-' || *p == '_' || *p == '.')
      kb_buf_putc(url, (char)*p);
    else
      kb_buf_printf(url, "%%%02X", *p);
  }
}

/* A link to the results of q from offset on (the pager, "did you mean"). */
static void pager_link(kb_buf *out, const char *q, size_t offset, const char *label) {
  kb_buf url = {0};
  kb_buf_puts(&url, "/search?q=");
  put_urlencoded(&url, q);
  kb_buf_printf(&url, "&offset=%zu", offset);
  kb_buf_puts(out, "<a href=\"");
  kb_html_escape(url.data, url.len, out);
  kb_buf_puts(out, "\">");
  kb_html_escape(label, strlen(label), out);
  kb_buf_puts(out, "</a>");
  kb_buf_free(&url);
}

/* The hits, each linking with the query along, so that opening one counts
 * for the gap report. */
static void hits_html(const kb_search_request *req, const kb_search_response *resp, kb_buf *out) {
  for (size_t i = 0; i < resp->nhits; i++) {
    const kb_search_hit *h = &resp->hits[i];
    kb_buf url = {0};
    kb_doc_id_url(h->id, &url); /* an id with a space, % or # still opens its page */
    kb_buf_puts(&url, "?q=");
    put_urlencoded(&url, req->query);
    kb_tpl_var vars[] = {{"url", url.data},          {"title", h->title},
                         {"snippet", h->snippet},    {"category", h->category},
                         {"product", h->product},    {"updated", h->updated}};
    kb_tpl_render(KB_TPL_HIT, vars, 6, out);
    kb_buf_free(&url);
  }
}

/* The results part of the page: hits, total, pager, "did you mean". */
static void results_html(const kb_search_request *req, const kb_search_response *resp,
                         kb_buf *content) {
  kb_buf hits = {0}, prev = {0}, next = {0};
  hits_html(req, resp, &hits);
  if (req->offset > 0)
    pager_link(&prev, req->query, req->offset > PAGE_SIZE ? req->offset - PAGE_SIZE : 0,
               "← 上一页 (previous)");
  if (req->offset + resp->nhits < resp->total)
    pager_link(&next, req->query, req->offset + PAGE_SIZE, "下一页 (next) →");
  char total[32];
  snprintf(total, sizeof total, "%u", resp->total);
  const char *empty = resp->nhits ? "" :
      "<p class=\"empty\">没有找到相关内容。请换个说法，或直接输入错误代码。<br>"
      "Nothing found: try other words or the exact error code.</p>";
  /* "did you mean": the corrected query as a link; or what the hits are
   * for, when the query as typed found nothing */
  kb_buf suggestion = {0};
  if (resp->suggestion) {
    kb_buf_printf(&suggestion, "<p class=\"suggestion\">%s: ", kb_search_suggestion_label(resp));
    pager_link(&suggestion, resp->suggestion, 0, resp->suggestion);
    kb_buf_puts(&suggestion, "</p>");
  }
  kb_tpl_var vars[] = {{"q", req->query},  {"total", total},   {"suggestion", suggestion.data},
                       {"hits", hits.data}, {"empty", empty},   {"prev", prev.data},
                       {"next", next.data}};
  kb_tpl_render(KB_TPL_RESULTS, vars, 7, content);
  kb_buf_free(&suggestion);
  kb_buf_free(&hits);
  kb_buf_free(&prev);
  kb_buf_free(&next);
}

enum MHD_Result kb_page_search(struct MHD_Connection *c, request *r) {
  kb_search_request req = {.include_internal = r->role != ROLE_PUBLIC};
  const char *name, *why;
  if (!kb_parse_search_params(c, &req, &name, &why)) {
    char msg[256];
    snprintf(msg, sizeof msg, "参数 %s 无效 (invalid parameter): %s", name, why);
    return page_error(c, r, 400, msg);
  }
  req.limit = PAGE_SIZE;
  kb_error err = {0};
  kb_searcher *ks = kb_worker_searcher(r->srv, &err);
  if (!ks) return page_error(c, r, 500, "索引错误 (index error)");
  /* the same search on the same index: the results kept from last time */
  cached_search cs;
  size_t len = 0;
  char *cached = kb_search_recall(r, ks, "page", &req, &cs, &len);
  if (cached) {
    enum MHD_Result ret = send_page(c, r, 200, req.query, req.query, cached);
    free(cached);
    return ret;
  }
  kb_search_response *resp = NULL;
  if (kb_search(ks, &req, &resp, &err) != KB_OK) {
    kb_search_forget(&cs);
    return page_error(c, r, 500, "索引错误 (index error)");
  }
  kb_buf content = {0};
  results_html(&req, resp, &content);
  kb_search_remember(r, &req, &cs, content.data, content.len, resp->total);
  enum MHD_Result ret = send_page(c, r, 200, req.query, req.query, content.data);
  kb_search_response_free(resp);
  kb_buf_free(&content);
  return ret;
}

enum MHD_Result kb_page_doc(struct MHD_Connection *c, request *r, const char *id) {
  kb_error err = {0};
  kb_searcher *ks = kb_worker_searcher(r->srv, &err);
  if (!ks) return page_error(c, r, 500, "索引不可用 (index unavailable)");
  kb_doc *doc = NULL;
  char *html = NULL;
  int rc = kb_search_fetch(ks, id, r->role != ROLE_PUBLIC, &doc, &html, &err);
  if (rc == KB_ENOENT) return page_error(c, r, 404, "没有这篇文章 (not found)");
  if (rc != KB_OK) return page_error(c, r, 500, "索引错误 (index error)");
  const char *from = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q");
  if (from && *from) kb_gaps_click(r->srv->gaps, from);
  kb_buf content = {0};
  kb_tpl_var vars[] = {{"title", kb_doc_get(doc, KB_FIELD_TITLE)},
                       {"type", kb_doc_get(doc, KB_FIELD_TYPE)},
                       {"product", kb_doc_get(doc, KB_FIELD_PRODUCT)},
                       {"category", kb_doc_get(doc, KB_FIELD_CATEGORY)},
                       {"updated", kb_doc_get(doc, KB_FIELD_UPDATED)},
                       {"id", kb_doc_get(doc, KB_FIELD_ID)},
                       {"html", html}};
  kb_tpl_render(KB_TPL_DOC, vars, 7, &content);
  enum MHD_Result ret = send_page(c, r, 200, kb_doc_get(doc, KB_FIELD_TITLE), "", content.data);
  kb_buf_free(&content);
  kb_doc_free(doc);
  free(html);
  return ret;
}
