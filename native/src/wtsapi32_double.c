/*
 * wtsapi32_double: a test double of wtsapi32.dll (and of the few kernel32 calls wts-session
 * makes) that exports the real symbol names and signatures, so that the koffi backend runs for
 * real on Linux, and, built as a DLL with mingw-w64, under Wine.
 *
 * Behaviour follows the mock (src/backends/mock) and Win32: handles that fail with 1722 on first
 * use for unreachable servers, 7022 for missing sessions, a closing phase after logoff (7007 on a
 * second logoff), per-call faults and latency. Every buffer it hands out is tracked: tests assert
 * that the binding frees each one, with the right function, and closes every handle.
 *
 * The last error is per thread, like Windows: SetLastError on Windows, errno elsewhere (koffi
 * carries errno from an async call's worker thread to its completion callback, as it carries
 * GetLastError on Windows).
 *
 * One lock guards all state (the double is called from several threads at once); WTSWaitSystemEvent
 * blocks on one condition variable paired with it (SRW lock + CONDITION_VARIABLE on Windows, a
 * pthread mutex + pthread_cond_t elsewhere).
 */
#include "wts_types.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
  #include <process.h>
  static SRWLOCK g_lock = SRWLOCK_INIT;
  static CONDITION_VARIABLE g_wake = CONDITION_VARIABLE_INIT;
  #define LOCK() AcquireSRWLockExclusive(&g_lock)
  #define UNLOCK() ReleaseSRWLockExclusive(&g_lock)
  #define WAIT_WAKE() SleepConditionVariableSRW(&g_wake, &g_lock, INFINITE, 0)
  #define WAKE_ALL() WakeAllConditionVariable(&g_wake)
  static void sleep_ms(DWORD ms) { Sleep(ms); }
  static void set_last_error(DWORD code) { SetLastError(code); }
  static DWORD current_pid(void) { return GetCurrentProcessId(); }
#else
  #include <pthread.h>
  #include <time.h>
  #include <unistd.h>
  static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
  static pthread_cond_t g_wake = PTHREAD_COND_INITIALIZER;
  #define LOCK() pthread_mutex_lock(&g_lock)
  #define UNLOCK() pthread_mutex_unlock(&g_lock)
  #define WAIT_WAKE() pthread_cond_wait(&g_wake, &g_lock)
  #define WAKE_ALL() pthread_cond_broadcast(&g_wake)
  static void sleep_ms(DWORD ms) {
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
  }
  static void set_last_error(DWORD code) { errno = (int)code; }
  static DWORD current_pid(void) { return (DWORD)getpid(); }
#endif

#define ANY_SESSION_KEY 0xFFFFFFFFu
#define NO_CONSOLE 0xFFFFFFFFu

/* ---- UTF-16 helpers ------------------------------------------------------------------------ */

static size_t len16(const WCHAR16 *s) {
  size_t n = 0;
  if (s) while (s[n]) n++;
  return n;
}

static WCHAR16 *dup16(const WCHAR16 *s) {
  size_t n = len16(s);
  WCHAR16 *copy = (WCHAR16 *)malloc((n + 1) * sizeof(WCHAR16));
  if (!copy) return NULL;
  if (n) memcpy(copy, s, n * sizeof(WCHAR16));
  copy[n] = 0;
  return copy;
}

static WCHAR16 fold16(WCHAR16 c) { return (c >= 'a' && c <= 'z') ? (WCHAR16)(c - 32) : c; }

static int equal_nocase16(const WCHAR16 *a, const WCHAR16 *b) {
  if (!a || !b) return a == b;
  for (; *a && *b; a++, b++) if (fold16(*a) != fold16(*b)) return 0;
  return *a == *b;
}

/* ---- the farm ------------------------------------------------------------------------------ */

/* A process: its owner's SID (sid_len 0: pUserSid NULL) and its WTS_PROCESS_INFO_EXW counters. */
typedef struct Process {
  DWORD pid;
  WCHAR16 *name;
  DWORD sid_len;
  BYTE sid[DBL_MAX_SID_SIZE];
  DWORD threads, handles, pagefile, peak_pagefile, working_set, peak_working_set;
  long long user_time, kernel_time;
} Process;

/* An account LookupAccountSidW resolves on a server. */
typedef struct Account { DWORD sid_len; BYTE sid[DBL_MAX_SID_SIZE]; WCHAR16 *name, *domain; int use; } Account;

typedef struct Session {
  DWORD id;
  int state;
  WCHAR16 *name, *user, *domain, *client_name;
  DWORD address_family;
  BYTE address[20];
  DWORD message_response;
  long long logon_time, connect_time, disconnect_time, last_input_time; /* FILETIME ticks */
  int closing; /* -1: not closing; else polls left that still see it */
  LONG lock_flags; /* SessionFlags as Windows 8 and later report it; swapped on a 6.1 server */
  Process *processes;
  size_t process_count;
} Session;

typedef struct Fault { int api; DWORD key; DWORD code; } Fault;

typedef struct Server {
  WCHAR16 *name;
  WCHAR16 **aliases; /* other names WTSOpenServerW resolves to this server (DNS names, addresses) */
  size_t alias_count;
  DWORD console_id, current_id;
  DWORD version_major, version_minor; /* NetServerGetInfo level 101 (default 10.0) */
  DWORD latency_ms[DBL_API_COUNT];
  int unreachable;
  Session *sessions;
  size_t session_count, session_cap;
  Fault *faults;
  size_t fault_count, fault_cap;
  Account *accounts;
  size_t account_count;
} Server;

/* busy: calls on the handle still inside the double (their latency, their work, a pending wait). */
typedef struct Handle { uintptr_t value; int server; /* -1: unknown name */ WCHAR16 *name; int open; long busy; } Handle;

/* A buffer handed out by the double; `kind` says which free function it needs. */
enum AllocKind {
  ALLOC_PLAIN = 1, ALLOC_LEVEL1 = 2, ALLOC_SESSIONINFOW = 3, ALLOC_PROCESSES = 4,
  ALLOC_PROCESSES_EX0 = 5, /* WTSEnumerateProcessesExW level 0: WTSFreeMemoryExW(WTSTypeProcessInfoLevel0) */
  ALLOC_PROCESSES_EX1 = 6, /* level 1: WTSFreeMemoryExW(WTSTypeProcessInfoLevel1) */
  ALLOC_NETAPI = 7         /* NetServerGetInfo: NetApiBufferFree's */
};
typedef struct Alloc { void *ptr; int kind; ULONG count; void **children; size_t child_count; } Alloc;

static Server *g_servers;
static size_t g_server_count, g_server_cap;
static int g_local = -1;
/* The local machine's DNS host name and DNS domain (GetComputerNameExW); NULL: host = the local
   server's name, no domain. */
static WCHAR16 *g_dns_host, *g_dns_domain;
static int g_closing_polls = 1;
static Handle *g_handles;
static size_t g_handle_count, g_handle_cap;
static uintptr_t g_next_handle = 0x1000;
static Alloc *g_allocs;
static size_t g_alloc_count, g_alloc_cap;
static long g_bad_frees;
/* WTSCloseServer calls made while another call on the same handle was still inside the double: a
   misuse the library must never commit (Win32 leaves it undefined); counted like a leak. */
static long g_closed_under_call;
static long g_calls[DBL_API_COUNT];

/*
 * A thread blocked in WTSWaitSystemEvent: on its own stack, linked here while it waits. It waits
 * on the handle it was given (`handle`, 0 for WTS_CURRENT_SERVER_HANDLE) and so on that handle's
 * server. Once `done`, nothing changes it again: it returns TRUE with `flags` (error 0) or FALSE
 * with `error`.
 */
typedef struct Waiter {
  struct Waiter *next;
  uintptr_t handle;
  int server;
  DWORD mask;
  DWORD flags;
  DWORD error;
  int done;
} Waiter;
static Waiter *g_waiters;

/* Under the lock: events of the kinds in `flags` happened on server `server`. Each pending wait on
   that server (through any handle) whose mask has one of them returns, with those kinds. */
static void raise_events(int server, DWORD flags) {
  int woke = 0;
  flags &= DBL_WTS_EVENT_ALL;
  for (Waiter *w = g_waiters; w; w = w->next) {
    if (w->done || w->server != server || !(w->mask & flags)) continue;
    w->flags = w->mask & flags;
    w->error = 0;
    w->done = 1;
    woke = 1;
  }
  if (woke) WAKE_ALL();
}

/* Under the lock: pending waits on a handle (all_handles: on any) end, failing with `error`
   (0: returning TRUE with WTS_EVENT_NONE, as a flush makes them). */
static void end_waits(int all_handles, uintptr_t handle, DWORD error) {
  int woke = 0;
  for (Waiter *w = g_waiters; w; w = w->next) {
    if (w->done || (!all_handles && w->handle != handle)) continue;
    w->flags = DBL_WTS_EVENT_NONE;
    w->error = error;
    w->done = 1;
    woke = 1;
  }
  if (woke) WAKE_ALL();
}

/* Under the lock: pending waits on a server (any handle) fail with `error`. */
static void fail_server_waits(int server, DWORD error) {
  int woke = 0;
  for (Waiter *w = g_waiters; w; w = w->next) {
    if (w->done || w->server != server) continue;
    w->flags = DBL_WTS_EVENT_NONE;
    w->error = error;
    w->done = 1;
    woke = 1;
  }
  if (woke) WAKE_ALL();
}

static int grow(void **array, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return 1;
  size_t next = *cap ? *cap * 2 : 8;
  while (next < need) next *= 2;
  void *moved = realloc(*array, next * size);
  if (!moved) return 0;
  *array = moved;
  *cap = next;
  return 1;
}

static void free_session(Session *s) {
  free(s->name); free(s->user); free(s->domain); free(s->client_name);
  for (size_t i = 0; i < s->process_count; i++) free(s->processes[i].name);
  free(s->processes);
}

static int find_server(const WCHAR16 *name) {
  for (size_t i = 0; i < g_server_count; i++) {
    if (equal_nocase16(g_servers[i].name, name)) return (int)i;
    for (size_t j = 0; j < g_servers[i].alias_count; j++) if (equal_nocase16(g_servers[i].aliases[j], name)) return (int)i;
  }
  return -1;
}

static Session *find_session(Server *server, DWORD id) {
  for (size_t i = 0; i < server->session_count; i++) if (server->sessions[i].id == id) return &server->sessions[i];
  return NULL;
}

/* A session goes: WTS_EVENT_DELETE, and WTS_EVENT_LOGOFF when it had a user, on its server. */
static void remove_session(Server *server, Session *s) {
  size_t i = (size_t)(s - server->sessions);
  DWORD events = DBL_WTS_EVENT_DELETE | (s->user && s->user[0] ? DBL_WTS_EVENT_LOGOFF : 0);
  free_session(s);
  memmove(&server->sessions[i], &server->sessions[i + 1], (server->session_count - i - 1) * sizeof(Session));
  server->session_count--;
  raise_events((int)(server - g_servers), events);
}

/* ---- tracked allocations ------------------------------------------------------------------- */

static Alloc *track(void *ptr, int kind, ULONG count) {
  if (!grow((void **)&g_allocs, &g_alloc_cap, g_alloc_count + 1, sizeof(Alloc))) return NULL;
  Alloc *a = &g_allocs[g_alloc_count++];
  a->ptr = ptr; a->kind = kind; a->count = count; a->children = NULL; a->child_count = 0;
  return a;
}

static int add_child(Alloc *a, void *child) {
  void **moved = (void **)realloc(a->children, (a->child_count + 1) * sizeof(void *));
  if (!moved) return 0;
  a->children = moved;
  a->children[a->child_count++] = child;
  return 1;
}

static Alloc *find_alloc(void *ptr, size_t *index) {
  for (size_t i = g_alloc_count; i-- > 0;) {
    if (g_allocs[i].ptr == ptr) { if (index) *index = i; return &g_allocs[i]; }
  }
  return NULL;
}

