/*
 * The fan-out's C floor: the calls a farm-wide dry run makes, made by plain C threads in the same
 * process, for the `fs.readFile` comparison. Built as a shared library (bench/build.js) and called
 * through koffi from bench/farm.ts while the fs loop runs: the CPU and the context switches of the
 * same blocking calls at the same width, without the library's JavaScript, its lanes' hand-back or
 * koffi, so what is left of the fs loop's speed beside it is what the machine allows for that work.
 *
 *   pool_run(double, names, servers, width, enumerations): `width` threads take the servers in turn
 *   (names: NUL-separated UTF-8, the double's own names); on each, WTSOpenServerExW, then
 *   WTSEnumerateSessionsExW at level 1 `enumerations` times (each array freed with
 *   WTSFreeMemoryExW), then WTSQuerySessionInformationW(WTSSessionInfo) on every session of the
 *   last listing that has a user (each buffer freed with WTSFreeMemory), then WTSCloseServer. A
 *   server whose open or listing fails is closed and left. Returns the calls made that the double
 *   delays (open, listing, query), or -1 when the double or a thread could not be had.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "double-setup.h"

typedef void *(*OpenFn)(const WCHAR16 *);
typedef void (*CloseFn)(void *);
typedef int (*QueryFn)(void *, uint32_t, int, void **, uint32_t *);
typedef void (*FreeFn)(void *);

#define WTS_TYPE_SESSION_INFO_LEVEL1 2 /* WTS_TYPE_CLASS: WTSTypeSessionInfoLevel1 */
#define WTS_SESSION_INFO_CLASS 24      /* WTS_INFO_CLASS: WTSSessionInfo */

typedef struct {
  OpenFn open;
  CloseFn close;
  EnumExFn enumerate;
  FreeExFn freeEx;
  QueryFn query;
  FreeFn freeMemory;
  WCHAR16 **names;
  int servers;
  int enumerations;
  atomic_int next;
  atomic_long calls;
} Pool;

static void server(Pool *p, const WCHAR16 *name) {
  void *h = p->open(name);
  atomic_fetch_add(&p->calls, 1);
  if (!h) return;
  WTS_SESSION_INFO_1W *list = NULL;
  uint32_t count = 0;
  for (int e = 0; e < p->enumerations; e++) {
    if (list) p->freeEx(WTS_TYPE_SESSION_INFO_LEVEL1, list, count);
    list = NULL;
    count = 0;
    uint32_t level = 1;
    int ok = p->enumerate(h, &level, 0, &list, &count);
    atomic_fetch_add(&p->calls, 1);
    if (!ok) {
      list = NULL;
      break;
    }
  }
  for (uint32_t i = 0; list && i < count; i++) {
    if (!list[i].pUserName || !list[i].pUserName[0]) continue;
    void *buffer = NULL;
    uint32_t bytes = 0;
    if (p->query(h, list[i].SessionId, WTS_SESSION_INFO_CLASS, &buffer, &bytes) && buffer) p->freeMemory(buffer);
    atomic_fetch_add(&p->calls, 1);
  }
  if (list) p->freeEx(WTS_TYPE_SESSION_INFO_LEVEL1, list, count);
  p->close(h);
}

static void *worker(void *arg) {
  Pool *p = (Pool *)arg;
  for (;;) {
    int i = atomic_fetch_add(&p->next, 1);
    if (i >= p->servers) return NULL;
    server(p, p->names[i]);
  }
}

long pool_run(const char *double_path, const char *names, int servers, int width, int enumerations) {
  void *lib = dlopen(double_path, RTLD_NOW | RTLD_NOLOAD); /* the copy koffi loaded: the same farm */
  if (!lib || servers < 1 || width < 1) return -1;
  Pool p;
  memset(&p, 0, sizeof p);
  p.open = (OpenFn)dlsym(lib, "WTSOpenServerExW");
  p.close = (CloseFn)dlsym(lib, "WTSCloseServer");
  p.enumerate = (EnumExFn)dlsym(lib, "WTSEnumerateSessionsExW");
  p.freeEx = (FreeExFn)dlsym(lib, "WTSFreeMemoryExW");
  p.query = (QueryFn)dlsym(lib, "WTSQuerySessionInformationW");
  p.freeMemory = (FreeFn)dlsym(lib, "WTSFreeMemory");
  if (!p.open || !p.close || !p.enumerate || !p.freeEx || !p.query || !p.freeMemory) return -1;
  p.servers = servers;
  p.enumerations = enumerations;
  p.names = calloc((size_t)servers, sizeof *p.names);
  const char *at = names;
  for (int i = 0; i < servers; i++) {
    size_t n = strlen(at);
    p.names[i] = calloc(n + 1, sizeof(WCHAR16));
    to16(p.names[i], at);
    at += n + 1;
  }
  pthread_t *threads = calloc((size_t)width, sizeof *threads);
  int started = 0;
  for (; started < width; started++)
    if (pthread_create(&threads[started], NULL, worker, &p)) break;
  for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);
  for (int i = 0; i < servers; i++) free(p.names[i]);
  free(p.names);
  free(threads);
  dlclose(lib);
  return started == width ? atomic_load(&p.calls) : -1;
}
