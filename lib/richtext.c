/* richtext.c — HTML and Jira wiki markup of ticket exports as plain text. */
#include "kb/richtext.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* ----------------------------------------------------------------- HTML */

/* Elements whose content is never text. */
static const char *const hidden_elements[] = {"script", "style", "head", "template", "noscript",
                                              "title"};
/* Elements that start and end a line. */
static const char *const block_elements[] = {
    "p",      "div",     "br",      "tr",    "table",      "ul",   "ol",     "pre",
    "h1",     "h2",      "h3",      "h4",    "h5",         "h6",   "hr",     "section",
    "article", "header", "footer",  "dl",    "dt",         "dd",   "blockquote", "li",
    "thead",  "tbody",   "caption", "figure", "figcaption", "nav", "aside",  "address"};

/* The named entities export tools write; others are left as they are. */
static const struct {
  const char *name;
  int32_t cp;
} entities[] = {{"amp", '&'},     {"lt", '<'},       {"gt", '>'},      {"quot", '"'},
                {"apos", '\''},   {"nbsp", ' '},     {"ensp", ' '},    {"emsp", ' '},
                {"ndash", 0x2013}, {"mdash", 0x2014}, {"hellip", 0x2026}, {"lsquo", 0x2018},
                {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"middot", 0xB7},
                {"copy", 0xA9},   {"reg", 0xAE},     {"trade", 0x2122}, {"times", 0xD7},
                {"laquo", 0xAB},  {"raquo", 0xBB},   {"bull", 0x2022}, {"deg", 0xB0}};

#define N(a) (sizeof a / sizeof a[0])

static bool name_in(const char *name, size_t n, const char *const *list, size_t count) {
  for (size_t i = 0; i < count; i++)
    if (strlen(list[i]) == n && strncasecmp(list[i], name, n) == 0) return true;
  return false;
}

typedef struct html_out {
  kb_buf *out;
  bool space;    /* whitespace seen since the last text */
  int newlines;  /* line breaks pending (0–2) */
  bool any;      /* text written yet */
  int rc;
} html_out;

static void put(html_out *h, const char *s, size_t n) {
  if (h->rc) return;
  if (h->any && h->newlines) {
    h->rc = kb_buf_append(h->out, "\n\n", (size_t)h->newlines);
  } else if (h->any && h->space) {
    h->rc = kb_buf_putc(h->out, ' ');
  }
  h->newlines = 0;
  h->space = false;
  h->any = true;
  if (!h->rc) h->rc = kb_buf_append(h->out, s, n);
}

static void line_break(html_out *h, int n) {
  if (h->newlines < n) h->newlines = n;
}

/* Decodes the entity at s (after '&'); returns the bytes it spans, or 0
 * when it is not one (the '&' is then text). */
static size_t entity(const char *s, size_t len, char utf8[4], size_t *n) {
  size_t i = 0;
  int32_t cp = -1;
  if (i < len && s[i] == '#') {
    i++;
    bool hex = i < len && (s[i] == 'x' || s[i] == 'X');
    if (hex) i++;
    size_t start = i;
    uint32_t v = 0;
    while (i < len && i - start < 8 && (hex ? isxdigit((unsigned char)s[i]) : isdigit((unsigned char)s[i]))) {
      int d = isdigit((unsigned char)s[i]) ? s[i] - '0' : (tolower((unsigned char)s[i]) - 'a' + 10);
      v = v * (hex ? 16 : 10) + (uint32_t)d;
      i++;
    }
    if (i == start) return 0;
    /* no character, a surrogate or a control: the replacement character */
    cp = v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (v < 0x20 && v != '\t' && v != '\n')
             ? 0xFFFD
             : (int32_t)v;
  } else {
    size_t start = i;
    while (i < len && i - start < 10 && isalnum((unsigned char)s[i])) i++;
    for (size_t k = 0; k < N(entities) && cp < 0; k++)
      if (strlen(entities[k].name) == i - start && memcmp(entities[k].name, s + start, i - start) == 0)
        cp = entities[k].cp;
    if (cp < 0) return 0;
  }
  if (i < len && s[i] == ';') i++;
  *n = kb_utf8_put(cp, utf8);
  return i;
}

