// Invariant checks. For invariants only: never for input or the environment,
// which get a Status. LINTEL_CHECK aborts in every build; LINTEL_DCHECK only in
// debug builds.
#pragma once

#include <cstdio>
#include <cstdlib>

#define LINTEL_CHECK(cond)                                                              \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

#ifdef NDEBUG
#define LINTEL_DCHECK(cond) \
  do {                      \
  } while (0 && (cond))
#else
#define LINTEL_DCHECK(cond) LINTEL_CHECK(cond)
#endif
