/*
 * What bench/enumerate.c and bench/one-call.c share: loading the double's functions and its set-up
 * calls (WtsDouble_*, native/src/wtsapi32_double.c).
 */
#ifndef BENCH_DOUBLE_SETUP_H
#define BENCH_DOUBLE_SETUP_H
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef uint16_t WCHAR16;

typedef void (*ResetFn)(void);
typedef int (*AddServerFn)(const WCHAR16 *, uint32_t, uint32_t, uint32_t, int);
typedef int (*SetLocalFn)(const WCHAR16 *);
typedef int (*PutSessionFn)(const WCHAR16 *, uint32_t, int, const WCHAR16 *, const WCHAR16 *, const WCHAR16 *,
                            const WCHAR16 *, uint32_t, const uint8_t *, uint32_t);

/* WTSEnumerateSessionsExW's level 1, and freeing it with WTSFreeMemoryExW. */
typedef struct {
  uint32_t ExecEnvId;
  int State;
  uint32_t SessionId;
  WCHAR16 *pSessionName, *pHostName, *pUserName, *pDomainName, *pFarmName;
} WTS_SESSION_INFO_1W;
typedef int (*EnumExFn)(void *, uint32_t *, uint32_t, WTS_SESSION_INFO_1W **, uint32_t *);
typedef int (*FreeExFn)(int, void *, uint32_t);

/* ASCII to UTF-16 (the test data is ASCII). */
static void to16(WCHAR16 *out, const char *in) {
  while ((*out++ = (unsigned char)*in++)) {}
}

/* A function of the double, or exit 2 naming it. */
static __attribute__((unused)) void *need(void *lib, const char *name) {
  void *fn = dlsym(lib, name);
  if (!fn) {
    fprintf(stderr, "missing %s\n", name);
    exit(2);
  }
  return fn;
}
#endif
