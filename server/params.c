/* params.c — HTTP request parameters checked and turned into a search
 * request. The lookup is a callback, so that the same code serves
 * libmicrohttpd and the fuzz target. */
#include "params.h"

#include <stdlib.h>
#include <string.h>

#include "kb/text.h"

size_t kb_params_chars(const char *s) { return kb_params_chars_n(s, strlen(s)); }

size_t kb_params_chars_n(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
  return n;
}

bool kb_params_uint(const char *s, size_t max, size_t *out) {
  if (!s) return true;
  char *end;
  if (!*s || *s == '-' || *s == '+' || *s == ' ') return false;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end || v > max) return false;
  *out = (size_t)v;
  return true;
}

static bool valid_date(const char *s) { return !s || kb_text_is_date(s); }

/* A parameter's value, NULL when absent or empty. */
static const char *arg(kb_param_fn get, void *ctx, const char *name) {
  const char *v = get(ctx, name);
  return v && *v ? v : NULL;
}

const char *kb_params_q_invalid(const char *q) {
  if (!kb_utf8_valid(q, strlen(q), NULL)) return "不是有效的 UTF-8 (not valid UTF-8)";
  if (kb_params_chars(q) > KB_Q_MAX_CHARS) return "超过 1000 个字符 (over 1000 characters)";
  return NULL;
}

bool kb_params_search(kb_param_fn get, void *ctx, kb_search_request *req, const char **bad_param,
                      const char **why) {
  const char *q = get(ctx, "q");
  q = q ? q : "";
  if ((*why = kb_params_q_invalid(q))) {
    *bad_param = "q";
    return false;
  }
  req->query = q;
  req->query_len = strlen(q);
  req->limit = 10;
  if (!kb_params_uint(arg(get, ctx, "limit"), KB_LIMIT_MAX, &req->limit) || req->limit == 0) {
    *bad_param = "limit", *why = "应为 1 到 100 的整数 (an integer from 1 to 100)";
    return false;
  }
  if (!kb_params_uint(arg(get, ctx, "offset"), KB_OFFSET_MAX, &req->offset)) {
    *bad_param = "offset", *why = "应为 0 到 10000 的整数 (an integer from 0 to 10000)";
    return false;
  }
  const char *type = arg(get, ctx, "type");
  if (type && strcmp(type, "article") && strcmp(type, "ticket")) {
    *bad_param = "type", *why = "应为 article 或 ticket (article or ticket)";
    return false;
  }
  req->type = type;
  const char *prio = arg(get, ctx, "priority");
  if (prio && !(strlen(prio) == 2 && (prio[0] == 'P' || prio[0] == 'p') && prio[1] >= '1' &&
                prio[1] <= '4')) {
    *bad_param = "priority", *why = "应为 P1、P2、P3 或 P4 (P1 to P4)";
    return false;
  }
  req->priority = prio;
  const char *fields[] = {"product", "category"};
  for (int i = 0; i < 2; i++) {
    const char *v = arg(get, ctx, fields[i]);
    if (v && (strlen(v) > 256 || !kb_utf8_valid(v, strlen(v), NULL))) {
      *bad_param = fields[i], *why = "应为不超过 256 字节的 UTF-8 文本 (UTF-8 text of 256 bytes at most)";
      return false;
    }
  }
  req->product = arg(get, ctx, "product");
  req->category = arg(get, ctx, "category");
  req->date_from = arg(get, ctx, "from");
  req->date_to = arg(get, ctx, "to");
  if (!valid_date(req->date_from) || !valid_date(req->date_to)) {
    *bad_param = valid_date(req->date_from) ? "to" : "from";
    *why = "日期应为 YYYY-MM-DD (a date YYYY-MM-DD)";
    return false;
  }
  const char *sort = arg(get, ctx, "sort");
  if (sort && strcmp(sort, "relevance") && strcmp(sort, "date")) {
    *bad_param = "sort", *why = "应为 relevance 或 date (relevance or date)";
    return false;
  }
  req->sort_by_date = sort && strcmp(sort, "date") == 0;
  return true;
}
