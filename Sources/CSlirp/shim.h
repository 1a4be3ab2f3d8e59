// libslirp for Swift. Its pkg-config file requires glib's development files only for the
// library's own build; the public header needs none of glib, so the module names it directly.
#ifndef CSLIRP_SHIM_H
#define CSLIRP_SHIM_H
#include <slirp/libslirp.h>
#endif
