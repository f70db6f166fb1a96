// Clang thread-safety annotations (checked by a clang -Wthread-safety build);
// no-ops under GCC. Guarded fields carry LINTEL_GUARDED_BY(mu_).
#pragma once

#if defined(__clang__)
#define LINTEL_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define LINTEL_THREAD_ANNOTATION_(x)
#endif

#define LINTEL_GUARDED_BY(x) LINTEL_THREAD_ANNOTATION_(guarded_by(x))
#define LINTEL_PT_GUARDED_BY(x) LINTEL_THREAD_ANNOTATION_(pt_guarded_by(x))
#define LINTEL_REQUIRES(...) LINTEL_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
#define LINTEL_EXCLUDES(...) LINTEL_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
