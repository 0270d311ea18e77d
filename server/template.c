/* template.c — {{name}} / {{{name}}} substitution over built-in templates. */
#include "template.h"

#include <string.h>

#include "kb/snippet.h"

#define TEMPLATE(name)                                           \
  extern const char _binary_##name##_html_start[];               \
  extern const char _binary_##name##_html_end[];
TEMPLATE(layout)
TEMPLATE(home)
TEMPLATE(results)
TEMPLATE(hit)
TEMPLATE(doc)

static void template_text(kb_tpl_name t, const char **s, size_t *len) {
#define CASE(e, name)                                                  \
  case e:                                                              \
    *s = _binary_##name##_html_start;                                  \
    *len = (size_t)(_binary_##name##_html_end - _binary_##name##_html_start); \
    return;
  switch (t) {
    CASE(KB_TPL_LAYOUT, layout)
    CASE(KB_TPL_HOME, home)
    CASE(KB_TPL_RESULTS, results)
    CASE(KB_TPL_HIT, hit)
    CASE(KB_TPL_DOC, doc)
  }
#undef CASE
  *s = "";
  *len = 0;
}

static const char *lookup(const kb_tpl_var *vars, size_t n, const char *name, size_t len) {
  for (size_t i = 0; i < n; i++)
    if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0)
      return vars[i].value ? vars[i].value : "";
  return "";
}

int kb_tpl_render(kb_tpl_name t, const kb_tpl_var *vars, size_t n, kb_buf *out) {
  const char *s;
  size_t len;
  template_text(t, &s, &len);
  size_t i = 0;
  int rc = KB_OK;
  while (i < len && rc == KB_OK) {
    const char *open = memmem(s + i, len - i, "{{", 2);
    if (!open) {
      rc = kb_buf_append(out, s + i, len - i);
      break;
    }
    rc = kb_buf_append(out, s + i, (size_t)(open - (s + i)));
    bool raw = open + 2 < s + len && open[2] == '{';
    const char *name = open + (raw ? 3 : 2);
    const char *close = memmem(name, (size_t)(s + len - name), raw ? "}}}" : "}}", raw ? 3 : 2);
    if (!close) {
      rc = kb_buf_append(out, open, (size_t)(s + len - open));
      break;
    }
    const char *v = lookup(vars, n, name, (size_t)(close - name));
    if (raw) rc = kb_buf_puts(out, v);
    else rc = kb_html_escape(v, strlen(v), out);
    i = (size_t)(close - s) + (raw ? 3 : 2);
  }
  return rc;
}
