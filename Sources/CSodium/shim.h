// libsodium for Swift: the header imports as is; this shim exists so the library sits behind its own module.
#ifndef CSODIUM_SHIM_H
#define CSODIUM_SHIM_H
#include <sodium.h>
#endif
