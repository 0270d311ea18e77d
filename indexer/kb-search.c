/* kb-search.c — the terminal search engineers use on the phone. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kb/search.h"
#include "kb/text.h"

static const char usage[] =
    "用法 (usage): kb-search [--db DIR] [--json] [--limit N] [--offset N]\n"
    "                 [--type article|ticket] [--product P] [--category C]\n"
    "                 [--priority P1|P2|P3|P4] [--public] [--sort date] [--explain] QUERY...\n"
    "\n"
    "查询语法 (query syntax):\n"
    "  词语                任意词，匹配越多排名越前 (any of the words, more matched ranks higher)\n"
    "  \"短语\"              按顺序出现的词 (a phrase; required)\n"
    "  -词语  -\"短语\"      排除 (exclude)\n"
    "  a OR b              任选其一 (either)\n"
    "  字段:值             过滤 (filter): product: category: type: priority: tag: title:\n"
    "\n"
    "  --public            只搜索公开文档 (public documents only, as customers see)\n"
    "  --explain           显示查询如何被分析 (show how the query was analysed)\n"
    "\n"
    "退出状态 (exit status): 0 有结果 (hits found); 1 没有结果 (no hits);\n"
    "2 用法或索引错误 (usage or index error).\n";

static int parse_size(const char *s, size_t max, size_t *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < 0 || (size_t)v > max) return -1;
  *out = (size_t)v;
  return 0;
}

static void print_plain(const kb_search_response *r, size_t offset, bool tty) {
  const char *b = tty ? "\033[1m" : "", *dim = tty ? "\033[2m" : "", *off = tty ? "\033[0m" : "";
  printf("%s共 %u 条结果 (%u results)%s\n", dim, r->total, r->total, off);
  if (r->suggestion)
    printf("%s: %s%s%s\n", kb_search_suggestion_label(r), b, r->suggestion, off);
  for (size_t i = 0; i < r->nhits; i++) {
    const kb_search_hit *h = &r->hits[i];
    printf("%2zu. %s%s%s\n", offset + i + 1, b, h->title ? h->title : "", off);
    printf("    %s%s · %s · %s%s%s%s%s\n", dim, h->id ? h->id : "", h->type ? h->type : "",
           h->product ? h->product : "-", h->priority ? " · " : "", h->priority ? h->priority : "",
           h->updated ? " · " : "", h->updated ? h->updated : "");
    printf("%s    %s\n", off, h->snippet ? h->snippet : "");
  }
}

int main(int argc, char **argv) {
  const char *db = getenv("KB_DB");
  if (!db || !*db) db = "data/kb.db";
  kb_search_request req = {.limit = 10, .include_internal = true};
  bool as_json = false;
  kb_buf query = {0};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has_arg = i + 1 < argc;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(usage, stdout);
      return 0;
    } else if (strcmp(a, "--json") == 0) {
      as_json = true;
    } else if (strcmp(a, "--public") == 0) {
      req.include_internal = false;
    } else if (strcmp(a, "--explain") == 0) {
      req.explain = true;
    } else if (strcmp(a, "--db") == 0 && has_arg) {
      db = argv[++i];
    } else if (strcmp(a, "--limit") == 0 && has_arg) {
      if (parse_size(argv[++i], 1000, &req.limit)) goto bad;
    } else if (strcmp(a, "--offset") == 0 && has_arg) {
      if (parse_size(argv[++i], 100000, &req.offset)) goto bad;
    } else if (strcmp(a, "--type") == 0 && has_arg) {
      req.type = argv[++i];
    } else if (strcmp(a, "--product") == 0 && has_arg) {
      req.product = argv[++i];
    } else if (strcmp(a, "--category") == 0 && has_arg) {
      req.category = argv[++i];
    } else if (strcmp(a, "--priority") == 0 && has_arg) {
      req.priority = argv[++i];
    } else if (strcmp(a, "--sort") == 0 && has_arg) {
      const char *s = argv[++i];
      if (strcmp(s, "date") == 0) req.sort_by_date = true;
      else if (strcmp(s, "relevance") != 0) goto bad;
    } else if (strcmp(a, "--") == 0) {
      for (i++; i < argc; i++) {
        if (query.len) kb_buf_putc(&query, ' ');
        kb_buf_puts(&query, argv[i]);
      }
    } else if (a[0] == '-' && a[1] == '-') {
      goto bad;
    } else {
      if (query.len) kb_buf_putc(&query, ' ');
      kb_buf_puts(&query, a);
    }
    continue;
  bad:
    fprintf(stderr, "kb-search: 参数无效 (invalid argument) %s\n\n%s", a, usage);
    kb_buf_free(&query);
    return 2;
  }
  bool tty = isatty(STDOUT_FILENO);
  req.query = query.data ? query.data : "";
  req.query_len = query.len;
  req.snippet = as_json ? &KB_SNIPPET_HTML : (tty ? &KB_SNIPPET_TERMINAL : &KB_SNIPPET_PLAIN);
  /* the JSON answer is the one /api/search gives, facets included; the
   * terminal shows none, so it does not count them */
  req.facets = as_json;

  kb_error err = {0};
  kb_searcher *s = NULL;
  kb_search_response *r = NULL;
  int status = 2;
  if (kb_searcher_new(db, &s, &err) != KB_OK) {
    fprintf(stderr, "kb-search: 无法打开索引 (cannot open index): %s\n", err.message);
    goto out;
  }
  if (kb_search(s, &req, &r, &err) != KB_OK) {
    fprintf(stderr, "kb-search: %s\n", err.message);
    goto out;
  }
  if (req.explain) fprintf(as_json ? stderr : stdout, "分析 (analysis): %s\n", r->explain);
  if (as_json) {
    char *j = kb_search_response_json(r, req.query);
    puts(j ? j : "{}");
    free(j);
  } else {
    print_plain(r, req.offset, tty);
  }
  status = r->nhits ? 0 : 1;
out:
  kb_search_response_free(r);
  kb_searcher_free(s);
  kb_buf_free(&query);
  return status;
}