/* Text between tags: whitespace collapsed (kept in pre), entities decoded. */
static void html_text(html_out *h, const char *s, size_t len, bool pre) {
  size_t run = 0; /* start of the run of plain bytes */
  for (size_t i = 0; i <= len; i++) {
    bool end = i == len;
    char c = end ? 0 : s[i];
    bool ws = !end && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f');
    if (!end && !ws && c != '&') continue;
    if (i > run) put(h, s + run, i - run);
    run = i + 1;
    if (end) break;
    if (ws && pre && c == '\n') {
      /* a pre's line breaks are kept, one by one */
      if (h->any) kb_buf_putc(h->out, '\n');
      h->space = false;
    } else if (ws && pre) {
      put(h, s + i, 1);
    } else if (ws) {
      h->space = true;
    } else {
      char u[4];
      size_t n = 0, used = entity(s + i + 1, len - i - 1, u, &n);
      if (used) {
        if (u[0] == ' ' && n == 1) h->space = true; /* &nbsp; and its kind */
        else put(h, u, n);
        i += used;
        run = i + 1;
      } else {
        put(h, "&", 1);
      }
    }
  }
}

/* The end of the tag that starts at s[0] == '<' (the index after its '>'),
 * quoted attribute values skipped; 0 when it does not end. */
static size_t tag_end(const char *s, size_t len) {
  char quote = 0;
  for (size_t i = 1; i < len; i++) {
    if (quote) {
      if (s[i] == quote) quote = 0;
    } else if (s[i] == '"' || s[i] == '\'') {
      quote = s[i];
    } else if (s[i] == '>') {
      return i + 1;
    }
  }
  return 0;
}

/* Where the element name ends inside a hidden element: its closing tag. */
static size_t skip_hidden(const char *s, size_t len, const char *name, size_t n) {
  for (size_t i = 0; i + 2 + n <= len; i++)
    if (s[i] == '<' && s[i + 1] == '/' && strncasecmp(s + i + 2, name, n) == 0) {
      size_t e = tag_end(s + i, len - i);
      return e ? i + e : len;
    }
  return len;
}

int kb_richtext_html(const char *s, size_t len, kb_buf *out) {
  html_out h = {.out = out};
  int pre = 0;
  size_t text = 0;
  for (size_t i = 0; i < len && !h.rc;) {
    if (s[i] != '<') {
      i++;
      continue;
    }
    size_t k = i + 1;
    bool closing = k < len && s[k] == '/';
    if (closing) k++;
    bool comment = len - i >= 4 && memcmp(s + i, "<!--", 4) == 0;
    bool markup = k < len && (isalpha((unsigned char)s[k]) || s[k] == '!' || s[k] == '?');
    if (!comment && !markup) {
      i++; /* a '<' of the text ("a < b") */
      continue;
    }
    html_text(&h, s + text, i - text, pre > 0);
    size_t end;
    if (comment) {
      const char *c = NULL;
      for (size_t j = i + 4; j + 3 <= len && !c; j++)
        if (memcmp(s + j, "-->", 3) == 0) c = s + j;
      end = c ? (size_t)(c - s) + 3 : len;
    } else {
      size_t e = tag_end(s + i, len - i);
      end = e ? i + e : len;
      size_t ns = k;
      while (k < end && (isalnum((unsigned char)s[k]) || s[k] == '-')) k++;
      const char *name = s + ns;
      size_t n = k - ns;
      if (!closing && name_in(name, n, hidden_elements, N(hidden_elements))) {
        end = end + skip_hidden(s + end, len - end, name, n);
      } else if (name_in(name, n, block_elements, N(block_elements))) {
        bool para = n != 2 || strncasecmp(name, "br", 2) != 0;
        bool item = n == 2 && strncasecmp(name, "li", 2) == 0;
        line_break(&h, para && !item ? 2 : 1);
        if (n == 3 && strncasecmp(name, "pre", 3) == 0) pre += closing ? (pre > 0 ? -1 : 0) : 1;
        if (item && !closing) put(&h, "- ", 2), h.space = false;
      } else if (n == 2 && (strncasecmp(name, "td", 2) == 0 || strncasecmp(name, "th", 2) == 0) &&
                 !closing) {
        h.space = true;
      }
    }
    i = text = end;
  }
  if (!h.rc) html_text(&h, s + text, len - text, pre > 0);
  if (!h.rc && !out->data) h.rc = kb_buf_append(out, "", 0);
  return h.rc;
}

bool kb_richtext_looks_html(const char *s, size_t len) {
  static const char *const marks[] = {"</", "/>", "<br", "<p>", "<p ", "<div", "&nbsp;", "&amp;",
                                      "&lt;", "&#"};
  for (size_t i = 0; i < len; i++) {
    if (s[i] != '<' && s[i] != '/' && s[i] != '&') continue;
    for (size_t k = 0; k < N(marks); k++) {
      size_t n = strlen(marks[k]);
      if (len - i >= n && strncasecmp(s + i, marks[k], n) == 0) return true;
    }
  }
  return false;
}

