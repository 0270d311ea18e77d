/* text.c — UTF-8 helpers, ICU normalisation and the growable buffer. */
#include "kb/text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

/* ------------------------------------------------------------------ buffer */

int kb_buf_reserve(kb_buf *b, size_t extra) {
  if (b->len + extra + 1 <= b->cap) return KB_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra + 1) cap *= 2;
  char *p = realloc(b->data, cap);
  if (!p) return KB_ENOMEM;
  b->data = p;
  b->cap = cap;
  return KB_OK;
}

int kb_buf_append(kb_buf *b, const char *s, size_t len) {
  if (kb_buf_reserve(b, len) != KB_OK) return KB_ENOMEM;
  if (len) memcpy(b->data + b->len, s, len);
  b->len += len;
  b->data[b->len] = '\0';
  return KB_OK;
}

int kb_buf_puts(kb_buf *b, const char *s) { return kb_buf_append(b, s, strlen(s)); }

int kb_buf_putc(kb_buf *b, char c) { return kb_buf_append(b, &c, 1); }

int kb_buf_printf(kb_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return KB_EINVAL;
  if (kb_buf_reserve(b, (size_t)n) != KB_OK) return KB_ENOMEM;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return KB_OK;
}

void kb_buf_reset(kb_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

void kb_buf_free(kb_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

char *kb_buf_detach(kb_buf *b) {
  char *s = b->data;
  if (!s) s = calloc(1, 1);
  b->data = NULL;
  b->len = b->cap = 0;
  return s;
}

int kb_grow(void *arrayp, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return KB_OK;
  size_t n = *cap ? *cap : 16;
  while (n < need) n *= 2;
  void *array;
  memcpy(&array, arrayp, sizeof array);
  void *grown = realloc(array, n * elem);
  if (!grown) return KB_ENOMEM;
  memcpy(arrayp, &grown, sizeof grown);
  *cap = n;
  return KB_OK;
}

int kb_buf_read_file(kb_buf *b, const char *path, size_t max, kb_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return kb_error_set(err, KB_EIO, "%s: 无法读取 (cannot read): %s", path, strerror(errno));
  char chunk[65536];
  size_t n, start = b->len;
  int rc = KB_OK;
  while (rc == KB_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (max && b->len - start + n > max)
      rc = kb_error_set(err, KB_ETOOBIG, "%s: 文件超过 %zu 字节 (file over %zu bytes)", path, max, max);
    else if (kb_buf_append(b, chunk, n) != KB_OK)
      rc = kb_error_set(err, KB_ENOMEM, "%s: out of memory", path);
  }
  if (rc == KB_OK && ferror(f)) rc = kb_error_set(err, KB_EIO, "%s: 读取错误 (read error)", path);
  fclose(f);
  if (rc == KB_OK && !b->data) rc = kb_buf_append(b, "", 0);
  return rc;
}

/* -------------------------------------------------------------------- UTF-8 */

int32_t kb_utf8_next(const char *str, size_t len, size_t *i) {
  const unsigned char *s = (const unsigned char *)str;
  size_t p = *i;
  unsigned char c = s[p];
  int32_t cp;
  size_t n;
  if (c < 0x80) {
    *i = p + 1;
    return c;
  } else if (c >= 0xC2 && c <= 0xDF) {
    n = 1;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 2;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 3;
    cp = c & 0x07;
  } else {
    *i = p + 1;
    return -1;
  }
  if (p + n >= len) {
    *i = p + 1;
    return -1;
  }
  for (size_t k = 1; k <= n; k++) {
    if ((s[p + k] & 0xC0) != 0x80) {
      *i = p + 1;
      return -1;
    }
    cp = (cp << 6) | (s[p + k] & 0x3F);
  }
  /* overlong, surrogate and out-of-range forms */
  if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    *i = p + 1;
    return -1;
  }
  *i = p + n + 1;
  return cp;
}

bool kb_utf8_valid(const char *s, size_t len, size_t *bad_offset) {
  size_t i = 0;
  while (i < len) {
    size_t at = i;
    if ((unsigned char)s[i] < 0x80) {
      i++;
      continue;
    }
    if (kb_utf8_next(s, len, &i) < 0) {
      if (bad_offset) *bad_offset = at;
      return false;
    }
  }
  return true;
}

size_t kb_utf8_drop_invalid(char *s, size_t len) {
  size_t kept = 0;
  for (size_t i = 0; i < len;) {
    size_t at = i;
    if (kb_utf8_next(s, len, &i) < 0) continue;
    memmove(s + kept, s + at, i - at);
    kept += i - at;
  }
  s[kept] = '\0';
  return kept;
}

size_t kb_utf8_put(int32_t cp, char *out) {
  unsigned char *o = (unsigned char *)out;
  if (cp < 0x80) {
    o[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (unsigned char)(0xC0 | (cp >> 6));
    o[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (unsigned char)(0xE0 | (cp >> 12));
    o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (unsigned char)(0xF0 | (cp >> 18));
  o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

size_t kb_text_line_of(const char *s, size_t off) {
  size_t line = 1;
  for (size_t i = 0; i < off; i++)
    if (s[i] == '\n') line++;
  return line;
}

bool kb_is_han(int32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FA1F);
}

const char *kb_list_next_sep(const char *s, size_t *sep_len) {
  static const char *const seps[] = {",", "，", "、", ";", "；"};
  for (const char *p = s; *p; p++)
    for (size_t i = 0; i < sizeof seps / sizeof seps[0]; i++) {
      size_t n = strlen(seps[i]);
      if (strncmp(p, seps[i], n) == 0) {
        *sep_len = n;
        return p;
      }
    }
  *sep_len = 0;
  return s + strlen(s);
}

bool kb_text_is_date(const char *s) {
  if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
  int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || y > 2999 || m < 1 || m > 12 || d < 1) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= days[m - 1] + (m == 2 && leap);
}

uint64_t kb_fnv1a(const void *data, size_t len) {
  const unsigned char *p = data;
  uint64_t h = 14695981039346656037ULL;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

/* ------------------------------------------------------------ normalisation */

int kb_text_fold(const char *s, size_t len, kb_buf *out, kb_error *err) {
  /* Fast path: ASCII needs only lower-casing, and CJK unified ideographs
   * are their own NFKC_Casefold; anything else goes through ICU. */
  size_t i = 0;
  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c < 0xE3 || c > 0xE9 || i + 2 >= len) break; /* lead bytes of U+3000–U+9FFF */
    size_t at = i;
    int32_t cp = kb_utf8_next(s, len, &i);
    if (!((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF))) {
      i = at;
      break;
    }
  }
  if (i == len) {
    if (kb_buf_reserve(out, len) != KB_OK) return kb_error_set(err, KB_ENOMEM, "out of memory");
    for (i = 0; i < len; i++) {
      char c = s[i];
      out->data[out->len++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    out->data[out->len] = '\0';
    return KB_OK;
  }

  UErrorCode st = U_ZERO_ERROR;
  const UNormalizer2 *nfkc = unorm2_getNFKCCasefoldInstance(&st);
  if (U_FAILURE(st)) return kb_error_set(err, KB_EICU, "ICU NFKC_Casefold: %s", u_errorName(st));

  UChar small_src[256], small_dst[512];
  UChar *src = small_src, *dst = small_dst;
  int32_t src_cap = 256, dst_cap = 512, src_len = 0, dst_len = 0;
  int rc = KB_OK;

  if (len + 1 > (size_t)src_cap) {
    src_cap = (int32_t)len + 1; /* UTF-16 never has more units than UTF-8 bytes */
    src = malloc(sizeof(UChar) * (size_t)src_cap);
    if (!src) return kb_error_set(err, KB_ENOMEM, "out of memory");
  }
  u_strFromUTF8(src, src_cap, &src_len, s, (int32_t)len, &st);
  if (U_FAILURE(st)) {
    rc = kb_error_set(err, KB_EENCODING, "invalid UTF-8 (%s)", u_errorName(st));
    goto out;
  }
  dst_len = unorm2_normalize(nfkc, src, src_len, dst, dst_cap, &st);
  if (st == U_BUFFER_OVERFLOW_ERROR) {
    st = U_ZERO_ERROR;
    dst_cap = dst_len + 1;
    dst = malloc(sizeof(UChar) * (size_t)dst_cap);
    if (!dst) {
      rc = kb_error_set(err, KB_ENOMEM, "out of memory");
      goto out;
    }
    dst_len = unorm2_normalize(nfkc, src, src_len, dst, dst_cap, &st);
  }
  if (U_FAILURE(st)) {
    rc = kb_error_set(err, KB_EICU, "ICU normalize: %s", u_errorName(st));
    goto out;
  }
  int32_t need = 0;
  st = U_ZERO_ERROR;
  u_strToUTF8(NULL, 0, &need, dst, dst_len, &st);
  st = U_ZERO_ERROR;
  if (kb_buf_reserve(out, (size_t)need) != KB_OK) {
    rc = kb_error_set(err, KB_ENOMEM, "out of memory");
    goto out;
  }
  u_strToUTF8(out->data + out->len, need + 1, NULL, dst, dst_len, &st);
  if (U_FAILURE(st)) {
    rc = kb_error_set(err, KB_EICU, "ICU to UTF-8: %s", u_errorName(st));
    goto out;
  }
  out->len += (size_t)need;
  out->data[out->len] = '\0';
out:
  if (src != small_src) free(src);
  if (dst != small_dst) free(dst);
  return rc;
}

int kb_synonyms_each(const char *text, size_t len, size_t *groups, kb_synonym_fn fn, void *ctx) {
  const char *end = text + len;
  int rc = 0;
  for (const char *p = text; p < end && !rc;) {
    const char *e = memchr(p, '\n', (size_t)(end - p));
    if (!e) e = end;
    const char *le = e > p && e[-1] == '\r' ? e - 1 : e;
    if (*p != '#' && le > p) {
      size_t group = (*groups)++;
      for (const char *a = p; a < le && !rc;) {
        const char *sep = a;
        while (sep < le && !(sep + 2 < le && sep[0] == ' ' && sep[1] == '=' && sep[2] == ' ')) sep++;
        rc = fn(a, (size_t)(sep - a), group, ctx);
        a = sep < le ? sep + 3 : le;
      }
    }
    p = e + 1;
  }
  return rc;
}

bool kb_is_punct(int32_t c) { return c >= 0 && u_ispunct(c); }
