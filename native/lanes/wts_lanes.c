/*
 * wts_lanes: threads that wts-session owns, for the Win32 calls that block.
 *
 * koffi's `.async` runs a call on libuv's thread pool: 4 threads by default, shared by the whole
 * process (fs, dns, zlib, crypto) and sized once, at first use. A WTS call to a dead server holds
 * its thread for the RPC timeout (tens of seconds), and a WTSWaitSystemEvent holds it until
 * something happens. So the library runs those calls here instead: one native thread per lane,
 * each running one call at a time, started and stopped by the library (src/backends/koffi/lanes.ts
 * decides how many, and accounts for the ones held by stuck calls).
 *
 * The contract is deliberately tiny and generic, so the policy stays in TypeScript:
 *   - lanes_symbol(library, name): the address of a function (LoadLibraryW + GetProcAddress, or
 *     dlopen + dlsym), for the wtsapi32 that koffi loaded (the system's, or the test double).
 *   - lanes_group(done): a group of lanes reporting to `done`, a koffi-registered callback; koffi
 *     relays a call made from another thread to the JS thread that registered it. A lane never
 *     calls `done` itself: it puts its finished job on the group's list and goes back to waiting
 *     for work; the group's relay thread calls done() once for everything finished so far, and JS
 *     takes the list with lanes_drain(group, ids, capacity). (One blocking hand-back per call,
 *     each a round trip between two threads, cost about 2 ms per round of 64 calls.)
 *     lanes_group_close(group): the group's JS environment is going away (process exit): from now
 *     on its relay thread never calls `done` (there would be nobody to relay to).
 *   - lanes_start(group): a new thread of the group, waiting for work.
 *   - lanes_post(lane, job): run job->fn(job->args[0..argc-1]) on the lane's thread, then read
 *     job->last_error_fn() (GetLastError) at once on that same thread, store both in the job, and
 *     report job->id as finished. The job and every buffer its arguments point at belong to the
 *     caller until lanes_drain hands that id back.
 *   - lanes_stop(lane), for an idle lane (no job posted, or its last id drained): the thread
 *     exits and frees the lane. The caller never uses the lane again (not even lanes_stop).
 *     (Stopping a lane whose id is not drained yet would free it while it is on the finished
 *     list, and lanes_drain would read it: lanes.ts never does, test/native/lanes-stress.c neither.)
 *
 * Every argument is passed as a pointer-sized integer: DWORDs, BOOLs, handles and pointers alike
 * (each is at most pointer-sized and passed in one integer slot under both the x64 and the x86
 * stdcall conventions). The call is made through a prototype with exactly argc such arguments, so
 * a __stdcall callee on x86 pops exactly what was pushed.
 *
 * Not part of the published package as source: the Windows builds are prebuilt
 * (prebuilds/win32-<arch>/wts_lanes.dll, scripts/build-lanes.js); the Linux build exists only to
 * run the koffi backend against the C double of wtsapi32 in tests.
 */
#include <stdint.h>
#include <stdlib.h>

#ifdef _WIN32
#include <windows.h>
#define LANES_EXPORT __declspec(dllexport)
#define LANES_CALL WINAPI
#else
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#define LANES_EXPORT __attribute__((visibility("default")))
#define LANES_CALL
#endif

#define LANES_MAX_ARGS 10

/* Shared with src/backends/koffi/lanes.ts (LANE_JOB): every field 8 bytes wide, no padding. */
typedef struct LaneJob {
  uint64_t fn;            /* the function to call */
  uint64_t last_error_fn; /* DWORD GetLastError(void), read right after fn returns */
  uint64_t argc;
  uint64_t id;            /* handed back to done() */
  uint64_t args[LANES_MAX_ARGS];
  uint64_t result;        /* fn's return register, zero-extended from uintptr_t */
  uint64_t last_error;
} LaneJob;

typedef void (*DoneFn)(uint32_t id);