/* ----------------------------------------------------------------- Jira */

static bool starts(const char *s, size_t len, const char *p) {
  size_t n = strlen(p);
  return len >= n && strncasecmp(s, p, n) == 0;
}

/* One line's inline markup: links, mentions, monospace, colour tokens. */
static int jira_inline(const char *s, size_t len, kb_buf *out) {
  int rc = KB_OK;
  for (size_t i = 0; i < len && rc == KB_OK;) {
    if (s[i] == '[') {
      const char *close = memchr(s + i, ']', len - i);
      if (close) {
        const char *in = s + i + 1;
        size_t n = (size_t)(close - in);
        const char *bar = memchr(in, '|', n);
        if (n && in[0] == '~') {
          rc = kb_buf_putc(out, '@');
          if (rc == KB_OK) rc = kb_buf_append(out, in + 1, n - 1);
        } else if (bar) {
          rc = kb_buf_append(out, in, (size_t)(bar - in));
          if (rc == KB_OK) rc = kb_buf_puts(out, " (");
          if (rc == KB_OK) rc = kb_buf_append(out, bar + 1, (size_t)(in + n - bar - 1));
          if (rc == KB_OK) rc = kb_buf_putc(out, ')');
        } else {
          rc = kb_buf_append(out, in, n);
        }
        i = (size_t)(close - s) + 1;
        continue;
      }
    } else if (s[i] == '{' && i + 1 < len && s[i + 1] == '{') {
      rc = kb_buf_putc(out, '`');
      i += 2;
      continue;
    } else if (s[i] == '}' && i + 1 < len && s[i + 1] == '}') {
      rc = kb_buf_putc(out, '`');
      i += 2;
      continue;
    } else if (starts(s + i, len - i, "{color") || starts(s + i, len - i, "{quote}") ||
               starts(s + i, len - i, "{panel")) {
      const char *close = memchr(s + i, '}', len - i);
      if (close) {
        i = (size_t)(close - s) + 1;
        continue;
      }
    }
    rc = kb_buf_putc(out, s[i]);
    i++;
  }
  return rc;
}

int kb_richtext_jira(const char *s, size_t len, kb_buf *out) {
  int rc = out->data ? KB_OK : kb_buf_append(out, "", 0);
  bool code = false;
  for (size_t i = 0; i < len && rc == KB_OK;) {
    const char *nl = memchr(s + i, '\n', len - i);
    size_t e = nl ? (size_t)(nl - s) : len;
    const char *line = s + i;
    size_t n = e - i;
    if (n && line[n - 1] == '\r') n--;
    bool fence = starts(line, n, "{code") || starts(line, n, "{noformat");
    if (fence) {
      /* the fence may share its line with code: "{code:sql}select 1{code}" */
      const char *close = memchr(line, '}', n);
      size_t after = close ? (size_t)(close - line) + 1 : n;
      rc = kb_buf_puts(out, "```");
      code = !code;
      line += after;
      n -= after;
      const char *end_fence = NULL;
      for (size_t k = 0; k + 5 <= n && !end_fence; k++)
        if (starts(line + k, n - k, "{code}") || starts(line + k, n - k, "{noformat}")) end_fence = line + k;
      if (rc == KB_OK && n) rc = kb_buf_putc(out, '\n');
      if (rc == KB_OK && end_fence) {
        rc = kb_buf_append(out, line, (size_t)(end_fence - line));
        if (rc == KB_OK) rc = kb_buf_puts(out, "\n```");
        code = false;
      } else if (rc == KB_OK && n) {
        rc = kb_buf_append(out, line, n);
      }
    } else if (code) {
      rc = kb_buf_append(out, line, n);
    } else if (n >= 4 && (line[0] == 'h' || line[0] == 'H') && line[1] >= '1' && line[1] <= '6' &&
               line[2] == '.' && line[3] == ' ') {
      for (int k = 0; k < line[1] - '0' && rc == KB_OK; k++) rc = kb_buf_putc(out, '#');
      if (rc == KB_OK) rc = jira_inline(line + 3, n - 3, out);
    } else if (starts(line, n, "bq. ")) {
      rc = kb_buf_puts(out, "> ");
      if (rc == KB_OK) rc = jira_inline(line + 4, n - 4, out);
    } else {
      rc = jira_inline(line, n, out);
    }
    if (rc == KB_OK && nl) rc = kb_buf_putc(out, '\n');
    i = nl ? e + 1 : len;
  }
  return rc;
}
