/* error.h — status codes and the kb_error every fallible call fills.
 *
 * Every fallible function in libkb returns KB_OK (0) or a negative KB_E...
 * code, and takes an optional `kb_error *err` (may be NULL) that receives the
 * code and a message a user can act on: which file, which line, which field,
 * why.
 */
#ifndef KB_ERROR_H
#define KB_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One list makes both the enum and kb_strerror(). */
#define KB_ERRNO_MAP(X)                                             \
  X(OK, 0, "成功 (success)")                                         \
  X(EINVAL, -1, "参数无效 (invalid argument)")                       \
  X(ENOMEM, -2, "内存不足 (out of memory)")                          \
  X(EIO, -3, "读写错误 (I/O error)")                                 \
  X(ENOENT, -4, "不存在 (not found)")                                \
  X(EPARSE, -5, "格式错误 (malformed input)")                        \
  X(EENCODING, -6, "编码无效 (invalid encoding)")                    \
  X(EINDEX, -7, "索引错误 (index error)")                            \
  X(ELOCKED, -8, "索引被占用 (index locked by another writer)")       \
  X(ETOOBIG, -9, "超出大小限制 (too large)")                         \
  X(EICU, -10, "ICU 错误 (ICU error)")                               \
  X(EMODIFIED, -11, "索引已被修改 (index modified, reopen)")         \
  X(EEXIST, -12, "已存在 (already exists)")                          \
  X(EINTERNAL, -13, "内部错误 (internal error)")                     \
  X(ENOSPC, -14, "磁盘已满 (disk full)")

typedef enum {
#define KB_ERR_ENUM(name, code, text) KB_##name = code,
  KB_ERRNO_MAP(KB_ERR_ENUM)
#undef KB_ERR_ENUM
} kb_status;

#define KB_ERROR_MSG_MAX 512

typedef struct kb_error {
  int code;                       /* a kb_status */
  char message[KB_ERROR_MSG_MAX]; /* a sentence for the user, UTF-8 */
} kb_error;

/* The fixed description of a status code. Never NULL; static storage. */
const char *kb_strerror(int code);

/* Fills err (if not NULL) with code and a printf-style message, and returns
 * code, so that callers can write `return kb_error_set(err, KB_EIO, ...)`. */
int kb_error_set(kb_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes err's message with a printf-style context ("articles/x.md: ").
 * Returns err->code (or KB_OK if err is NULL). */
int kb_error_prefix(kb_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resets err to KB_OK and an empty message. err may be NULL. */
void kb_error_clear(kb_error *err);

#ifdef __cplusplus
}
#endif

#endif
