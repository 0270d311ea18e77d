/* template.h — the HTML templates of server/templates/, built into kb-serve.
 *
 * `{{name}}` is replaced by the variable's value, HTML-escaped; `{{{name}}}`
 * by its value as is, for HTML that is safe by construction (a rendered
 * template, snippets with <mark>, cmark's safe output). An unknown name is
 * empty. */
#ifndef KB_TEMPLATE_H
#define KB_TEMPLATE_H

#include <stddef.h>

#include "kb/text.h"

typedef struct kb_tpl_var {
  const char *name;
  const char *value; /* NULL = empty */
} kb_tpl_var;

typedef enum kb_tpl_name { KB_TPL_LAYOUT, KB_TPL_HOME, KB_TPL_RESULTS, KB_TPL_HIT, KB_TPL_DOC } kb_tpl_name;

/* Appends the template rendered with vars[0..n) to out. */
int kb_tpl_render(kb_tpl_name t, const kb_tpl_var *vars, size_t n, kb_buf *out);

#endif