#ifdef _WIN32
typedef CRITICAL_SECTION Mutex;
typedef CONDITION_VARIABLE Cond;
#define MUTEX_INIT(m) InitializeCriticalSection(m)
#define MUTEX_LOCK(m) EnterCriticalSection(m)
#define MUTEX_UNLOCK(m) LeaveCriticalSection(m)
#define COND_INIT(c) InitializeConditionVariable(c)
#define COND_WAIT(c, m) SleepConditionVariableCS(c, m, INFINITE)
#define COND_SIGNAL(c) WakeConditionVariable(c)
#else
typedef pthread_mutex_t Mutex;
typedef pthread_cond_t Cond;
#define MUTEX_INIT(m) pthread_mutex_init(m, NULL)
#define MUTEX_LOCK(m) pthread_mutex_lock(m)
#define MUTEX_UNLOCK(m) pthread_mutex_unlock(m)
#define COND_INIT(c) pthread_cond_init(c, NULL)
#define COND_WAIT(c, m) pthread_cond_wait(c, m)
#define COND_SIGNAL(c) pthread_cond_signal(c)
#endif

/*
 * Relays in flight, process-wide. Each call of `done` from a lane's thread takes one of koffi's
 * async slots (max_async_calls, 256 by default, for the whole process) until the JS thread has run
 * it; a relay that finds none fails on the lane's thread, which crashes the process. However many
 * lanes and backends there are, at most `g_relay_limit` relay at once; the others wait their turn.
 */
static Mutex g_relay_lock;
static Cond g_relay_free;
static int g_relay_limit = 64; /* until lanes_relay_limit says */
static int g_relay_limit_set = 0;
static int g_relays = 0;

typedef struct Lane Lane;

typedef struct Group {
  DoneFn done;
  volatile int closed; /* written under both g_relay_lock and lock; read under either */
  /* The lanes whose job finished and that JS has not drained yet, oldest first: under `lock`. */
  Mutex lock;
  Cond finished;
  Lane *head, *tail;
} Group;

static void init_once(void);

struct Lane {
#ifdef _WIN32
  CRITICAL_SECTION lock;
  CONDITION_VARIABLE wake;
#else
  pthread_mutex_t lock;
  pthread_cond_t wake;
#endif
  LaneJob *job;
  int quit;
  Group *group;
  /* On the group's finished list (under group->lock): the id to hand back, and the next lane.
   * JS stops a lane only once it drained its id, so a listed lane is alive. */
  uint32_t done_id;
  Lane *done_next;
};

typedef uintptr_t(LANES_CALL *F0)(void);
typedef uintptr_t(LANES_CALL *F1)(uintptr_t);
typedef uintptr_t(LANES_CALL *F2)(uintptr_t, uintptr_t);
typedef uintptr_t(LANES_CALL *F3)(uintptr_t, uintptr_t, uintptr_t);
typedef uintptr_t(LANES_CALL *F4)(uintptr_t, uintptr_t, uintptr_t, uintptr_t);
typedef uintptr_t(LANES_CALL *F5)(uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t);
typedef uintptr_t(LANES_CALL *F6)(uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t);
typedef uintptr_t(LANES_CALL *F7)(uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t);
typedef uintptr_t(LANES_CALL *F8)(uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t);
typedef uintptr_t(LANES_CALL *F9)(uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t,
                                  uintptr_t);
typedef uintptr_t(LANES_CALL *F10)(uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t,
                                   uintptr_t, uintptr_t);
typedef uint32_t(LANES_CALL *LastErrorFn)(void);

/* Function pointers travel as integers; the conversion goes through void * (a POSIX guarantee). */
#define FN(type, value) ((type)(void *)(uintptr_t)(value))

