/* fuzz_html.c — fuzz target: Markdown into the HTML an article page shows,
 * for the public and for engineers. What the page promises, whatever the
 * Markdown holds: cmark's own tags and attributes only (raw HTML is
 * omitted in safe mode), so no <script>, no event handler; and no link or
 * image whose URL a browser would run (javascript:, vbscript:, file:, or
 * data: other than a PNG, GIF, JPEG or WebP image). */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kb/markdown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the tags and attributes cmark's HTML renderer writes */
static const char *const TAGS[] = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "a", "img", "em",
                                   "strong", "code", "pre", "blockquote", "ul", "ol", "li",
                                   "hr", "br"};
static const char *const ATTRS[] = {"href", "src", "alt", "title", "class", "start"};

static bool in(const char *const *set, size_t n, const char *s, size_t len) {
  for (size_t i = 0; i < n; i++)
    if (strlen(set[i]) == len && strncasecmp(set[i], s, len) == 0) return true;
  return false;
}

/* The URL as a browser reads the attribute value v[0..len): character
 * references decoded, tabs and line ends removed, leading blanks and C0
 * controls dropped, lower case. */
static void browser_url(const char *v, size_t len, kb_buf *out) {
  for (size_t i = 0; i < len; i++) {
    unsigned c = (unsigned char)v[i];
    if (c == '&') {
      const char *semi = memchr(v + i, ';', len - i);
      if (!semi) abort(); /* cmark writes & as &amp; */
      size_t n = (size_t)(semi - (v + i)) + 1;
      if (n == 5 && !memcmp(v + i, "&amp;", 5)) c = '&';
      else if (n == 6 && !memcmp(v + i, "&quot;", 6)) c = '"';
      else if (n == 4 && !memcmp(v + i, "&lt;", 4)) c = '<';
      else if (n == 4 && !memcmp(v + i, "&gt;", 4)) c = '>';
      else if (n > 3 && v[i + 1] == '#')
        c = (unsigned)strtoul(v + i + (v[i + 2] == 'x' || v[i + 2] == 'X' ? 3 : 2), NULL,
                              v[i + 2] == 'x' || v[i + 2] == 'X' ? 16 : 10);
      else abort(); /* a named reference cmark never writes */
      i += n - 1;
    }
    if (c == '\t' || c == '\n' || c == '\r') continue;
    if (!out->len && c <= 0x20) continue;
    kb_buf_putc(out, (char)tolower((int)c));
  }
  if (!out->data) kb_buf_append(out, "", 0);
}

/* cmark's safe mode: no javascript:, vbscript:, file:, and data: only for
 * raster images (which run nothing, linked or shown) */
static bool dangerous(const char *url) {
  static const char *const images[] = {"data:image/png", "data:image/gif", "data:image/jpeg",
                                       "data:image/webp"};
  if (!strncmp(url, "javascript:", 11) || !strncmp(url, "vbscript:", 9) ||
      !strncmp(url, "file:", 5))
    return true;
  if (strncmp(url, "data:", 5)) return false;
  for (size_t i = 0; i < sizeof images / sizeof *images; i++)
    if (!strncmp(url, images[i], strlen(images[i]))) return false;
  return true;
}

/* Checks every tag of html; aborts on one the page must never hold. */
static void check(const char *html, size_t len) {
  for (const char *p = html, *end = html + len; (p = memchr(p, '<', (size_t)(end - p)));) {
    if (!strncmp(p, "<!--", 4)) {
      const char *c = strstr(p + 4, "-->");
      if (!c) abort();
      p = c + 3;
      continue;
    }
    p++;
    if (*p == '/') p++;
    const char *name = p;
    while (isalnum((unsigned char)*p)) p++;
    if (!in(TAGS, sizeof TAGS / sizeof *TAGS, name, (size_t)(p - name))) abort();
    for (;;) {
      while (*p == ' ') p++;
      if (*p == '>' || (p[0] == '/' && p[1] == '>')) break;
      const char *an = p;
      while (isalpha((unsigned char)*p) || *p == '-') p++;
      size_t al = (size_t)(p - an);
      if (!al || !in(ATTRS, sizeof ATTRS / sizeof *ATTRS, an, al)) abort();
      if (*p++ != '=' || *p++ != '"') abort();
      const char *v = p, *q = strchr(p, '"');
      if (!q) abort();
      if ((al == 4 && !strncmp(an, "href", 4)) || (al == 3 && !strncmp(an, "src", 3))) {
        kb_buf url = {0};
        browser_url(v, (size_t)(q - v), &url);
        if (dangerous(url.data)) abort();
        kb_buf_free(&url);
      }
      p = q + 1;
    }
  }
  /* and, said plainly, what the README promises */
  for (size_t i = 0; i + 7 <= len; i++)
    if (!strncasecmp(html + i, "<script", 7)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  for (int internal = 0; internal < 2; internal++) {
    kb_buf html = {0};
    kb_error err = {0};
    if (kb_markdown_to_html((const char *)data, size, internal, &html, &err) != KB_OK) abort();
    check(html.data ? html.data : "", html.len);
    kb_buf_free(&html);
  }
  return 0;
}
