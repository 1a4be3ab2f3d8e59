// jansson for Swift: json_typeof is a macro, re-exported as a function.
#ifndef CJANSSON_SHIM_H
#define CJANSSON_SHIM_H
#include <jansson.h>

static inline json_type CJansson_typeof(const json_t *value) { return json_typeof(value); }

#endif
