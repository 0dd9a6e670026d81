/*
 * The KB 259436 batch's programs played natively: a process that makes one call into the double,
 * as `logoff.exe` makes one RPC and `query session` one enumeration.
 *
 *   one-call DOUBLE query N     puts N user sessions (IDs 10...) on the local server, lists them with
 *                               WTSEnumerateSessionsW and prints "ID user" per session (query session);
 *   one-call DOUBLE logoff ID   puts session ID there and calls WTSLogoffSession on it (logoff ID).
 *
 * The double's state lives in the process, so each process sets up its own session first (a few
 * microseconds); what is measured is a native process's start, the library load and one call.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "double-setup.h"

typedef struct {
  uint32_t SessionId;
  WCHAR16 *pWinStationName;
  int State;
} WTS_SESSION_INFOW;

typedef int (*EnumFn)(void *, uint32_t, uint32_t, WTS_SESSION_INFOW **, uint32_t *);
typedef void (*FreeFn)(void *);
typedef int (*LogoffFn)(void *, uint32_t, int);

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s DOUBLE query N | DOUBLE logoff ID\n", argv[0]);
    return 2;
  }
  void *lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) {
    fprintf(stderr, "%s\n", dlerror());
    return 2;
  }
  ((ResetFn)need(lib, "WtsDouble_Reset"))();
  WCHAR16 server[8], name[32], user[32], domain[8], empty[1] = {0};
  to16(server, "TS01");
  to16(domain, "CORP");
  ((AddServerFn)need(lib, "WtsDouble_AddServer"))(server, 1, 2, 0, 0);
  ((SetLocalFn)need(lib, "WtsDouble_SetLocalServer"))(server);
  PutSessionFn put = (PutSessionFn)need(lib, "WtsDouble_PutSession");
  int query = strcmp(argv[2], "query") == 0;
  long n = strtol(argv[3], NULL, 10);
  for (long i = query ? 0 : n - 10; i < (query ? n : n - 9); i++) {
    char buf[32];
    snprintf(buf, sizeof buf, "RDP-Tcp#%ld", 10 + i);
    to16(name, buf);
    snprintf(buf, sizeof buf, "user%ld", i);
    to16(user, buf);
    put(server, (uint32_t)(10 + i), 0, name, user, domain, empty, 0, NULL, 1);
  }
  if (query) {
    WTS_SESSION_INFOW *list = NULL;
    uint32_t count = 0;
    if (!((EnumFn)need(lib, "WTSEnumerateSessionsW"))(NULL, 0, 1, &list, &count)) return 1;
    for (uint32_t i = 0; i < count; i++) printf("%u\n", list[i].SessionId);
    ((FreeFn)need(lib, "WTSFreeMemory"))(list);
    return 0;
  }
  return ((LogoffFn)need(lib, "WTSLogoffSession"))(NULL, (uint32_t)n, 0) ? 0 : 1;
}