static void run(LaneJob *j) {
  uintptr_t a[LANES_MAX_ARGS];
  uintptr_t r = 0;
  for (int i = 0; i < LANES_MAX_ARGS; i++) a[i] = (uintptr_t)j->args[i];
  /* A function that fails without setting an error (a stub: Wine's) must read 0, not what an
   * earlier call on this thread left behind. (The Linux double keeps its last error in errno.) */
#ifdef _WIN32
  SetLastError(0);
#else
  errno = 0;
#endif
  switch (j->argc) {
    case 0: r = FN(F0, j->fn)(); break;
    case 1: r = FN(F1, j->fn)(a[0]); break;
    case 2: r = FN(F2, j->fn)(a[0], a[1]); break;
    case 3: r = FN(F3, j->fn)(a[0], a[1], a[2]); break;
    case 4: r = FN(F4, j->fn)(a[0], a[1], a[2], a[3]); break;
    case 5: r = FN(F5, j->fn)(a[0], a[1], a[2], a[3], a[4]); break;
    case 6: r = FN(F6, j->fn)(a[0], a[1], a[2], a[3], a[4], a[5]); break;
    case 7: r = FN(F7, j->fn)(a[0], a[1], a[2], a[3], a[4], a[5], a[6]); break;
    case 8: r = FN(F8, j->fn)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]); break;
    case 9: r = FN(F9, j->fn)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]); break;
    case 10: r = FN(F10, j->fn)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]); break;
    default:
      j->result = 0;
      j->last_error = 87; /* ERROR_INVALID_PARAMETER: never called */
      return;
  }
  /* Nothing between the call and this read: the thread's last error is the call's. */
  j->last_error = j->last_error_fn ? FN(LastErrorFn, j->last_error_fn)() : 0;
  j->result = (uint64_t)r;
}

#ifdef _WIN32
#define LOCK(l) EnterCriticalSection(&(l)->lock)
#define UNLOCK(l) LeaveCriticalSection(&(l)->lock)
#define WAIT(l) SleepConditionVariableCS(&(l)->wake, &(l)->lock, INFINITE)
#define SIGNAL(l) WakeConditionVariable(&(l)->wake)
#else
#define LOCK(l) pthread_mutex_lock(&(l)->lock)
#define UNLOCK(l) pthread_mutex_unlock(&(l)->lock)
#define WAIT(l) pthread_cond_wait(&(l)->wake, &(l)->lock)
#define SIGNAL(l) pthread_cond_signal(&(l)->wake)
#endif

/* Calls done() (JS drains the list), unless the group is closed; never more than g_relay_limit at once. */
static void relay(Group *group) {
  MUTEX_LOCK(&g_relay_lock);
  while (!group->closed && g_relays >= g_relay_limit) COND_WAIT(&g_relay_free, &g_relay_lock);
  if (group->closed) {
    MUTEX_UNLOCK(&g_relay_lock);
    return;
  }
  g_relays++;
  MUTEX_UNLOCK(&g_relay_lock);
  group->done(0);
  MUTEX_LOCK(&g_relay_lock);
  g_relays--;
  COND_SIGNAL(&g_relay_free);
  MUTEX_UNLOCK(&g_relay_lock);
}

/* The group's relay thread: whenever the finished list is not empty, one done() for all of it. */
static void relay_main(Group *group) {
  for (;;) {
    MUTEX_LOCK(&group->lock);
    while (!group->head && !group->closed) COND_WAIT(&group->finished, &group->lock);
    int closed = group->closed;
    MUTEX_UNLOCK(&group->lock);
    if (closed) return; /* the group is never freed: a lane may still list itself on it */
    relay(group);
  }
}

/* Puts a lane whose job finished on its group's list, and wakes the relay thread. */
static void report(Lane *lane, uint32_t id) {
  Group *group = lane->group;
  MUTEX_LOCK(&group->lock);
  lane->done_id = id;
  lane->done_next = NULL;
  if (group->tail) group->tail->done_next = lane;
  else group->head = lane;
  group->tail = lane;
  COND_SIGNAL(&group->finished);
  MUTEX_UNLOCK(&group->lock);
}

