/* error.c — status codes and error messages. */
#include "kb/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *kb_strerror(int code) {
  switch (code) {
#define KB_ERR_CASE(name, value, text) \
  case value:                          \
    return text;
    KB_ERRNO_MAP(KB_ERR_CASE)
#undef KB_ERR_CASE
  }
  return "未知错误 (unknown error)";
}

int kb_error_set(kb_error *err, int code, const char *fmt, ...) {
  if (!err) return code;
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return code;
}

int kb_error_prefix(kb_error *err, const char *fmt, ...) {
  if (!err) return KB_OK;
  char prefix[KB_ERROR_MSG_MAX];
  char old[KB_ERROR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, err->message, sizeof old);
  size_t pl = strnlen(prefix, sizeof prefix - 1);
  size_t ol = strnlen(old, sizeof old - 1);
  if (pl + ol >= sizeof err->message) ol = sizeof err->message - 1 - pl;
  memcpy(err->message, prefix, pl);
  memcpy(err->message + pl, old, ol);
  err->message[pl + ol] = '\0';
  return err->code;
}

void kb_error_clear(kb_error *err) {
  if (!err) return;
  err->code = KB_OK;
  err->message[0] = '\0';
}
