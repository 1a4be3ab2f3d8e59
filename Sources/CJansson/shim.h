// jansson for Swift: json_typeof, JSON_INDENT and JSON_REAL_PRECISION are macros, re-exported as functions.
#ifndef CJANSSON_SHIM_H
#define CJANSSON_SHIM_H
#include <jansson.h>

static inline json_type CJansson_typeof(const json_t *value) { return json_typeof(value); }
static inline size_t CJansson_indent(size_t spaces) { return JSON_INDENT(spaces); }
static inline size_t CJansson_realPrecision(size_t digits) { return JSON_REAL_PRECISION(digits); }

#endif