static void lane_main(Lane *lane) {
  for (;;) {
    LOCK(lane);
    while (!lane->job && !lane->quit) WAIT(lane);
    LaneJob *job = lane->job;
    if (!job) { /* quit, and idle */
      UNLOCK(lane);
      break;
    }
    UNLOCK(lane);
    run(job);
    uint32_t id = (uint32_t)job->id; /* the last read of the job: JS may reuse it once drained */
    LOCK(lane);
    lane->job = NULL; /* free before it is reported: JS may post this lane's next job at once */
    UNLOCK(lane);
    report(lane, id);
  }
#ifdef _WIN32
  DeleteCriticalSection(&lane->lock);
#else
  pthread_mutex_destroy(&lane->lock);
  pthread_cond_destroy(&lane->wake);
#endif
  free(lane);
}

#ifdef _WIN32
static DWORD WINAPI lane_thread(LPVOID p) {
  lane_main((Lane *)p);
  return 0;
}
static DWORD WINAPI relay_thread(LPVOID p) {
  relay_main((Group *)p);
  return 0;
}
#else
static void *lane_thread(void *p) {
  lane_main((Lane *)p);
  return NULL;
}
static void *relay_thread(void *p) {
  relay_main((Group *)p);
  return NULL;
}
#endif

/* A detached thread with a small stack running fn(arg); 0 when it could not start. */
static int start_thread(void *fn, void *arg) {
#ifdef _WIN32
  /* 256 KiB of stack reserved (committed as used): the WTS calls and their RPC need far less. */
  HANDLE thread = CreateThread(NULL, 256 * 1024, (LPTHREAD_START_ROUTINE)fn, arg, STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
  if (!thread) return 0;
  CloseHandle(thread); /* detached */
  return 1;
#else
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_t thread;
  int failed = pthread_create(&thread, &attr, (void *(*)(void *))fn, arg);
  pthread_attr_destroy(&attr);
  return !failed;
#endif
}

/*
 * The library stays loaded for as long as the process lives: at exit, Node unloads native modules
 * while lane threads may still be inside a call, and they must return into code that is there.
 */
static void pin_self(void) {
#ifdef _WIN32
  HMODULE self;
  GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN, (LPCWSTR)(void *)&pin_self, &self);
#else
  Dl_info info;
  if (dladdr((void *)&pin_self, &info) && info.dli_fname) dlopen(info.dli_fname, RTLD_NOW | RTLD_NODELETE | RTLD_NOLOAD);
#endif
}

#ifdef _WIN32
static INIT_ONCE g_once = INIT_ONCE_STATIC_INIT;
static BOOL CALLBACK init_body(PINIT_ONCE once, PVOID param, PVOID *context) {
  (void)once, (void)param, (void)context;
  MUTEX_INIT(&g_relay_lock);
  COND_INIT(&g_relay_free);
  pin_self();
  return TRUE;
}
static void init_once(void) { InitOnceExecuteOnce(&g_once, init_body, NULL, NULL); }
#else
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static void init_body(void) {
  MUTEX_INIT(&g_relay_lock);
  COND_INIT(&g_relay_free);
  pin_self();
}
static void init_once(void) { pthread_once(&g_once, init_body); }
#endif

/* At most `limit` relays at once, process-wide (the smallest limit any caller asked for wins). */
LANES_EXPORT void lanes_relay_limit(int32_t limit) {
  init_once();
  if (limit < 1) return;
  MUTEX_LOCK(&g_relay_lock);
  if (!g_relay_limit_set || limit < g_relay_limit) g_relay_limit = limit;
  g_relay_limit_set = 1;
  MUTEX_UNLOCK(&g_relay_lock);
}

LANES_EXPORT void *lanes_group(DoneFn done) {
  init_once();
  if (!done) return NULL;
  Group *group = (Group *)calloc(1, sizeof(Group));
  if (!group) return NULL;
  group->done = done;
  MUTEX_INIT(&group->lock);
  COND_INIT(&group->finished);
  if (!start_thread((void *)relay_thread, group)) {
    free(group); /* nothing else has seen it */
    return NULL;
  }
  return group;
}

