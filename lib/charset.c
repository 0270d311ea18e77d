/* charset.c — an input's charset, judged over all of its lines, and
 * conversion to UTF-8 (ICU). */
#include "kb/charset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicode/ucnv.h>
#include <unicode/ucsdet.h>
#include <unicode/ustring.h>

#define SAMPLE 65536 /* bytes of non-UTF-8 lines the detector looks at */

/* ------------------------------------------------------------------ scan */

struct kb_charset_scan {
  size_t max_line;
  kb_buf line;     /* the line being read, when it spans feeds */
  size_t line_len; /* its length so far, kept or not */
  kb_buf sample;   /* non-UTF-8 lines, for the detector */
  size_t lines, utf8_lines, bad_lines;
  bool failed;     /* out of memory along the way */
};

int kb_charset_scan_new(size_t max_line, kb_charset_scan **out) {
  *out = calloc(1, sizeof **out);
  if (!*out) return KB_ENOMEM;
  (*out)->max_line = max_line ? max_line : 1u << 20;
  return KB_OK;
}

void kb_charset_scan_free(kb_charset_scan *s) {
  if (!s) return;
  kb_buf_free(&s->line);
  kb_buf_free(&s->sample);
  free(s);
}

static bool all_ascii(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)p[i] >= 0x80) return false;
  return true;
}

/* Counts one line; cut says its end was not looked at (too long), so a
 * character cut there is not a fault of the input. */
static void judge(kb_charset_scan *s, const char *p, size_t n, bool cut) {
  s->lines++;
  if (all_ascii(p, n)) return;
  size_t bad = n;
  if (kb_utf8_valid(p, n, &bad) || (cut && bad + 4 > n)) {
    s->utf8_lines++;
    return;
  }
  s->bad_lines++;
  if (s->sample.len < SAMPLE) {
    size_t take = n < SAMPLE - s->sample.len ? n : SAMPLE - s->sample.len;
    if (kb_buf_append(&s->sample, p, take) != KB_OK || kb_buf_putc(&s->sample, '\n') != KB_OK)
      s->failed = true;
  }
}

int kb_charset_scan_feed(kb_charset_scan *s, const char *data, size_t len) {
  size_t pos = 0;
  while (pos < len) {
    const char *start = data + pos;
    const char *nl = memchr(start, '\n', len - pos);
    size_t take = nl ? (size_t)(nl - start) : len - pos;
    if (nl && s->line_len == 0) {
      /* a whole line inside this feed: judged where it is */
      bool cut = take > s->max_line;
      judge(s, start, cut ? s->max_line : take, cut);
    } else {
      size_t room = s->max_line > s->line.len ? s->max_line - s->line.len : 0;
      if (kb_buf_append(&s->line, start, take < room ? take : room) != KB_OK) s->failed = true;
      s->line_len += take;
      if (nl) {
        judge(s, s->line.data ? s->line.data : "", s->line.len, s->line_len > s->line.len);
        kb_buf_reset(&s->line);
        s->line_len = 0;
      }
    }
    pos += take + (nl ? 1 : 0);
  }
  return s->failed ? KB_ENOMEM : KB_OK;
}

static bool splits_in_lines(const char *name) {
  return strncasecmp(name, "UTF-16", 6) != 0 && strncasecmp(name, "UTF-32", 6) != 0;
}

/* ICU's detector over the lines that are not UTF-8. */
static int detect(kb_charset_scan *s, const char *name, kb_charset_choice *out, kb_error *err) {
  UErrorCode st = U_ZERO_ERROR;
  UCharsetDetector *d = ucsdet_open(&st);
  if (U_FAILURE(st)) return kb_error_set(err, KB_EICU, "ucsdet_open: %s", u_errorName(st));
  ucsdet_setText(d, s->sample.data, (int32_t)s->sample.len, &st);
  const UCharsetMatch *m = U_SUCCESS(st) ? ucsdet_detect(d, &st) : NULL;
  const char *guess = m && U_SUCCESS(st) ? ucsdet_getName(m, &st) : NULL;
  int confidence = m && U_SUCCESS(st) ? ucsdet_getConfidence(m, &st) : 0;
  snprintf(out->name, sizeof out->name, "%s", guess && U_SUCCESS(st) ? guess : "?");
  ucsdet_close(d);
  out->origin = KB_CHARSET_GUESSED;
  out->confidence = confidence;
  if (!guess || confidence < KB_CHARSET_MIN_CONFIDENCE)
    return kb_error_set(err, KB_EENCODING,
                        "%s: 无法可靠地判断编码：%zu 行不是 UTF-8，最可能是 %s (可信度 %d%%)；"
                        "请用 --encoding 指定，例如 --encoding gb18030 "
                        "(cannot tell the charset: %zu lines are not UTF-8, best guess %s at "
                        "confidence %d%%; name it with --encoding)",
                        name, s->bad_lines, out->name, confidence, s->bad_lines, out->name,
                        confidence);
  if (!splits_in_lines(out->name))
    return kb_error_set(err, KB_EENCODING,
                        "%s: 输入看起来是 %s，不支持；请先转换为 UTF-8 (the input looks like %s, "
                        "which is not read here: convert it to UTF-8 first, e.g. with iconv)",
                        name, out->name, out->name);
  return KB_OK;
}