static void release(size_t index) {
  Alloc *a = &g_allocs[index];
  for (size_t i = 0; i < a->child_count; i++) free(a->children[i]);
  free(a->children);
  free(a->ptr);
  g_allocs[index] = g_allocs[--g_alloc_count];
}

/* ---- handles, faults, latency ------------------------------------------------------------- */

/* Resolves a handle to a server index; -2 for an invalid handle, -1 for an unknown server. */
static int server_of(HANDLE h) {
  if (h == WTS_CURRENT_SERVER_HANDLE) return g_local;
  for (size_t i = 0; i < g_handle_count; i++) {
    if (g_handles[i].value == (uintptr_t)h) return g_handles[i].open ? g_handles[i].server : -2;
  }
  return -2;
}

static DWORD fault_for(Server *server, int api, DWORD session) {
  DWORD any = 0;
  for (size_t i = 0; i < server->fault_count; i++) {
    Fault *f = &server->faults[i];
    if (f->api != api) continue;
    if (f->key == session) return f->code;
    if (f->key == ANY_SESSION_KEY) any = f->code;
  }
  return any;
}

/*
 * Counts the call, marks its handle busy until the call returns (see ENTER), and sleeps the
 * server's latency (outside the lock). Returns the handle's value when it was marked, else 0.
 */
static uintptr_t enter(HANDLE h, int api) {
  DWORD delay = 0;
  uintptr_t marked = 0;
  LOCK();
  g_calls[api]++;
  int s = server_of(h);
  if (s >= 0) delay = g_servers[s].latency_ms[api];
  if (h != WTS_CURRENT_SERVER_HANDLE) {
    for (size_t i = 0; i < g_handle_count; i++) {
      if (g_handles[i].value == (uintptr_t)h && g_handles[i].open) {
        g_handles[i].busy++;
        marked = g_handles[i].value;
      }
    }
  }
  UNLOCK();
  if (delay) sleep_ms(delay);
  return marked;
}

/* The end of a call that ENTER marked: its handle is no longer busy with it. */
static void leave(uintptr_t *marked) {
  if (!*marked) return;
  LOCK();
  for (size_t i = 0; i < g_handle_count; i++) {
    if (g_handles[i].value == *marked && g_handles[i].busy > 0) g_handles[i].busy--;
  }
  UNLOCK();
}

/* enter() for the rest of the enclosing function: the handle is busy until it returns. */
#define ENTER(h, api) uintptr_t busy_handle__ __attribute__((cleanup(leave))) = enter((h), (api))

/*
 * Under the lock: the server for a call, or NULL with the error to report (invalid handle,
 * unreachable, injected fault).
 */
static Server *server_for_call(HANDLE h, int api, DWORD session, DWORD *error) {
  int s = server_of(h);
  if (s == -2) { *error = DBL_ERROR_INVALID_HANDLE; return NULL; }
  if (s < 0 || g_servers[s].unreachable) { *error = DBL_RPC_S_SERVER_UNAVAILABLE; return NULL; }
  Server *server = &g_servers[s];
  DWORD fault = fault_for(server, api, session);
  if (fault) { *error = fault; return NULL; }
  *error = 0;
  return server;
}

static DWORD resolve_session(Server *server, DWORD session) {
  if (session == WTS_CURRENT_SESSION && g_local >= 0 && server == &g_servers[g_local]) return server->current_id;
  return session;
}

/* A session as a poll sees it: closing sessions count down, then disappear (NULL). */
static Session *poll_session(Server *server, DWORD id) {
  Session *s = find_session(server, id);
  if (s && s->closing >= 0) {
    if (s->closing == 0) { remove_session(server, s); return NULL; }
    s->closing--;
  }
  return s;
}

/* ---- wtsapi32 ------------------------------------------------------------------------------ */

static HANDLE open_server(const WCHAR16 *name) {
  LOCK();
  g_calls[DBL_API_OPEN]++;
  UNLOCK();
  if (!name || !name[0]) { set_last_error(DBL_ERROR_INVALID_PARAMETER); return NULL; }
  DWORD error = 0;
  HANDLE result = NULL;
  LOCK();
  int s = find_server(name);
  if (s >= 0) {
    DWORD delay = g_servers[s].latency_ms[DBL_API_OPEN];
    error = fault_for(&g_servers[s], DBL_API_OPEN, ANY_SESSION_KEY);
    if (delay) { UNLOCK(); sleep_ms(delay); LOCK(); }
  }
  if (!error) {
    WCHAR16 *copy = dup16(name);
    if (!copy || !grow((void **)&g_handles, &g_handle_cap, g_handle_count + 1, sizeof(Handle))) {
      free(copy);
      error = DBL_ERROR_NOT_ENOUGH_MEMORY;
    } else {
      Handle *h = &g_handles[g_handle_count++];
      h->value = g_next_handle;
      g_next_handle += 0x10;
      h->server = s;
      h->name = copy;
      h->open = 1;
      h->busy = 0;
      result = (HANDLE)h->value;
    }
  }
  UNLOCK();
  if (!result) set_last_error(error);
  return result;
}

DOUBLE_EXPORT HANDLE DOUBLE_CALL WTSOpenServerW(LPWSTR pServerName) { return open_server(pServerName); }
DOUBLE_EXPORT HANDLE DOUBLE_CALL WTSOpenServerExW(LPWSTR pServerName) { return open_server(pServerName); }

DOUBLE_EXPORT void DOUBLE_CALL WTSCloseServer(HANDLE hServer) {
  LOCK();
  g_calls[DBL_API_CLOSE]++;
  for (size_t i = 0; i < g_handle_count; i++) {
    if (g_handles[i].value == (uintptr_t)hServer && g_handles[i].open) {
      if (g_handles[i].busy > 0) g_closed_under_call++;
      g_handles[i].open = 0;
      free(g_handles[i].name);
      g_handles[i].name = NULL;
      /* Waits pending on the handle fail with ERROR_INVALID_HANDLE (assumed: no source says). */
      end_waits(0, g_handles[i].value, DBL_ERROR_INVALID_HANDLE);
    }
  }
  UNLOCK();
}

/* Copies a string into a tracked child of `a`; NULL (no allocation) for an empty string. */
static int child_string(Alloc *a, const WCHAR16 *s, LPWSTR *out) {
  *out = NULL;
  if (!s || !s[0]) return 1;
  WCHAR16 *copy = dup16(s);
  if (!copy || !add_child(a, copy)) { free(copy); return 0; }
  *out = (LPWSTR)copy;
  return 1;
}

/* Fills element i of an enumeration array; 0 when out of memory. */
typedef int (*FillFn)(Server *server, Alloc *a, void *array, size_t i);

static int fill_level1(Server *server, Alloc *a, void *array, size_t i) {
  PWTS_SESSION_INFO_1W e = &((PWTS_SESSION_INFO_1W)array)[i];
  Session *s = &server->sessions[i];
  e->ExecEnvId = s->id;
  e->State = (WTS_CONNECTSTATE_CLASS)s->state;
  e->SessionId = s->id;
  e->pFarmName = NULL;
  /* Learn (WTS_SESSION_INFO_1W, pHostName): for a session running directly on an RD Session Host
     server "the string contains NULL". */
  e->pHostName = NULL;
  return child_string(a, s->name, &e->pSessionName) &&
         child_string(a, s->user, &e->pUserName) && child_string(a, s->domain, &e->pDomainName);
}

static int fill_level0(Server *server, Alloc *a, void *array, size_t i) {
  PWTS_SESSION_INFOW e = &((PWTS_SESSION_INFOW)array)[i];
  Session *s = &server->sessions[i];
  e->SessionId = s->id;
  e->State = (WTS_CONNECTSTATE_CLASS)s->state;
  /* WTSEnumerateSessionsW always gives a string (possibly empty) for the WinStation. */
  WCHAR16 *copy = dup16(s->name);
  if (!copy || !add_child(a, copy)) { free(copy); return 0; }
  e->pWinStationName = (LPWSTR)copy;
  return 1;
}

/*
 * Builds a tracked array of n elements, filling each with fill(i); hands it out through
 * out/pCount. On failure everything built so far is released. Called under the lock.
 */
static BOOL build_array(Server *server, int kind, size_t n, size_t element, FillFn fill, void **out, DWORD *pCount) {
  void *array = calloc(n ? n : 1, element);
  Alloc *a = array ? track(array, kind, (ULONG)n) : NULL;
  int filled = a != NULL;
  for (size_t i = 0; i < n && filled; i++) filled = fill(server, a, array, i);
  if (!a) {
    free(array);
    return FALSE;
  }
  if (!filled) {
    size_t index;
    if (find_alloc(array, &index)) release(index);
    return FALSE;
  }
  *out = array;
  *pCount = (DWORD)n;
  return TRUE;
}

/* Both enumerations: faults, the closing sweep, one tracked array with tracked strings. */
static BOOL enumerate(HANDLE hServer, int extra_fault_api, int kind, size_t element, FillFn fill, void **out, DWORD *pCount) {
  DWORD error = 0;
  BOOL ok = FALSE;
  *out = NULL;
  *pCount = 0;
  LOCK();
  Server *server = server_for_call(hServer, DBL_API_ENUMERATE, ANY_SESSION_KEY, &error);
  if (server && extra_fault_api >= 0) {
    DWORD fault = fault_for(server, extra_fault_api, ANY_SESSION_KEY);
    if (fault) { error = fault; server = NULL; }
  }
  if (server) {
    /* Closing sessions count one poll; those whose time is up are gone. */
    for (size_t i = server->session_count; i-- > 0;) {
      Session *s = &server->sessions[i];
      if (s->closing == 0) remove_session(server, s);
      else if (s->closing > 0) s->closing--;
    }
    ok = build_array(server, kind, server->session_count, element, fill, out, pCount);
    if (!ok) error = DBL_ERROR_NOT_ENOUGH_MEMORY;
  }
  UNLOCK();
  if (!ok) set_last_error(error);
  return ok;
}

DOUBLE_EXPORT BOOL DOUBLE_CALL WTSEnumerateSessionsExW(HANDLE hServer, DWORD *pLevel, DWORD Filter,
                                                       PWTS_SESSION_INFO_1W *ppSessionInfo, DWORD *pCount) {
  ENTER(hServer, DBL_API_ENUMERATE);
  if (!pLevel || *pLevel != 1 || Filter != 0 || !ppSessionInfo || !pCount) {
    set_last_error(DBL_ERROR_INVALID_PARAMETER);
    return FALSE;
  }
  return enumerate(hServer, DBL_API_ENUMERATE_EX, ALLOC_LEVEL1, sizeof(WTS_SESSION_INFO_1W), fill_level1,
                   (void **)ppSessionInfo, pCount);
}

DOUBLE_EXPORT BOOL DOUBLE_CALL WTSEnumerateSessionsW(HANDLE hServer, DWORD Reserved, DWORD Version,
                                                     PWTS_SESSION_INFOW *ppSessionInfo, DWORD *pCount) {
  ENTER(hServer, DBL_API_ENUMERATE);
  if (Reserved != 0 || Version != 1 || !ppSessionInfo || !pCount) {
    set_last_error(DBL_ERROR_INVALID_PARAMETER);
    return FALSE;
  }
  return enumerate(hServer, -1, ALLOC_SESSIONINFOW, sizeof(WTS_SESSION_INFOW), fill_level0, (void **)ppSessionInfo, pCount);
}

/* A valid binary SID of `length` bytes: revision 1, at most 15 subauthorities, and exactly
   8 + 4 * SubAuthorityCount bytes (MS-DTYP 2.4.2.2). */
static int valid_sid(const BYTE *sid, DWORD length) {
  return sid && length >= 8 && sid[0] == 1 && sid[1] <= 15 && length == 8u + 4u * sid[1];
}