/*
 * Takes up to `capacity` finished ids, oldest first, into `ids`; returns how many. Called by JS
 * from done() (and may be called at any time): the relay thread calls done() again while any remain.
 */
LANES_EXPORT int32_t lanes_drain(void *p, uint32_t *ids, int32_t capacity) {
  Group *group = (Group *)p;
  if (!group || !ids || capacity < 1) return 0;
  int32_t n = 0;
  MUTEX_LOCK(&group->lock);
  while (group->head && n < capacity) {
    Lane *lane = group->head;
    group->head = lane->done_next;
    if (!group->head) group->tail = NULL;
    lane->done_next = NULL;
    ids[n++] = lane->done_id;
  }
  MUTEX_UNLOCK(&group->lock);
  return n;
}

/* Never freed: a lane still running may read it. A few bytes per backend, once per process. */
LANES_EXPORT void lanes_group_close(void *p) {
  Group *group = (Group *)p;
  if (!group) return;
  MUTEX_LOCK(&g_relay_lock);
  MUTEX_LOCK(&group->lock); /* the one place both are held: g_relay_lock first */
  group->closed = 1;
  COND_SIGNAL(&group->finished);
  MUTEX_UNLOCK(&group->lock);
  /* The relay thread, waiting for a relay slot or for work, gives up now. */
#ifdef _WIN32
  WakeAllConditionVariable(&g_relay_free);
#else
  pthread_cond_broadcast(&g_relay_free);
#endif
  MUTEX_UNLOCK(&g_relay_lock);
}

LANES_EXPORT void *lanes_start(void *group) {
  init_once();
  if (!group) return NULL;
  Lane *lane = (Lane *)calloc(1, sizeof(Lane));
  if (!lane) return NULL;
  lane->group = (Group *)group;
#ifdef _WIN32
  InitializeCriticalSection(&lane->lock);
  InitializeConditionVariable(&lane->wake);
#else
  pthread_mutex_init(&lane->lock, NULL);
  pthread_cond_init(&lane->wake, NULL);
#endif
  if (!start_thread((void *)lane_thread, lane)) { /* started: the thread frees the lane when it exits */
#ifdef _WIN32
    DeleteCriticalSection(&lane->lock);
#else
    pthread_mutex_destroy(&lane->lock);
    pthread_cond_destroy(&lane->wake);
#endif
    free(lane);
    return NULL;
  }
  return lane;
}

/* 1: posted. 0: refused (no lane, no job, the lane is busy or stopping). */
LANES_EXPORT int lanes_post(void *p, LaneJob *job) {
  Lane *lane = (Lane *)p;
  if (!lane || !job) return 0;
  int posted = 0;
  LOCK(lane);
  if (!lane->job && !lane->quit) {
    lane->job = job;
    posted = 1;
    SIGNAL(lane);
  }
  UNLOCK(lane);
  return posted;
}

LANES_EXPORT void lanes_stop(void *p) {
  Lane *lane = (Lane *)p;
  if (!lane) return;
  LOCK(lane);
  lane->quit = 1;
  SIGNAL(lane);
  UNLOCK(lane);
}

/* The address of `name` in `library` (a path or module name, UTF-8), or 0. */
LANES_EXPORT uint64_t lanes_symbol(const char *library, const char *name) {
  if (!library || !name) return 0;
#ifdef _WIN32
  wchar_t wide[1024];
  if (!MultiByteToWideChar(CP_UTF8, 0, library, -1, wide, 1024)) return 0;
  HMODULE module = LoadLibraryW(wide); /* a reference for as long as the process lives */
  if (!module) return 0;
  return (uint64_t)(uintptr_t)GetProcAddress(module, name);
#else
  void *module = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (!module) return 0;
  return (uint64_t)(uintptr_t)dlsym(module, name);
#endif
}

/* The layout check for lanes.ts: sizeof(LaneJob). */
LANES_EXPORT uint32_t lanes_job_size(void) { return (uint32_t)sizeof(LaneJob); }