int kb_charset_scan_decide(kb_charset_scan *s, const char *name, kb_charset_choice *out,
                           kb_error *err) {
  memset(out, 0, sizeof *out);
  if (s->line_len) {
    judge(s, s->line.data ? s->line.data : "", s->line.len, s->line_len > s->line.len);
    kb_buf_reset(&s->line);
    s->line_len = 0;
  }
  if (s->failed) return kb_error_set(err, KB_ENOMEM, "out of memory");
  out->lines = s->lines;
  out->utf8_lines = s->utf8_lines;
  out->bad_lines = s->bad_lines;
  out->confidence = 100;
  snprintf(out->name, sizeof out->name, "UTF-8");
  if (s->bad_lines == 0) {
    out->origin = KB_CHARSET_UTF8;
    return KB_OK;
  }
  /* valid multi-byte UTF-8 is rare by chance in any other charset: where
   * it is the rule, the lines that break it are damaged records */
  if (s->utf8_lines > s->bad_lines) {
    out->origin = KB_CHARSET_UTF8_MOSTLY;
    return KB_OK;
  }
  return detect(s, name, out, err);
}

void kb_charset_describe(const kb_charset_choice *c, char *out, size_t n) {
  switch (c->origin) {
  case KB_CHARSET_GIVEN:
    snprintf(out, n, "%s (指定 given)", c->name);
    break;
  case KB_CHARSET_UTF8:
    snprintf(out, n, "%s (自动检测 detected)", c->name);
    break;
  case KB_CHARSET_UTF8_MOSTLY:
    snprintf(out, n, "%s (自动检测 detected; %zu 行不是 UTF-8，其记录被拒绝 lines not UTF-8, "
             "their records rejected)", c->name, c->bad_lines);
    break;
  case KB_CHARSET_GUESSED:
    snprintf(out, n, "%s (猜测 guessed, 可信度 confidence %d%%; 已存储的记录不会被覆盖 "
             "stored records are not replaced)", c->name, c->confidence);
    break;
  }
}

/* ------------------------------------------------------------- convert */

struct kb_charset_conv {
  UConverter *conv; /* NULL = UTF-8 */
};

static bool is_utf8_name(const char *name) {
  return !strcasecmp(name, "utf-8") || !strcasecmp(name, "utf8");
}

int kb_charset_conv_new(const char *name, kb_charset_conv **out, kb_error *err) {
  *out = calloc(1, sizeof **out);
  if (!*out) return kb_error_set(err, KB_ENOMEM, "out of memory");
  if (is_utf8_name(name)) return KB_OK;
  UErrorCode st = U_ZERO_ERROR;
  (*out)->conv = ucnv_open(name, &st);
  if (U_SUCCESS(st))
    /* an invalid byte sequence is an error, never a silent replacement */
    ucnv_setToUCallBack((*out)->conv, UCNV_TO_U_CALLBACK_STOP, NULL, NULL, NULL, &st);
  if (U_FAILURE(st)) {
    kb_charset_conv_free(*out);
    *out = NULL;
    return kb_error_set(err, KB_EINVAL, "不支持的编码 (unknown encoding) '%s'", name);
  }
  return KB_OK;
}

void kb_charset_conv_free(kb_charset_conv *c) {
  if (!c) return;
  if (c->conv) ucnv_close(c->conv);
  free(c);
}

bool kb_charset_conv_to_utf8(kb_charset_conv *c, const char *s, size_t len, kb_buf *out) {
  kb_buf_reset(out);
  if (len > INT32_MAX / 2) return false;
  if (!c->conv) return kb_buf_append(out, s, len) == KB_OK && kb_utf8_valid(s, len, NULL);
  UErrorCode st = U_ZERO_ERROR;
  ucnv_resetToUnicode(c->conv);
  int32_t need = ucnv_toUChars(c->conv, NULL, 0, s, (int32_t)len, &st);
  if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st)) return false;
  UChar *u = malloc(sizeof(UChar) * ((size_t)need + 1));
  if (!u) return false;
  st = U_ZERO_ERROR;
  ucnv_resetToUnicode(c->conv);
  ucnv_toUChars(c->conv, u, need + 1, s, (int32_t)len, &st);
  bool ok = U_SUCCESS(st);
  if (ok) {
    int32_t n8 = 0;
    st = U_ZERO_ERROR;
    u_strToUTF8(NULL, 0, &n8, u, need, &st);
    st = U_ZERO_ERROR;
    ok = kb_buf_reserve(out, (size_t)n8 + 1) == KB_OK;
    if (ok) {
      u_strToUTF8(out->data, n8 + 1, NULL, u, need, &st);
      out->len = (size_t)n8;
      ok = U_SUCCESS(st);
    }
  }
  free(u);
  return ok;
}