/* The SID PutProcess gives a process: S-1-5-18 (LocalSystem) in session 0, else
   S-1-5-21-1004336348-1177238915-682003330-(1000 + session) (a local account's shape). */
static DWORD default_sid(DWORD session, BYTE *sid) {
  static const DWORD domain[] = { 21, 1004336348u, 1177238915u, 682003330u };
  BYTE count = session ? 5 : 1;
  memset(sid, 0, DBL_MAX_SID_SIZE);
  sid[0] = 1;
  sid[1] = count;
  sid[7] = 5;
  for (BYTE j = 0; j < count; j++) {
    DWORD v = session == 0 ? 18 : (j < 4 ? domain[j] : 1000 + session);
    for (int b = 0; b < 4; b++) sid[8 + 4 * j + b] = (BYTE)(v >> (8 * b));
  }
  return 8u + 4u * count;
}

/* A copy of a process's SID in a tracked child of `a` (NULL for a process without one). */
static int child_sid(Alloc *a, const Process *p, PVOID *out) {
  *out = NULL;
  if (!p->sid_len) return 1;
  BYTE *sid = (BYTE *)malloc(p->sid_len);
  if (!sid || !add_child(a, sid)) { free(sid); return 0; }
  memcpy(sid, p->sid, p->sid_len);
  *out = sid;
  return 1;
}

/* PID 0, the System Idle Process, in session 0 with LocalSystem's SID (assumed: Cassia's
   NativeMethodsHelper.cs 194-197 sees an element with PID 0 first on Windows). */
static Process g_idle;
static const WCHAR16 g_idle_name[] = { 'S','y','s','t','e','m',' ','I','d','l','e',' ','P','r','o','c','e','s','s',0 };

/* The processes one enumeration lists, in order; filled under the lock for the fill functions. */
typedef struct ProcRef { DWORD session; const Process *p; } ProcRef;
static ProcRef *g_refs;

/* Under the lock: the processes of `session` (DBL_WTS_ANY_SESSION: all) into g_refs: first, on a
   server with a session 0 (every Windows server has one), PID 0, then the sessions' processes in
   session order. Returns the count, or (size_t)-1 when out of memory. */
static size_t list_processes(Server *server, DWORD session) {
  int any = session == DBL_WTS_ANY_SESSION;
  size_t n = (find_session(server, 0) && (any || session == 0)) ? 1 : 0;
  for (size_t i = 0; i < server->session_count; i++)
    if (any || server->sessions[i].id == session) n += server->sessions[i].process_count;
  g_refs = (ProcRef *)calloc(n ? n : 1, sizeof(ProcRef));
  if (!g_refs) return (size_t)-1;
  size_t k = 0;
  if (find_session(server, 0) && (any || session == 0)) {
    if (!g_idle.name) {
      g_idle.name = (WCHAR16 *)g_idle_name;
      g_idle.sid_len = default_sid(0, g_idle.sid);
    }
    g_refs[k].session = 0;
    g_refs[k++].p = &g_idle;
  }
  for (size_t i = 0; i < server->session_count; i++) {
    Session *s = &server->sessions[i];
    if (!any && s->id != session) continue;
    for (size_t j = 0; j < s->process_count; j++) { g_refs[k].session = s->id; g_refs[k++].p = &s->processes[j]; }
  }
  return n;
}

/* WTS_PROCESS_INFOW for element i of g_refs (Wine's tests, wtsapi.c 96: pUserSid is the token's user). */
static int fill_process(Server *server, Alloc *a, void *array, size_t i) {
  (void)server;
  PWTS_PROCESS_INFOW e = &((PWTS_PROCESS_INFOW)array)[i];
  const Process *p = g_refs[i].p;
  e->SessionId = g_refs[i].session;
  e->ProcessId = p->pid;
  return child_string(a, p->name, &e->pProcessName) && child_sid(a, p, &e->pUserSid);
}

/* WTS_PROCESS_INFO_EXW for element i of g_refs: the same, and the process's counters. */
static int fill_process_ex(Server *server, Alloc *a, void *array, size_t i) {
  (void)server;
  DBL_WTS_PROCESS_INFO_EXW *e = &((DBL_WTS_PROCESS_INFO_EXW *)array)[i];
  const Process *p = g_refs[i].p;
  e->SessionId = g_refs[i].session;
  e->ProcessId = p->pid;
  e->NumberOfThreads = p->threads;
  e->HandleCount = p->handles;
  e->PagefileUsage = p->pagefile;
  e->PeakPagefileUsage = p->peak_pagefile;
  e->WorkingSetSize = p->working_set;
  e->PeakWorkingSetSize = p->peak_working_set;
  memcpy(&e->UserTime, &p->user_time, 8);
  memcpy(&e->KernelTime, &p->kernel_time, 8);
  return child_string(a, p->name, &e->pProcessName) && child_sid(a, p, &e->pUserSid);
}

/* Under the lock: the array of the processes of `session`, as `kind`. */
static BOOL build_processes(Server *server, DWORD session, int kind, void **out, DWORD *pCount) {
  size_t n = list_processes(server, session);
  if (n == (size_t)-1) return FALSE;
  BOOL ok = kind == ALLOC_PROCESSES_EX1
                ? build_array(server, kind, n, sizeof(DBL_WTS_PROCESS_INFO_EXW), fill_process_ex, out, pCount)
                : build_array(server, kind, n, sizeof(WTS_PROCESS_INFOW), fill_process, out, pCount);
  free(g_refs);
  g_refs = NULL;
  return ok;
}

DOUBLE_EXPORT BOOL DOUBLE_CALL WTSEnumerateProcessesW(HANDLE hServer, DWORD Reserved, DWORD Version,
                                                      PWTS_PROCESS_INFOW *ppProcessInfo, DWORD *pCount) {
  ENTER(hServer, DBL_API_PROCESSES);
  if (Reserved != 0 || Version != 1 || !ppProcessInfo || !pCount) {
    set_last_error(DBL_ERROR_INVALID_PARAMETER);
    return FALSE;
  }
  *ppProcessInfo = NULL;
  *pCount = 0;
  DWORD error = 0;
  BOOL ok = FALSE;
  LOCK();
  Server *server = server_for_call(hServer, DBL_API_PROCESSES, ANY_SESSION_KEY, &error);
  if (server) {
    ok = build_processes(server, DBL_WTS_ANY_SESSION, ALLOC_PROCESSES, (void **)ppProcessInfo, pCount);
    if (!ok) error = DBL_ERROR_NOT_ENOUGH_MEMORY;
  }
  UNLOCK();
  /* Wine's tests (wtsapi.c 151-156, run on Windows): success leaves GetLastError 0. */
  set_last_error(ok ? 0 : error);
  return ok;
}

/*
 * WTSEnumerateProcessesExW (Learn, nf-wtsapi32-wtsenumerateprocessesexw): *pLevel 0 gives
 * WTS_PROCESS_INFOW, 1 WTS_PROCESS_INFO_EXW; any other level sets *pLevel to 1 and fails (Learn;
 * the code, 87, is assumed). SessionId filters (WTS_ANY_SESSION: all; a session that does not
 * exist: an empty array, assumed). Wine's tests (wtsapi.c 166-189, run on Windows): a NULL
 * ppProcessInfo or pCount fails with 87, the other left as it was; success leaves GetLastError 0.
 * Faults: DBL_API_PROCESSES (fails both process calls) or DBL_API_PROCESSES_EX (this one only: a
 * server without level 1, 120 or 1745), keyed by SessionId.
 */
DOUBLE_EXPORT BOOL DOUBLE_CALL WTSEnumerateProcessesExW(HANDLE hServer, DWORD *pLevel, DWORD SessionId,
                                                        LPWSTR *ppProcessInfo, DWORD *pCount) {
  ENTER(hServer, DBL_API_PROCESSES_EX);
  if (!pLevel || !ppProcessInfo || !pCount) { set_last_error(DBL_ERROR_INVALID_PARAMETER); return FALSE; }
  if (*pLevel > 1) { *pLevel = 1; set_last_error(DBL_ERROR_INVALID_PARAMETER); return FALSE; }
  int level = (int)*pLevel;
  *ppProcessInfo = NULL;
  *pCount = 0;
  DWORD error = 0;
  BOOL ok = FALSE;
  LOCK();
  DWORD key = SessionId == DBL_WTS_ANY_SESSION ? ANY_SESSION_KEY : SessionId;
  Server *server = server_for_call(hServer, DBL_API_PROCESSES, key, &error);
  if (server) {
    DWORD fault = fault_for(server, DBL_API_PROCESSES_EX, key);
    if (fault) { error = fault; server = NULL; }
  }
  if (server) {
    ok = build_processes(server, SessionId, level ? ALLOC_PROCESSES_EX1 : ALLOC_PROCESSES_EX0, (void **)ppProcessInfo, pCount);
    if (!ok) error = DBL_ERROR_NOT_ENOUGH_MEMORY;
  }
  UNLOCK();
  set_last_error(ok ? 0 : error);
  return ok;
}

DOUBLE_EXPORT void DOUBLE_CALL WTSFreeMemory(PVOID pMemory) {
  if (!pMemory) return;
  LOCK();
  g_calls[DBL_API_FREE]++;
  size_t index;
  Alloc *a = find_alloc(pMemory, &index);
  if (!a) {
    g_bad_frees++; /* not ours, or freed twice: never touch it */
  } else {
    /* WTSFreeMemory on an array of WTSEnumerate*ExW leaks its strings on Windows (Learn: free it
       with WTSFreeMemoryEx), and a netapi32 buffer is NetApiBufferFree's: flag it, free it all. */
    if (a->kind == ALLOC_LEVEL1 || a->kind == ALLOC_PROCESSES_EX0 || a->kind == ALLOC_PROCESSES_EX1 || a->kind == ALLOC_NETAPI) g_bad_frees++;
    release(index);
  }
  UNLOCK();
}

DOUBLE_EXPORT BOOL DOUBLE_CALL WTSFreeMemoryExW(int WTSTypeClass, PVOID pMemory, ULONG NumberOfEntries) {
  BOOL ok = FALSE;
  LOCK();
  g_calls[DBL_API_FREE]++;
  size_t index;
  Alloc *a = pMemory ? find_alloc(pMemory, &index) : NULL;
  /* The WTS_TYPE_CLASS each array needs (Learn, ne-wtsapi32-wts_type_class); any other class, a
     wrong count, or memory that is not an Ex array is a bad free, and the array stays allocated. */
  int expected = !a ? -1
                 : a->kind == ALLOC_LEVEL1 ? DBL_WTSTypeSessionInfoLevel1
                 : a->kind == ALLOC_PROCESSES_EX0 ? DBL_WTSTypeProcessInfoLevel0
                 : a->kind == ALLOC_PROCESSES_EX1 ? DBL_WTSTypeProcessInfoLevel1 : -1;
  if (a && expected >= 0 && WTSTypeClass == expected && NumberOfEntries == a->count) {
    release(index);
    ok = TRUE;
  } else {
    g_bad_frees++;
  }
  UNLOCK();
  if (!ok) set_last_error(DBL_ERROR_INVALID_PARAMETER);
  return ok;
}

static void copy_fixed(WCHAR16 *dst, size_t cap, const WCHAR16 *src) {
  size_t n = len16(src);
  if (n >= cap) n = cap - 1;
  if (n) memcpy(dst, src, n * sizeof(WCHAR16));
  dst[n] = 0;
}

/* Windows' address families (ws2def.h): AF_INET 2, AF_INET6 23; WTS_CLIENT_ADDRESS carries them. */
#define DBL_AF_INET 2
#define DBL_AF_INET6 23

