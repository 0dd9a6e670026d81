/*
 * The physical limit for listing sessions: the same double's WTSEnumerateSessionsExW called from
 * C, every field of every element walked, the array freed with WTSFreeMemoryExW. Prints the
 * median time per call in microseconds as JSON.
 *
 *   cc -O2 -o enumerate bench/enumerate.c -ldl && ./enumerate native/build/Release/wtsapi32_double.node 10000 50
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <time.h>

#include "double-setup.h"


/* A UTF-16 string as UTF-8 in a buffer of its own ("" for NULL), as a binding hands it to its caller. */
static char *utf8(const WCHAR16 *s) {
  size_t n = 0;
  if (s)
    for (const WCHAR16 *p = s; *p; p++) n += *p < 0x80 ? 1 : *p < 0x800 ? 2 : 3;
  char *out = malloc(n + 1), *o = out;
  if (s)
    for (const WCHAR16 *p = s; *p; p++) {
      unsigned c = *p;
      if (c >= 0xD800 && c <= 0xDBFF && p[1] >= 0xDC00 && p[1] <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (p[1] - 0xDC00);
        p++;
        *o++ = (char)(0xF0 | (c >> 18)), *o++ = (char)(0x80 | ((c >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((c >> 6) & 0x3F)), *o++ = (char)(0x80 | (c & 0x3F));
        continue;
      }
      if (c < 0x80) *o++ = (char)c;
      else if (c < 0x800) *o++ = (char)(0xC0 | (c >> 6)), *o++ = (char)(0x80 | (c & 0x3F));
      else *o++ = (char)(0xE0 | (c >> 12)), *o++ = (char)(0x80 | ((c >> 6) & 0x3F)), *o++ = (char)(0x80 | (c & 0x3F));
    }
  *o = 0;
  return out;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s DOUBLE SESSIONS ITERATIONS\n", argv[0]);
    return 2;
  }
  void *lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) {
    fprintf(stderr, "%s\n", dlerror());
    return 2;
  }
  int sessions = atoi(argv[2]);
  int iterations = atoi(argv[3]);
  EnumExFn enumerate = (EnumExFn)need(lib, "WTSEnumerateSessionsExW");
  FreeExFn freeEx = (FreeExFn)need(lib, "WTSFreeMemoryExW");
  ((ResetFn)need(lib, "WtsDouble_Reset"))();
  WCHAR16 server[16], name[32], user[32], domain[16], client[32], empty[1] = {0};
  to16(server, "BENCH");
  to16(domain, "CORP");
  ((AddServerFn)need(lib, "WtsDouble_AddServer"))(server, 0xFFFFFFFFu, 1, 0, 0);
  ((SetLocalFn)need(lib, "WtsDouble_SetLocalServer"))(server);
  PutSessionFn put = (PutSessionFn)need(lib, "WtsDouble_PutSession");
  for (int i = 1; i <= sessions; i++) {
    char buf[32];
    snprintf(buf, sizeof buf, "RDP-Tcp#%d", i);
    to16(name, buf);
    snprintf(buf, sizeof buf, "user%05d", i);
    to16(user, buf);
    snprintf(buf, sizeof buf, "PC-%d", i);
    to16(client, buf);
    put(server, (uint32_t)i, i % 2 ? 0 : 4, name, user, domain, client, 0, NULL, 1);
  }
  (void)empty;

  /*
   * Three ways, interleaved call by call so that they share the machine's state:
   *   call: WTSEnumerateSessionsExW + WTSFreeMemoryExW only (the double's own cost);
   *   walk: the same, every field of every element read (the physical limit of reading it);
   *   build: what a caller of the API gets: per session a struct with its numbers and every
   *          string converted to UTF-8 in memory of its own, the whole list then freed.
   */
  typedef struct {
    uint32_t id, state;
    char *name, *host, *user, *domain, *farm;
  } Session;
  double *times[3];
  for (int m = 0; m < 3; m++) times[m] = malloc(sizeof(double) * (size_t)iterations);
  unsigned long checksum = 0;
  for (int it = -3; it < iterations; it++) { /* three warm-up rounds */
    for (int mode = 0; mode < 3; mode++) {
      struct timespec t0, t1;
      clock_gettime(CLOCK_MONOTONIC, &t0);
      uint32_t level = 1, count = 0;
      WTS_SESSION_INFO_1W *array = NULL;
      if (!enumerate(NULL, &level, 0, &array, &count)) return 1;
      if (mode == 1) {
        for (uint32_t i = 0; i < count; i++) {
          WTS_SESSION_INFO_1W *e = &array[i];
          checksum += e->ExecEnvId + (unsigned)e->State + e->SessionId;
          WCHAR16 *fields[5] = { e->pSessionName, e->pHostName, e->pUserName, e->pDomainName, e->pFarmName };
          for (int f = 0; f < 5; f++)
            if (fields[f])
              for (WCHAR16 *p = fields[f]; *p; p++) checksum += *p;
        }
      } else if (mode == 2) {
        Session *list = malloc(sizeof(Session) * (count ? count : 1));
        for (uint32_t i = 0; i < count; i++) {
          WTS_SESSION_INFO_1W *e = &array[i];
          list[i].id = e->SessionId;
          list[i].state = (uint32_t)e->State;
          list[i].name = utf8(e->pSessionName);
          list[i].host = utf8(e->pHostName);
          list[i].user = utf8(e->pUserName);
          list[i].domain = utf8(e->pDomainName);
          list[i].farm = utf8(e->pFarmName);
        }
        for (uint32_t i = 0; i < count; i++) {
          checksum += list[i].id + (unsigned char)list[i].user[0];
          free(list[i].name), free(list[i].host), free(list[i].user), free(list[i].domain), free(list[i].farm);
        }
        free(list);
      }
      freeEx(2, array, count);
      clock_gettime(CLOCK_MONOTONIC, &t1);
      if (it >= 0) times[mode][it] = (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
    }
  }
  for (int m = 0; m < 3; m++) qsort(times[m], (size_t)iterations, sizeof(double), compare);
  printf("{\"sessions\":%d,\"iterations\":%d,\"callUs\":%.1f,\"medianUs\":%.1f,\"buildUs\":%.1f,\"checksum\":%lu}\n", sessions, iterations,
         times[0][iterations / 2], times[1][iterations / 2], times[2][iterations / 2], checksum);
  for (int m = 0; m < 3; m++) free(times[m]);
  return 0;
}