/* 100-ns ticks since 1601 for "now" (the double's clock for WTSINFOW.CurrentTime). */
static long long filetime_now(void) {
#if defined(_WIN32)
  FILETIME ft;
  GetSystemTimeAsFileTime(&ft);
  return ((long long)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
#else
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 10000000LL + ts.tv_nsec / 100 + 116444736000000000LL;
#endif
}

DOUBLE_EXPORT BOOL DOUBLE_CALL WTSQuerySessionInformationW(HANDLE hServer, DWORD SessionId, WTS_INFO_CLASS WTSInfoClass,
                                                           LPWSTR *ppBuffer, DWORD *pBytesReturned) {
  ENTER(hServer, DBL_API_QUERY);
  /* Wine's conformance test (dlls/wtsapi32/tests/wtsapi.c 229-246, run on Windows): a NULL
     ppBuffer or pBytesReturned fails with ERROR_INVALID_USER_BUFFER, the count left as it was. */
  if (!ppBuffer || !pBytesReturned) { set_last_error(DBL_ERROR_INVALID_USER_BUFFER); return FALSE; }
  *ppBuffer = NULL;
  *pBytesReturned = 0;
  DWORD error = 0;
  BOOL ok = FALSE;
  LOCK();
  int si = server_of(hServer);
  DWORD id = si >= 0 ? resolve_session(&g_servers[si], SessionId) : SessionId;
  Server *server = server_for_call(hServer, DBL_API_QUERY, id, &error);
  Session *s = NULL;
  if (server) {
    s = poll_session(server, id);
    if (!s) error = DBL_ERROR_CTX_WINSTATION_NOT_FOUND;
  }
  if (s) {
    void *buffer = NULL;
    DWORD bytes = 0;
    const WCHAR16 *text = NULL;
    int is_text = 1;
    switch (WTSInfoClass) {
      case WTSUserName: text = s->user; break;
      case WTSWinStationName: text = s->name; break;
      case WTSDomainName: text = s->domain; break;
      case WTSClientName: text = s->client_name; break;
      default: is_text = 0; break;
    }
    if (is_text) {
      buffer = dup16(text);
      bytes = (DWORD)((len16(text) + 1) * sizeof(WCHAR16));
    } else if (WTSInfoClass == WTSConnectState || WTSInfoClass == WTSSessionId) {
      DWORD *value = (DWORD *)malloc(sizeof(DWORD));
      if (value) *value = WTSInfoClass == WTSConnectState ? (DWORD)s->state : s->id;
      buffer = value;
      bytes = sizeof(DWORD);
    } else if (WTSInfoClass == WTSClientAddress) {
      WTS_CLIENT_ADDRESS *value = (WTS_CLIENT_ADDRESS *)calloc(1, sizeof(WTS_CLIENT_ADDRESS));
      if (value) { value->AddressFamily = s->address_family; memcpy(value->Address, s->address, 20); }
      buffer = value;
      bytes = sizeof(WTS_CLIENT_ADDRESS);
    } else if (WTSInfoClass == WTSClientProtocolType) {
      /* A USHORT (Learn, WTS_INFO_CLASS; Wine's tests: count == sizeof(USHORT)): 0 console, 2 RDP. */
      unsigned short *value = (unsigned short *)malloc(sizeof(unsigned short));
      if (value) *value = (unsigned short)(s->client_name && s->client_name[0] ? 2 : 0);
      buffer = value;
      bytes = sizeof(unsigned short);
    } else if ((int)WTSInfoClass == DBL_WTSIsRemoteSession) {
      /* One byte, a BOOLEAN (assumed; no Learn size: gowin32 accepts only a count of 1, Veyon
         reads it through a BOOL *, which a 1 would also satisfy on a padded heap block). */
      unsigned char *value = (unsigned char *)malloc(1);
      if (value) *value = (s->client_name && s->client_name[0]) ? 1 : 0;
      buffer = value;
      bytes = 1;
    } else if (WTSInfoClass == WTSClientInfo) {
      /* WTSCLIENTW (Learn, ns-wtsapi32-wtsclientw). Its Remarks: "For the ClientAddressFamily
         member, AF_INET (IPv4) will return in string format, for example "127.0.0.1". AF_INET6
         (IPv6) will return in binary form." The IPv4 text is written as UTF-16 into ClientAddress;
         for IPv6 the 16 address bytes are copied as they are (assumed: Learn does not give the
         binary layout; the library reads an IPv6 address from WTSClientAddress instead). */
      WTSCLIENTW *c = (WTSCLIENTW *)calloc(1, sizeof(WTSCLIENTW));
      if (c) {
        copy_fixed((WCHAR16 *)c->ClientName, CLIENTNAME_LENGTH + 1, s->client_name);
        c->ClientAddressFamily = s->address_family;
        if (s->address_family == DBL_AF_INET) {
          char text[16];
          snprintf(text, sizeof text, "%u.%u.%u.%u", s->address[2], s->address[3], s->address[4], s->address[5]);
          for (int i = 0; text[i] && i < CLIENTADDRESS_LENGTH; i++) c->ClientAddress[i] = (uint16_t)(unsigned char)text[i];
        } else if (s->address_family == DBL_AF_INET6) {
          memcpy(c->ClientAddress, s->address, 16);
        }
      }
      buffer = c;
      bytes = sizeof(WTSCLIENTW);
    } else if (WTSInfoClass == WTSSessionInfo) {
      WTSINFOW *info = (WTSINFOW *)calloc(1, sizeof(WTSINFOW));
      if (info) {
        info->State = (WTS_CONNECTSTATE_CLASS)s->state;
        info->SessionId = s->id;
        copy_fixed((WCHAR16 *)info->WinStationName, WINSTATIONNAME_LENGTH, s->name);
        copy_fixed((WCHAR16 *)info->Domain, DOMAIN_LENGTH, s->domain);
        copy_fixed((WCHAR16 *)info->UserName, USERNAME_LENGTH + 1, s->user);
        memcpy(&info->ConnectTime, &s->connect_time, 8);
        memcpy(&info->DisconnectTime, &s->disconnect_time, 8);
        memcpy(&info->LastInputTime, &s->last_input_time, 8);
        memcpy(&info->LogonTime, &s->logon_time, 8);
        long long now = filetime_now();
        memcpy(&info->CurrentTime, &now, 8);
      }
      buffer = info;
      bytes = sizeof(WTSINFOW);
    } else if ((int)WTSInfoClass == DBL_WTSSessionInfoEx) {
      /* WTSINFOEXW, Level 1 (Learn, ns-wtsapi32-wtsinfoexw). SessionFlags as the session's lock
         state; a 6.1 server (Windows 7 / Server 2008 R2) reports LOCK and UNLOCK swapped, "due to a
         code defect" (Learn, ns-wtsapi32-wtsinfoex_level1_w). The count is sizeof(WTSINFOEXW)
         (assumed, as Wine's tests show for WTSINFOW). */
      DBL_WTSINFOEXW *info = (DBL_WTSINFOEXW *)calloc(1, sizeof(DBL_WTSINFOEXW));
      if (info) {
        DBL_WTSINFOEX_LEVEL1_W *l1 = &info->Data.WTSInfoExLevel1;
        LONG flags = s->lock_flags;
        if (server->version_major == 6 && server->version_minor == 1 &&
            (flags == DBL_WTS_SESSIONSTATE_LOCK || flags == DBL_WTS_SESSIONSTATE_UNLOCK))
          flags = flags == DBL_WTS_SESSIONSTATE_LOCK ? DBL_WTS_SESSIONSTATE_UNLOCK : DBL_WTS_SESSIONSTATE_LOCK;
        info->Level = 1;
        l1->SessionId = s->id;
        l1->SessionState = (WTS_CONNECTSTATE_CLASS)s->state;
        l1->SessionFlags = flags;
        copy_fixed((WCHAR16 *)l1->WinStationName, WINSTATIONNAME_LENGTH + 1, s->name);
        copy_fixed((WCHAR16 *)l1->UserName, USERNAME_LENGTH + 1, s->user);
        copy_fixed((WCHAR16 *)l1->DomainName, DOMAIN_LENGTH + 1, s->domain);
        memcpy(&l1->LogonTime, &s->logon_time, 8);
        memcpy(&l1->ConnectTime, &s->connect_time, 8);
        memcpy(&l1->DisconnectTime, &s->disconnect_time, 8);
        memcpy(&l1->LastInputTime, &s->last_input_time, 8);
        long long now = filetime_now();
        memcpy(&l1->CurrentTime, &now, 8);
      }
      buffer = info;
      bytes = sizeof(DBL_WTSINFOEXW);
    } else {
      /* Learn (WTS_INFO_CLASS): WTSIdleTime ... WTSOutgoingFrames (17-22) "return FALSE ...
         GetLastError returns ERROR_NOT_SUPPORTED". The classes the double does not model answer
         the same. */
      error = DBL_ERROR_NOT_SUPPORTED;
    }
    if (!error) {
      if (!buffer || !track(buffer, ALLOC_PLAIN, 1)) {
        free(buffer);
        error = DBL_ERROR_NOT_ENOUGH_MEMORY;
      } else {
        *ppBuffer = (LPWSTR)buffer;
        *pBytesReturned = bytes;
        ok = TRUE;
      }
    }
  }
  UNLOCK();
  if (!ok) set_last_error(error);
  return ok;
}

DOUBLE_EXPORT BOOL DOUBLE_CALL WTSLogoffSession(HANDLE hServer, DWORD SessionId, BOOL bWait) {
  ENTER(hServer, DBL_API_LOGOFF);
  DWORD error = 0;
  LOCK();
  int si = server_of(hServer);
  DWORD id = si >= 0 ? resolve_session(&g_servers[si], SessionId) : SessionId;
  Server *server = server_for_call(hServer, DBL_API_LOGOFF, id, &error);
  if (server) {
    Session *s = find_session(server, id);
    if (!s) error = DBL_ERROR_CTX_WINSTATION_NOT_FOUND;
    else if (s->closing >= 0) error = DBL_ERROR_CTX_CLOSE_PENDING;
    else if (s->state == WTSListen) error = DBL_ERROR_INVALID_PARAMETER;
    else if (bWait) remove_session(server, s); /* the double never blocks: done at once */
    /* The logoff completes (WTS_EVENT_LOGOFF | WTS_EVENT_DELETE) when the closing polls run out. */
    else s->closing = g_closing_polls;
  }
  UNLOCK();
  if (error) { set_last_error(error); return FALSE; }
  return TRUE;
}

DOUBLE_EXPORT BOOL DOUBLE_CALL WTSDisconnectSession(HANDLE hServer, DWORD SessionId, BOOL bWait) {
  (void)bWait;
  ENTER(hServer, DBL_API_DISCONNECT);
  DWORD error = 0;
  LOCK();
  int si = server_of(hServer);
  DWORD id = si >= 0 ? resolve_session(&g_servers[si], SessionId) : SessionId;
  Server *server = server_for_call(hServer, DBL_API_DISCONNECT, id, &error);
  if (server) {
    Session *s = poll_session(server, id);
    if (!s) error = DBL_ERROR_CTX_WINSTATION_NOT_FOUND;
    else if (s->state == WTSListen || id == 0) error = DBL_ERROR_INVALID_PARAMETER;
    else if (s->state != WTSDisconnected) {
      s->state = WTSDisconnected;
      free(s->name);
      s->name = NULL;
      s->disconnect_time = filetime_now();
      raise_events((int)(server - g_servers), DBL_WTS_EVENT_DISCONNECT | DBL_WTS_EVENT_STATECHANGE);
    }
  }
  UNLOCK();
  if (error) { set_last_error(error); return FALSE; }
  return TRUE;
}

/* WTSTerminateProcess (Learn, nf-wtsapi32-wtsterminateprocess): the process leaves its session's
 * list. A PID that is not running fails with ERROR_INVALID_PARAMETER, and PID 0 (the System Idle
 * Process) with ERROR_ACCESS_DENIED: both ASSUMED (docs/windows-facts.md, rows terminate-*). A
 * fault's key is the process ID. A PID can be listed again later with WtsDouble_PutProcess: PID
 * reuse, as Windows does. */
DOUBLE_EXPORT BOOL DOUBLE_CALL WTSTerminateProcess(HANDLE hServer, DWORD ProcessId, DWORD ExitCode) {
  (void)ExitCode;
  ENTER(hServer, DBL_API_TERMINATE);
  DWORD error = 0;
  LOCK();
  Server *server = server_for_call(hServer, DBL_API_TERMINATE, ProcessId, &error);
  if (server) {
    int found = 0;
    if (ProcessId == 0 && find_session(server, 0)) error = DBL_ERROR_ACCESS_DENIED;
    for (size_t i = 0; !error && !found && i < server->session_count; i++) {
      Session *s = &server->sessions[i];
      for (size_t k = 0; k < s->process_count; k++) {
        if (s->processes[k].pid != ProcessId) continue;
        free(s->processes[k].name);
        memmove(&s->processes[k], &s->processes[k + 1], (s->process_count - k - 1) * sizeof(Process));
        s->process_count--;
        found = 1;
        break;
      }
    }
    if (!error && !found) error = DBL_ERROR_INVALID_PARAMETER;
  }
  UNLOCK();
  if (error) { set_last_error(error); return FALSE; }
  return TRUE;
}

DOUBLE_EXPORT BOOL DOUBLE_CALL WTSSendMessageW(HANDLE hServer, DWORD SessionId, LPWSTR pTitle, DWORD TitleLength,
                                               LPWSTR pMessage, DWORD MessageLength, DWORD Style, DWORD Timeout,
                                               DWORD *pResponse, BOOL bWait) {
  (void)Style; (void)Timeout;
  ENTER(hServer, DBL_API_MESSAGE);
  /* Lengths are in bytes, and must match the strings (a common binding bug: passing characters). */
  if (!pResponse || (TitleLength & 1) || (MessageLength & 1) ||
      TitleLength != len16(pTitle) * sizeof(WCHAR16) || MessageLength != len16(pMessage) * sizeof(WCHAR16)) {
    set_last_error(DBL_ERROR_INVALID_PARAMETER);
    return FALSE;
  }
  DWORD error = 0;
  LOCK();
  int si = server_of(hServer);
  DWORD id = si >= 0 ? resolve_session(&g_servers[si], SessionId) : SessionId;
  Server *server = server_for_call(hServer, DBL_API_MESSAGE, id, &error);
  if (server) {
    Session *s = poll_session(server, id);
    if (!s) error = DBL_ERROR_CTX_WINSTATION_NOT_FOUND;
    else *pResponse = bWait ? s->message_response : 32001 /* IDASYNC */;
  }
  UNLOCK();
  if (error) { set_last_error(error); return FALSE; }
  return TRUE;
}

/*
 * WTSWaitSystemEvent (Learn, nf-wtsapi32-wtswaitsystemevent): blocks until an event of a kind in
 * EventMask happens on the handle's server, then TRUE with *pEventFlags = the kinds that happened,
 * masked. EventMask WTS_EVENT_FLUSH: every wait pending on this handle (not on other handles to
 * the same server) returns TRUE with WTS_EVENT_NONE, and so does the flush. Events that happen
 * while no wait is pending are not kept for a later one (assumed). Failures as the other calls:
 * 6 for a closed or unknown handle, 1722 for an unreachable server, an injected fault
 * (DBL_API_WAIT); a wait pending when its handle is closed fails with 6 (assumed), when a fault
 * is injected for DBL_API_WAIT with that fault, when the double is reset with 1722, when its leaks
 * are cleared with 6.
 */
DOUBLE_EXPORT BOOL DOUBLE_CALL WTSWaitSystemEvent(HANDLE hServer, DWORD EventMask, DWORD *pEventFlags) {
  ENTER(hServer, DBL_API_WAIT);
  if (!pEventFlags) { set_last_error(DBL_ERROR_INVALID_PARAMETER); return FALSE; } /* assumed */
  DWORD error = 0, flags = DBL_WTS_EVENT_NONE;
  LOCK();
  Server *server = server_for_call(hServer, DBL_API_WAIT, ANY_SESSION_KEY, &error);
  if (server && (EventMask & DBL_WTS_EVENT_FLUSH)) {
    end_waits(0, (uintptr_t)hServer, 0);
  } else if (server) {
    Waiter me;
    memset(&me, 0, sizeof(me));
    me.handle = (uintptr_t)hServer;
    me.server = (int)(server - g_servers);
    me.mask = EventMask & DBL_WTS_EVENT_ALL;
    me.next = g_waiters;
    g_waiters = &me;
    while (!me.done) WAIT_WAKE();
    for (Waiter **link = &g_waiters; *link; link = &(*link)->next) {
      if (*link == &me) { *link = me.next; break; }
    }
    error = me.error;
    flags = me.flags;
  }
  UNLOCK();
  if (error) { set_last_error(error); return FALSE; }
  *pEventFlags = flags;
  return TRUE;
}

/* ---- advapi32 ----------------------------------------------------------------------------- */

/* Copies `text` and its NUL into a buffer of *cch characters; FALSE (and *cch = the size needed,
   NUL included) when it does not fit. */
static int fits16(const WCHAR16 *text, const LPWSTR buffer, DWORD cch) {
  return buffer && cch >= len16(text) + 1;
}

/*
 * LookupAccountSidW (Learn, nf-winbase-lookupaccountsidw), against the server's account table
 * (WtsDouble_PutAccount). lpSystemName NULL or empty: the local server; another name (leading
 * backslashes ignored) that no server has, or an unreachable server: 1722, as Windows answers for a
 * computer that is not there (Wine's advapi32 tests, test_LookupAccountSid, "deepthought":
 * RPC_S_SERVER_UNAVAILABLE). A SID with no account: ERROR_NONE_MAPPED (Learn, Remarks). A Name or
 * ReferencedDomainName buffer too small (or NULL): FALSE, ERROR_INSUFFICIENT_BUFFER, and both
 * sizes set to what is needed, the NUL included (Wine's tests, on Windows: "the size will always be
 * returned"). Success: the strings copied, each size set to its length without the NUL (assumed).
 * A NULL SID or size pointer, or a SID that is not valid: 87 (assumed; Windows crashes on NULLs).
 * Fault: DBL_API_LOOKUP (any key).
 */
DOUBLE_EXPORT BOOL DOUBLE_CALL K32(LookupAccountSidW)(const WCHAR16 *lpSystemName, PVOID Sid, LPWSTR Name, DWORD *cchName,
                                                     LPWSTR ReferencedDomainName, DWORD *cchReferencedDomainName, int *peUse) {
  const WCHAR16 *name = lpSystemName;
  while (name && *name == '\\') name++;
  DWORD delay = 0;
  LOCK();
  g_calls[DBL_API_LOOKUP]++;
  int index = (!name || !name[0]) ? g_local : find_server(name);
  if (index >= 0) delay = g_servers[index].latency_ms[DBL_API_LOOKUP];
  UNLOCK();
  if (delay) sleep_ms(delay);
  const BYTE *sid = (const BYTE *)Sid;
  if (!sid || !cchName || !cchReferencedDomainName || !peUse || sid[0] != 1 || sid[1] > 15) {
    set_last_error(DBL_ERROR_INVALID_PARAMETER);
    return FALSE;
  }
  DWORD sid_len = 8u + 4u * sid[1];
  DWORD error = 0;
  LOCK();
  index = (!name || !name[0]) ? g_local : find_server(name);
  if (index < 0 || g_servers[index].unreachable) {
    error = DBL_RPC_S_SERVER_UNAVAILABLE;
  } else {
    Server *srv = &g_servers[index];
    error = fault_for(srv, DBL_API_LOOKUP, ANY_SESSION_KEY);
    const Account *account = NULL;
    for (size_t i = 0; !error && i < srv->account_count; i++)
      if (srv->accounts[i].sid_len == sid_len && memcmp(srv->accounts[i].sid, sid, sid_len) == 0) account = &srv->accounts[i];
    if (!error && !account) error = DBL_ERROR_NONE_MAPPED;
    if (!error) {
      if (!fits16(account->name, Name, *cchName) || !fits16(account->domain, ReferencedDomainName, *cchReferencedDomainName)) {
        *cchName = (DWORD)len16(account->name) + 1;
        *cchReferencedDomainName = (DWORD)len16(account->domain) + 1;
        error = DBL_ERROR_INSUFFICIENT_BUFFER;
      } else {
        size_t n = len16(account->name), d = len16(account->domain);
        memcpy(Name, account->name, (n + 1) * sizeof(WCHAR16));
        memcpy(ReferencedDomainName, account->domain, (d + 1) * sizeof(WCHAR16));
        *cchName = (DWORD)n;
        *cchReferencedDomainName = (DWORD)d;
        *peUse = account->use;
      }
    }
  }
  UNLOCK();
  if (error) { set_last_error(error); return FALSE; }
  return TRUE;
}

/* ---- kernel32 ------------------------------------------------------------------------------ */

DOUBLE_EXPORT DWORD DOUBLE_CALL K32(WTSGetActiveConsoleSessionId)(void) {
  LOCK();
  DWORD id = g_local >= 0 ? g_servers[g_local].console_id : NO_CONSOLE;
  UNLOCK();
  return id;
}

DOUBLE_EXPORT BOOL DOUBLE_CALL K32(ProcessIdToSessionId)(DWORD dwProcessId, DWORD *pSessionId) {
  if (!pSessionId || dwProcessId != current_pid()) { set_last_error(DBL_ERROR_INVALID_PARAMETER); return FALSE; }
  LOCK();
  *pSessionId = g_local >= 0 ? g_servers[g_local].current_id : 0;
  UNLOCK();
  return TRUE;
}

DOUBLE_EXPORT BOOL DOUBLE_CALL K32(GetComputerNameW)(LPWSTR lpBuffer, DWORD *nSize) {
  if (!nSize) { set_last_error(DBL_ERROR_INVALID_PARAMETER); return FALSE; }
  LOCK();
  const WCHAR16 *name = g_local >= 0 ? g_servers[g_local].name : NULL;
  size_t n = len16(name);
  BOOL ok = FALSE;
  if (!lpBuffer || *nSize < n + 1) {
    *nSize = (DWORD)(n + 1);
  } else {
    if (n) memcpy(lpBuffer, name, n * sizeof(WCHAR16));
    lpBuffer[n] = 0;
    *nSize = (DWORD)n;
    ok = TRUE;
  }
  UNLOCK();
  if (!ok) set_last_error(DBL_ERROR_BUFFER_OVERFLOW);
  return ok;
}

/* COMPUTER_NAME_FORMAT (sysinfoapi.h, counted from 0), by Learn's ne-sysinfoapi-computer_name_format. */
enum {
  DBL_ComputerNameNetBIOS, DBL_ComputerNameDnsHostname, DBL_ComputerNameDnsDomain, DBL_ComputerNameDnsFullyQualified,
  DBL_ComputerNamePhysicalNetBIOS, DBL_ComputerNamePhysicalDnsHostname, DBL_ComputerNamePhysicalDnsDomain,
  DBL_ComputerNamePhysicalDnsFullyQualified
};

/* Under the lock: a malloc'd copy of the local machine's name in one format; *valid = 0 for an
   unknown format. No cluster here: a Physical name is the same as the other. FQDN =
   HostName.DomainName, or the host name alone without a domain. */
static WCHAR16 *computer_name_ex(int type, int *valid) {
  static const WCHAR16 empty[1] = { 0 };
  const WCHAR16 *netbios = g_local >= 0 ? g_servers[g_local].name : empty;
  const WCHAR16 *host = g_dns_host ? g_dns_host : netbios;
  const WCHAR16 *domain = g_dns_domain ? g_dns_domain : empty;
  *valid = 1;
  switch (type) {
    case DBL_ComputerNameNetBIOS: case DBL_ComputerNamePhysicalNetBIOS: return dup16(netbios);
    case DBL_ComputerNameDnsHostname: case DBL_ComputerNamePhysicalDnsHostname: return dup16(host);
    case DBL_ComputerNameDnsDomain: case DBL_ComputerNamePhysicalDnsDomain: return dup16(domain);
    case DBL_ComputerNameDnsFullyQualified: case DBL_ComputerNamePhysicalDnsFullyQualified: {
      size_t h = len16(host), d = len16(domain);
      WCHAR16 *fqdn = (WCHAR16 *)malloc((h + 1 + d + 1) * sizeof(WCHAR16));
      if (!fqdn) return NULL;
      memcpy(fqdn, host, h * sizeof(WCHAR16));
      size_t n = h;
      if (d) { fqdn[n++] = '.'; memcpy(fqdn + n, domain, d * sizeof(WCHAR16)); n += d; }
      fqdn[n] = 0;
      return fqdn;
    }
    default:
      *valid = 0;
      return NULL;
  }
}

/*
 * GetComputerNameExW as Learn documents it (nf-sysinfoapi-getcomputernameexw) and ReactOS's
 * conformance test checks it on Windows (modules/rostests/apitests/kernel32/GetComputerNameEx.c):
 * nSize NULL, or lpBuffer NULL with a non-zero *nSize: FALSE, ERROR_INVALID_PARAMETER, *nSize
 * untouched; a buffer too small (or NULL with *nSize 0): FALSE, ERROR_MORE_DATA, *nSize = the size
 * needed including the NUL (a DNS name's buffer, when it has room, gets an empty string); else
 * TRUE, the name and its NUL copied, *nSize = its length without the NUL.
 */
DOUBLE_EXPORT BOOL DOUBLE_CALL K32(GetComputerNameExW)(int NameType, LPWSTR lpBuffer, DWORD *nSize) {
  if (!nSize || (!lpBuffer && *nSize != 0)) { set_last_error(DBL_ERROR_INVALID_PARAMETER); return FALSE; }
  int valid;
  LOCK();
  WCHAR16 *name = computer_name_ex(NameType, &valid);
  UNLOCK();
  if (!valid) { set_last_error(DBL_ERROR_INVALID_PARAMETER); return FALSE; }
  if (!name) { set_last_error(DBL_ERROR_NOT_ENOUGH_MEMORY); return FALSE; }
  size_t n = len16(name);
  BOOL ok = FALSE;
  if (!lpBuffer || *nSize < n + 1) {
    int netbios = NameType == DBL_ComputerNameNetBIOS || NameType == DBL_ComputerNamePhysicalNetBIOS;
    if (lpBuffer && *nSize > 0 && n > 0 && !netbios) lpBuffer[0] = 0;
    *nSize = (DWORD)(n + 1);
  } else {
    memcpy(lpBuffer, name, (n + 1) * sizeof(WCHAR16));
    *nSize = (DWORD)n;
    ok = TRUE;
  }
  free(name);
  if (!ok) set_last_error(DBL_ERROR_MORE_DATA);
  return ok;
}

/* ---- netapi32 ------------------------------------------------------------------------------ */

/*
 * NetServerGetInfo (Learn, nf-lmserver-netservergetinfo): servername NULL is the local server; a
 * name (with or without a leading \\) or alias names a farm server. Level 101 only (another
 * level: ERROR_INVALID_LEVEL 124; bufptr NULL: ERROR_INVALID_PARAMETER 87, assumed). The result
 * is the NET_API_STATUS (NERR_Success 0), not the last error. An unknown or unreachable server
 * fails with 1722 (the double's choice, as the mock's; the library does not look at the code).
 * The buffer is a tracked SERVER_INFO_101 (its name a tracked child), for NetApiBufferFree only.
 * sv101_version_major carries a bit above the four version bits (0x40): a reader that forgets
 * MAJOR_VERSION_MASK reads a wrong version (a test device, not a claim about Windows' type bits).
 */
DOUBLE_EXPORT NET_API_STATUS DOUBLE_CALL NetServerGetInfo(LMSTR servername, DWORD level, LPBYTE *bufptr) {
  DWORD delay = 0;
  LOCK();
  g_calls[DBL_API_VERSION]++;
  const WCHAR16 *name = (const WCHAR16 *)servername;
  while (name && name[0] == '\\') name++;
  int s = (!name || !name[0]) ? g_local : find_server(name);
  if (s >= 0) delay = g_servers[s].latency_ms[DBL_API_VERSION];
  UNLOCK();
  if (delay) sleep_ms(delay);
  if (!bufptr) return DBL_ERROR_INVALID_PARAMETER;
  *bufptr = NULL;
  if (level != 101) return DBL_ERROR_INVALID_LEVEL;
  NET_API_STATUS status = DBL_NERR_Success;
  LOCK();
  if (s < 0 || s >= (int)g_server_count || g_servers[s].unreachable) {
    status = DBL_RPC_S_SERVER_UNAVAILABLE;
  } else {
    Server *server = &g_servers[s];
    DWORD fault = fault_for(server, DBL_API_VERSION, ANY_SESSION_KEY);
    SERVER_INFO_101 *info = fault ? NULL : (SERVER_INFO_101 *)calloc(1, sizeof(SERVER_INFO_101));
    Alloc *a = info ? track(info, ALLOC_NETAPI, 1) : NULL;
    if (fault) {
      status = fault;
    } else if (!a) {
      free(info);
      status = DBL_ERROR_NOT_ENOUGH_MEMORY;
    } else {
      LPWSTR copy = NULL;
      info->sv101_platform_id = DBL_PLATFORM_ID_NT;
      info->sv101_version_major = (server->version_major & DBL_MAJOR_VERSION_MASK) | 0x40u;
      info->sv101_version_minor = server->version_minor;
      info->sv101_type = 0x3; /* SV_TYPE_WORKSTATION | SV_TYPE_SERVER (Learn's SERVER_INFO_101) */
      if (!child_string(a, server->name, &copy)) {
        size_t index;
        if (find_alloc(info, &index)) release(index);
        status = DBL_ERROR_NOT_ENOUGH_MEMORY;
      } else {
        info->sv101_name = (LMSTR)copy;
        *bufptr = (LPBYTE)info;
      }
    }
  }
  UNLOCK();
  return status;
}

/* NetApiBufferFree (Learn, nf-lmapibuf-netapibufferfree): NULL is allowed (_Frees_ptr_opt_); a
   buffer that is not a netapi32 one (a WTS buffer, or freed twice) is a bad free. */
DOUBLE_EXPORT NET_API_STATUS DOUBLE_CALL NetApiBufferFree(LPVOID Buffer) {
  if (!Buffer) return DBL_NERR_Success;
  NET_API_STATUS status = DBL_NERR_Success;
  LOCK();
  g_calls[DBL_API_FREE]++;
  size_t index;
  Alloc *a = find_alloc(Buffer, &index);
  if (!a || a->kind != ALLOC_NETAPI) {
    g_bad_frees++;
    status = DBL_ERROR_INVALID_PARAMETER;
  } else {
    release(index);
  }
  UNLOCK();
  return status;
}

#if !defined(_WIN32)
DOUBLE_EXPORT DWORD DOUBLE_CALL GetCurrentProcessId(void) { return current_pid(); }
DOUBLE_EXPORT DWORD DOUBLE_CALL GetLastError(void) { return (DWORD)errno; }
DOUBLE_EXPORT void DOUBLE_CALL SetLastError(DWORD code) { set_last_error(code); }
#endif

/* ---- control surface ----------------------------------------------------------------------- */

DOUBLE_EXPORT void WtsDouble_Reset(void) {
  LOCK();
  /* Pending waits fail: their servers are gone (1722, as a call on a handle to a gone server). */
  end_waits(1, 0, DBL_RPC_S_SERVER_UNAVAILABLE);
  for (size_t i = 0; i < g_server_count; i++) {
    for (size_t j = 0; j < g_servers[i].session_count; j++) free_session(&g_servers[i].sessions[j]);
    free(g_servers[i].sessions);
    free(g_servers[i].faults);
    for (size_t j = 0; j < g_servers[i].account_count; j++) { free(g_servers[i].accounts[j].name); free(g_servers[i].accounts[j].domain); }
    free(g_servers[i].accounts);
    free(g_servers[i].name);
    for (size_t j = 0; j < g_servers[i].alias_count; j++) free(g_servers[i].aliases[j]);
    free(g_servers[i].aliases);
  }
  free(g_servers);
  g_servers = NULL;
  g_server_count = g_server_cap = 0;
  g_local = -1;
  free(g_dns_host);
  free(g_dns_domain);
  g_dns_host = g_dns_domain = NULL;
  g_closing_polls = 1;
  /* Handles left open stay counted as open (a leak the tests must see); their servers are gone. */
  for (size_t i = 0; i < g_handle_count; i++) g_handles[i].server = -1;
  memset(g_calls, 0, sizeof(g_calls));
  UNLOCK();
}

/* Forgets leaked handles and buffers and zeroes the counters (between test files); waits left
   pending fail with 6 (their handles are forgotten), so no thread stays blocked. */
DOUBLE_EXPORT void WtsDouble_ClearLeaks(void) {
  LOCK();
  end_waits(1, 0, DBL_ERROR_INVALID_HANDLE);
  for (size_t i = 0; i < g_handle_count; i++) free(g_handles[i].name);
  free(g_handles);
  g_handles = NULL;
  g_handle_count = g_handle_cap = 0;
  while (g_alloc_count) release(g_alloc_count - 1);
  g_bad_frees = 0;
  g_closed_under_call = 0;
  UNLOCK();
}

DOUBLE_EXPORT int WtsDouble_AddServer(const WCHAR16 *name, DWORD consoleSessionId, DWORD currentSessionId,
                                      DWORD latencyMs, int unreachable) {
  int ok = 0;
  LOCK();
  if (name && name[0] && find_server(name) < 0 &&
      grow((void **)&g_servers, &g_server_cap, g_server_count + 1, sizeof(Server))) {
    Server *s = &g_servers[g_server_count];
    memset(s, 0, sizeof(*s));
    s->name = dup16(name);
    if (s->name) {
      s->console_id = consoleSessionId;
      s->current_id = currentSessionId;
      s->version_major = 10;
      s->version_minor = 0;
      for (int api = 0; api < DBL_API_COUNT; api++) s->latency_ms[api] = latencyMs;
      s->unreachable = unreachable;
      g_server_count++;
      /* Handles opened before the server existed now reach it, as a name resolves. */
      for (size_t i = 0; i < g_handle_count; i++)
        if (g_handles[i].open && g_handles[i].server < 0 && equal_nocase16(g_handles[i].name, name))
          g_handles[i].server = (int)g_server_count - 1;
      ok = 1;
    }
  }
  UNLOCK();
  return ok;
}

DOUBLE_EXPORT int WtsDouble_SetLocalServer(const WCHAR16 *name) {
  LOCK();
  int s = find_server(name);
  if (s >= 0) g_local = s;
  UNLOCK();
  return s >= 0;
}

/* Another name of a server (a DNS name, an address): WTSOpenServerW under it opens that server.
   Fails when the name already names a server. */
DOUBLE_EXPORT int WtsDouble_AddAlias(const WCHAR16 *server, const WCHAR16 *alias) {
  int ok = 0;
  LOCK();
  int index = find_server(server);
  if (index >= 0 && alias && alias[0] && find_server(alias) < 0) {
    Server *srv = &g_servers[index];
    WCHAR16 *copy = dup16(alias);
    WCHAR16 **moved = copy ? (WCHAR16 **)realloc(srv->aliases, (srv->alias_count + 1) * sizeof(WCHAR16 *)) : NULL;
    if (moved) {
      srv->aliases = moved;
      srv->aliases[srv->alias_count++] = copy;
      /* Handles opened under this name before now reach the server, as a name resolves. */
      for (size_t i = 0; i < g_handle_count; i++)
        if (g_handles[i].open && g_handles[i].server < 0 && equal_nocase16(g_handles[i].name, alias)) g_handles[i].server = index;
      ok = 1;
    } else {
      free(copy);
    }
  }
  UNLOCK();
  return ok;
}

/* The local machine's DNS host name and DNS domain, as GetComputerNameExW reports them (NULL or
   empty host: the local server's name; NULL or empty domain: none, FQDN = host name). */
DOUBLE_EXPORT int WtsDouble_SetDnsNames(const WCHAR16 *host, const WCHAR16 *domain) {
  WCHAR16 *h = host && host[0] ? dup16(host) : NULL;
  WCHAR16 *d = domain && domain[0] ? dup16(domain) : NULL;
  if ((host && host[0] && !h) || (domain && domain[0] && !d)) { free(h); free(d); return 0; }
  LOCK();
  free(g_dns_host);
  free(g_dns_domain);
  g_dns_host = h;
  g_dns_domain = d;
  UNLOCK();
  return 1;
}

DOUBLE_EXPORT void WtsDouble_SetClosingPolls(int polls) {
  LOCK();
  g_closing_polls = polls < 0 ? 0 : polls;
  UNLOCK();
}

/* A state a client is attached in (WTS_EVENT_CONNECT on entering one from another). */
static int connected_state(int state) {
  return state == WTSActive || state == WTSConnected || state == WTSConnectQuery || state == WTSShadow;
}

static int same16(const WCHAR16 *a, const WCHAR16 *b) { return len16(a) == len16(b) && (len16(a) == 0 || memcmp(a, b, len16(a) * sizeof(WCHAR16)) == 0); }

/*
 * The events of replacing session `old` by `fresh` (same ID), as the mock computes them
 * (src/backends/mock eventFlags; Learn lists the kinds, not which transitions raise which):
 * another logon (user or domain differ, without case) is LOGOFF for the old user and LOGON for
 * the new one; a state change is STATECHANGE, with DISCONNECT on entering Disconnected and CONNECT
 * on entering a connected state from another; a new WinStation name, same logon and state, RENAME.
 * (The double's PutSession has no logon time: a new logon of the same user is not seen.)
 */
static DWORD put_events(const Session *old, const Session *fresh) {
  int had_user = old->user && old->user[0], has_user = fresh->user && fresh->user[0];
  int same_logon = equal_nocase16(old->user, fresh->user) && equal_nocase16(old->domain, fresh->domain);
  DWORD events = 0;
  if (!same_logon) events |= (had_user ? DBL_WTS_EVENT_LOGOFF : 0) | (has_user ? DBL_WTS_EVENT_LOGON : 0);
  if (old->state != fresh->state) {
    events |= DBL_WTS_EVENT_STATECHANGE;
    if (fresh->state == WTSDisconnected) events |= DBL_WTS_EVENT_DISCONNECT;
    if (connected_state(fresh->state) && !connected_state(old->state)) events |= DBL_WTS_EVENT_CONNECT;
  } else if (same_logon && !same16(old->name, fresh->name)) {
    events |= DBL_WTS_EVENT_RENAME;
  }
  return events;
}

/* Adds or replaces a session with its times (FILETIME ticks, 0 = none) and SessionFlags, the lock
   held by the caller. */
static int put_session(const WCHAR16 *server, DWORD id, int state, const WCHAR16 *name, const WCHAR16 *user,
                       const WCHAR16 *domain, const WCHAR16 *clientName, DWORD addressFamily, const BYTE *address,
                       DWORD messageResponse, long long logon, long long connect, long long disconnect,
                       long long lastInput, LONG lockFlags) {
  int ok = 0;
  int index = find_server(server);
  if (index >= 0 && state >= 0 && state <= 9) {
    Server *srv = &g_servers[index];
    Session fresh;
    memset(&fresh, 0, sizeof(fresh));
    fresh.id = id;
    fresh.state = state;
    fresh.name = dup16(name);
    fresh.user = dup16(user);
    fresh.domain = dup16(domain);
    fresh.client_name = dup16(clientName);
    fresh.address_family = addressFamily;
    if (address) memcpy(fresh.address, address, 20);
    fresh.message_response = messageResponse;
    fresh.closing = -1;
    fresh.logon_time = logon; fresh.connect_time = connect; fresh.disconnect_time = disconnect; fresh.last_input_time = lastInput;
    fresh.lock_flags = lockFlags;
    DWORD events = 0;
    if (fresh.name && fresh.user && fresh.domain && fresh.client_name) {
      Session *existing = find_session(srv, id);
      if (existing) {
        events = put_events(existing, &fresh);
        free_session(existing);
        *existing = fresh;
        ok = 1;
      } else if (grow((void **)&srv->sessions, &srv->session_cap, srv->session_count + 1, sizeof(Session))) {
        srv->sessions[srv->session_count++] = fresh;
        events = DBL_WTS_EVENT_CREATE | (fresh.user[0] ? DBL_WTS_EVENT_LOGON : 0);
        ok = 1;
      }
    }
    if (!ok) free_session(&fresh);
    else if (events) raise_events(index, events);
  }
  return ok;
}

DOUBLE_EXPORT int WtsDouble_PutSession(const WCHAR16 *server, DWORD id, int state, const WCHAR16 *name,
                                       const WCHAR16 *user, const WCHAR16 *domain, const WCHAR16 *clientName,
                                       DWORD addressFamily, const BYTE *address, DWORD messageResponse) {
  LOCK();
  int ok = put_session(server, id, state, name, user, domain, clientName, addressFamily, address, messageResponse, 0, 0,
                       0, 0, DBL_WTS_SESSIONSTATE_UNLOCK);
  UNLOCK();
  return ok;
}

/* PutSession with the session's times (FILETIMEs, 0 = none) and its SessionFlags, all under one
   lock: a query running on another thread never sees the session between the two (a test that put
   the session, then its times, let a concurrent WTSSessionInfo read a logon time of 0). */
DOUBLE_EXPORT int WtsDouble_PutSessionFull(const WCHAR16 *server, DWORD id, int state, const WCHAR16 *name,
                                           const WCHAR16 *user, const WCHAR16 *domain, const WCHAR16 *clientName,
                                           DWORD addressFamily, const BYTE *address, DWORD messageResponse,
                                           long long logon, long long connect, long long disconnect,
                                           long long lastInput, LONG lockFlags) {
  LOCK();
  int ok = put_session(server, id, state, name, user, domain, clientName, addressFamily, address, messageResponse, logon,
                       connect, disconnect, lastInput, lockFlags);
  UNLOCK();
  return ok;
}

DOUBLE_EXPORT int WtsDouble_PutProcess(const WCHAR16 *server, DWORD sessionId, DWORD pid, const WCHAR16 *name) {
  int ok = 0;
  LOCK();
  int index = find_server(server);
  Session *s = index >= 0 ? find_session(&g_servers[index], sessionId) : NULL;
  if (s) {
    Process *moved = (Process *)realloc(s->processes, (s->process_count + 1) * sizeof(Process));
    WCHAR16 *copy = dup16(name);
    if (moved) s->processes = moved;
    if (moved && copy) {
      Process *p = &s->processes[s->process_count];
      memset(p, 0, sizeof(*p));
      p->pid = pid;
      p->name = copy;
      p->sid_len = default_sid(sessionId, p->sid);
      s->process_count++;
      ok = 1;
    } else {
      free(copy);
    }
  }
  UNLOCK();
  return ok;
}

/* The process with this PID on a server (any session), or NULL. */
static Process *find_process(Server *server, DWORD pid) {
  for (size_t i = 0; i < server->session_count; i++) {
    Session *s = &server->sessions[i];
    for (size_t j = 0; j < s->process_count; j++) if (s->processes[j].pid == pid) return &s->processes[j];
  }
  return NULL;
}

/* A process's owner (sid NULL or sidLength 0: pUserSid NULL; else a valid binary SID) and its
   WTS_PROCESS_INFO_EXW counters. Fails for an unknown server or PID, or a SID that is not valid. */
DOUBLE_EXPORT int WtsDouble_SetProcessInfo(const WCHAR16 *server, DWORD pid, const BYTE *sid, DWORD sidLength, DWORD threads,
                                           DWORD handles, DWORD pagefile, DWORD peakPagefile, DWORD workingSet,
                                           DWORD peakWorkingSet, long long userTime, long long kernelTime) {
  int ok = 0;
  if (sid && sidLength && !valid_sid(sid, sidLength)) return 0;
  LOCK();
  int index = find_server(server);
  Process *p = index >= 0 ? find_process(&g_servers[index], pid) : NULL;
  if (p) {
    p->sid_len = sid ? sidLength : 0;
    if (p->sid_len) memcpy(p->sid, sid, sidLength);
    p->threads = threads; p->handles = handles; p->pagefile = pagefile; p->peak_pagefile = peakPagefile;
    p->working_set = workingSet; p->peak_working_set = peakWorkingSet;
    p->user_time = userTime; p->kernel_time = kernelTime;
    ok = 1;
  }
  UNLOCK();
  return ok;
}

/* An account LookupAccountSidW resolves on a server: the SID (valid, binary), its name, domain
   and SID_NAME_USE. A SID put again replaces its account. */
DOUBLE_EXPORT int WtsDouble_PutAccount(const WCHAR16 *server, const BYTE *sid, DWORD sidLength, const WCHAR16 *name,
                                       const WCHAR16 *domain, int use) {
  int ok = 0;
  if (!valid_sid(sid, sidLength) || !name) return 0;
  WCHAR16 *n = dup16(name), *d = dup16(domain);
  LOCK();
  int index = find_server(server);
  if (index >= 0 && n && d) {
    Server *srv = &g_servers[index];
    Account *found = NULL;
    for (size_t i = 0; i < srv->account_count; i++)
      if (srv->accounts[i].sid_len == sidLength && memcmp(srv->accounts[i].sid, sid, sidLength) == 0) found = &srv->accounts[i];
    if (!found) {
      Account *moved = (Account *)realloc(srv->accounts, (srv->account_count + 1) * sizeof(Account));
      if (moved) {
        srv->accounts = moved;
        found = &srv->accounts[srv->account_count++];
        memset(found, 0, sizeof(*found));
      }
    } else {
      free(found->name);
      free(found->domain);
    }
    if (found) {
      found->sid_len = sidLength;
      memcpy(found->sid, sid, sidLength);
      found->name = n;
      found->domain = d;
      found->use = use;
      n = d = NULL;
      ok = 1;
    }
  }
  UNLOCK();
  free(n);
  free(d);
  return ok;
}

DOUBLE_EXPORT int WtsDouble_SetSessionTimes(const WCHAR16 *server, DWORD id, long long logon, long long connect,
                                            long long disconnect, long long lastInput) {
  int ok = 0;
  LOCK();
  int index = find_server(server);
  Session *s = index >= 0 ? find_session(&g_servers[index], id) : NULL;
  if (s) {
    s->logon_time = logon; s->connect_time = connect; s->disconnect_time = disconnect; s->last_input_time = lastInput;
    ok = 1;
  }
  UNLOCK();
  return ok;
}

/* A session's lock state as Windows 8 and later report SessionFlags (0 LOCK, 1 UNLOCK,
   0xFFFFFFFF UNKNOWN, or any other value to see how a reader takes it); a 6.1 server reports the
   first two swapped. PutSession resets it to UNLOCK. */
DOUBLE_EXPORT int WtsDouble_SetSessionLock(const WCHAR16 *server, DWORD id, LONG flags) {
  int ok = 0;
  LOCK();
  int index = find_server(server);
  Session *s = index >= 0 ? find_session(&g_servers[index], id) : NULL;
  if (s) {
    s->lock_flags = flags;
    ok = 1;
  }
  UNLOCK();
  return ok;
}

/* The Windows version NetServerGetInfo reports for a server (default 10.0). Major 0 to 15: the
   bits SERVER_INFO_101 keeps it in. */
DOUBLE_EXPORT int WtsDouble_SetServerVersion(const WCHAR16 *server, DWORD major, DWORD minor) {
  int ok = 0;
  LOCK();
  int index = find_server(server);
  if (index >= 0 && major <= DBL_MAJOR_VERSION_MASK) {
    g_servers[index].version_major = major;
    g_servers[index].version_minor = minor;
    ok = 1;
  }
  UNLOCK();
  return ok;
}

/* Sets (code != 0) or clears (code == 0) a fault; key 0xFFFFFFFF = any session. */
DOUBLE_EXPORT int WtsDouble_SetFault(const WCHAR16 *server, int api, DWORD key, DWORD code) {
  int ok = 0;
  LOCK();
  int index = find_server(server);
  if (index >= 0 && api >= 0 && api < DBL_API_COUNT) {
    Server *srv = &g_servers[index];
    size_t i = 0;
    while (i < srv->fault_count && !(srv->faults[i].api == api && srv->faults[i].key == key)) i++;
    if (code == 0) {
      if (i < srv->fault_count) srv->faults[i] = srv->faults[--srv->fault_count];
      ok = 1;
    } else if (i < srv->fault_count) {
      srv->faults[i].code = code;
      ok = 1;
    } else if (grow((void **)&srv->faults, &srv->fault_cap, srv->fault_count + 1, sizeof(Fault))) {
      Fault f = { api, key, code };
      srv->faults[srv->fault_count++] = f;
      ok = 1;
    }
    /* A fault on the wait also ends the waits pending on the server (the connection dropped). */
    if (ok && code != 0 && api == DBL_API_WAIT) fail_server_waits(index, code);
  }
  UNLOCK();
  return ok;
}

/* Latency in ms for one API on a server (api -1: every API). */
DOUBLE_EXPORT int WtsDouble_SetLatency(const WCHAR16 *server, int api, DWORD ms) {
  int ok = 0;
  LOCK();
  int index = find_server(server);
  if (index >= 0 && api >= -1 && api < DBL_API_COUNT) {
    for (int a = 0; a < DBL_API_COUNT; a++) if (api == -1 || api == a) g_servers[index].latency_ms[a] = ms;
    ok = 1;
  }
  UNLOCK();
  return ok;
}

DOUBLE_EXPORT long WtsDouble_OutstandingAllocations(void) {
  LOCK();
  long n = (long)g_alloc_count;
  UNLOCK();
  return n;
}

DOUBLE_EXPORT long WtsDouble_OpenHandles(void) {
  long n = 0;
  LOCK();
  for (size_t i = 0; i < g_handle_count; i++) n += g_handles[i].open;
  UNLOCK();
  return n;
}

DOUBLE_EXPORT long WtsDouble_BadFrees(void) {
  LOCK();
  long n = g_bad_frees;
  UNLOCK();
  return n;
}

DOUBLE_EXPORT long WtsDouble_ClosedUnderCall(void) {
  LOCK();
  long n = g_closed_under_call;
  UNLOCK();
  return n;
}

DOUBLE_EXPORT long WtsDouble_CallCount(int api) {
  long n = 0;
  LOCK();
  if (api >= 0 && api < DBL_API_COUNT) n = g_calls[api];
  UNLOCK();
  return n;
}

/* Ends a session at once, no closing phase (its user logged off from inside it, or the session
   manager deleted it): WTS_EVENT_DELETE, and WTS_EVENT_LOGOFF when it had a user. */
DOUBLE_EXPORT int WtsDouble_RemoveSession(const WCHAR16 *server, DWORD id) {
  LOCK();
  int index = find_server(server);
  Session *s = index >= 0 ? find_session(&g_servers[index], id) : NULL;
  if (s) remove_session(&g_servers[index], s);
  UNLOCK();
  return s != NULL;
}

/* Events of the kinds in `flags` happen on a server (WTS_EVENT_FLUSH is not an event: ignored). */
DOUBLE_EXPORT int WtsDouble_RaiseEvent(const WCHAR16 *server, DWORD flags) {
  LOCK();
  int index = find_server(server);
  if (index >= 0) raise_events(index, flags);
  UNLOCK();
  return index >= 0;
}

/* Threads blocked in WTSWaitSystemEvent right now (woken ones count until they have returned). */
DOUBLE_EXPORT long WtsDouble_PendingWaits(void) {
  long n = 0;
  LOCK();
  for (Waiter *w = g_waiters; w; w = w->next) n++;
  UNLOCK();
  return n;
}

/* Sizes and offsets of the structs as this build sees them (the Wine suite compares them with koffi's). */
DOUBLE_EXPORT int WtsDouble_Layout(int which, int field) {
#define OFF(T, F) (int)offsetof(T, F)
  switch (which) {
    case 0: { /* WTS_SESSION_INFO_1W */
      int v[] = { (int)sizeof(WTS_SESSION_INFO_1W), OFF(WTS_SESSION_INFO_1W, ExecEnvId), OFF(WTS_SESSION_INFO_1W, State),
                  OFF(WTS_SESSION_INFO_1W, SessionId), OFF(WTS_SESSION_INFO_1W, pSessionName), OFF(WTS_SESSION_INFO_1W, pHostName),
                  OFF(WTS_SESSION_INFO_1W, pUserName), OFF(WTS_SESSION_INFO_1W, pDomainName), OFF(WTS_SESSION_INFO_1W, pFarmName) };
      return field >= 0 && field < 9 ? v[field] : -1;
    }
    case 1: { /* WTS_SESSION_INFOW */
      int v[] = { (int)sizeof(WTS_SESSION_INFOW), OFF(WTS_SESSION_INFOW, SessionId), OFF(WTS_SESSION_INFOW, pWinStationName),
                  OFF(WTS_SESSION_INFOW, State) };
      return field >= 0 && field < 4 ? v[field] : -1;
    }
    case 2: { /* WTS_CLIENT_ADDRESS */
      int v[] = { (int)sizeof(WTS_CLIENT_ADDRESS), OFF(WTS_CLIENT_ADDRESS, AddressFamily), OFF(WTS_CLIENT_ADDRESS, Address) };
      return field >= 0 && field < 3 ? v[field] : -1;
    }
    case 3: { /* WTSINFOW */
      int v[] = { (int)sizeof(WTSINFOW), OFF(WTSINFOW, State), OFF(WTSINFOW, SessionId), OFF(WTSINFOW, IncomingBytes),
                  OFF(WTSINFOW, OutgoingBytes), OFF(WTSINFOW, IncomingFrames), OFF(WTSINFOW, OutgoingFrames),
                  OFF(WTSINFOW, IncomingCompressedBytes), OFF(WTSINFOW, OutgoingCompressedBytes), OFF(WTSINFOW, WinStationName),
                  OFF(WTSINFOW, Domain), OFF(WTSINFOW, UserName), OFF(WTSINFOW, ConnectTime), OFF(WTSINFOW, DisconnectTime),
                  OFF(WTSINFOW, LastInputTime), OFF(WTSINFOW, LogonTime), OFF(WTSINFOW, CurrentTime) };
      return field >= 0 && field < 17 ? v[field] : -1;
    }
    case 4: { /* WTS_PROCESS_INFOW */
      int v[] = { (int)sizeof(WTS_PROCESS_INFOW), OFF(WTS_PROCESS_INFOW, SessionId), OFF(WTS_PROCESS_INFOW, ProcessId),
                  OFF(WTS_PROCESS_INFOW, pProcessName), OFF(WTS_PROCESS_INFOW, pUserSid) };
      return field >= 0 && field < 5 ? v[field] : -1;
    }
    case 5: { /* WTSCLIENTW */
      int v[] = { (int)sizeof(WTSCLIENTW), OFF(WTSCLIENTW, ClientName), OFF(WTSCLIENTW, Domain), OFF(WTSCLIENTW, UserName),
                  OFF(WTSCLIENTW, WorkDirectory), OFF(WTSCLIENTW, InitialProgram), OFF(WTSCLIENTW, EncryptionLevel),
                  OFF(WTSCLIENTW, ClientAddressFamily), OFF(WTSCLIENTW, ClientAddress), OFF(WTSCLIENTW, HRes), OFF(WTSCLIENTW, VRes),
                  OFF(WTSCLIENTW, ColorDepth), OFF(WTSCLIENTW, ClientDirectory), OFF(WTSCLIENTW, ClientBuildNumber),
                  OFF(WTSCLIENTW, ClientHardwareId), OFF(WTSCLIENTW, ClientProductId), OFF(WTSCLIENTW, OutBufCountHost),
                  OFF(WTSCLIENTW, OutBufCountClient), OFF(WTSCLIENTW, OutBufLength), OFF(WTSCLIENTW, DeviceId) };
      return field >= 0 && field < 20 ? v[field] : -1;
    }
    case 6: { /* WTSINFOEXW */
      int v[] = { (int)sizeof(DBL_WTSINFOEXW), OFF(DBL_WTSINFOEXW, Level), OFF(DBL_WTSINFOEXW, Data) };
      return field >= 0 && field < 3 ? v[field] : -1;
    }
    case 7: { /* WTSINFOEX_LEVEL1_W */
      typedef DBL_WTSINFOEX_LEVEL1_W L1;
      int v[] = { (int)sizeof(L1), OFF(L1, SessionId), OFF(L1, SessionState), OFF(L1, SessionFlags), OFF(L1, WinStationName),
                  OFF(L1, UserName), OFF(L1, DomainName), OFF(L1, LogonTime), OFF(L1, ConnectTime), OFF(L1, DisconnectTime),
                  OFF(L1, LastInputTime), OFF(L1, CurrentTime), OFF(L1, IncomingBytes), OFF(L1, OutgoingBytes),
                  OFF(L1, IncomingFrames), OFF(L1, OutgoingFrames), OFF(L1, IncomingCompressedBytes), OFF(L1, OutgoingCompressedBytes) };
      return field >= 0 && field < 18 ? v[field] : -1;
    }
    case 8: { /* SERVER_INFO_101 */
      int v[] = { (int)sizeof(SERVER_INFO_101), OFF(SERVER_INFO_101, sv101_platform_id), OFF(SERVER_INFO_101, sv101_name),
                  OFF(SERVER_INFO_101, sv101_version_major), OFF(SERVER_INFO_101, sv101_version_minor), OFF(SERVER_INFO_101, sv101_type),
                  OFF(SERVER_INFO_101, sv101_comment) };
      return field >= 0 && field < 7 ? v[field] : -1;
    }
    case 9: { /* WTS_PROCESS_INFO_EXW */
      int v[] = { (int)sizeof(DBL_WTS_PROCESS_INFO_EXW), OFF(DBL_WTS_PROCESS_INFO_EXW, SessionId), OFF(DBL_WTS_PROCESS_INFO_EXW, ProcessId),
                  OFF(DBL_WTS_PROCESS_INFO_EXW, pProcessName), OFF(DBL_WTS_PROCESS_INFO_EXW, pUserSid),
                  OFF(DBL_WTS_PROCESS_INFO_EXW, NumberOfThreads), OFF(DBL_WTS_PROCESS_INFO_EXW, HandleCount),
                  OFF(DBL_WTS_PROCESS_INFO_EXW, PagefileUsage), OFF(DBL_WTS_PROCESS_INFO_EXW, PeakPagefileUsage),
                  OFF(DBL_WTS_PROCESS_INFO_EXW, WorkingSetSize), OFF(DBL_WTS_PROCESS_INFO_EXW, PeakWorkingSetSize),
                  OFF(DBL_WTS_PROCESS_INFO_EXW, UserTime), OFF(DBL_WTS_PROCESS_INFO_EXW, KernelTime) };
      return field >= 0 && field < 13 ? v[field] : -1;
    }
    default:
      return -1;
  }
#undef OFF
}
