/*
 * A stress test of wts_lanes itself (native/lanes/wts_lanes.c, compiled into this program), run
 * under AddressSanitizer and under ThreadSanitizer by test/native/lanes-stress.test.ts: lanes are
 * posted, drained and stopped at random, a third of them stopped the moment their job is handed
 * back (a lane frees itself when it exits: the race between that and the relay thread, the
 * finished list and the next start). Every job must come back once, with its own result, also one
 * posted after the group is closed; the sanitizers catch a lane used after it was freed, and data
 * races.
 *
 *   lanes-stress ROUNDS SEED    prints "ok <jobs> jobs, <stops> stops" and exits 0, else exits 1
 */
#include "../../native/lanes/wts_lanes.c"

#include <stdio.h>
#include <string.h>
#include <time.h>

static uintptr_t add_one(uintptr_t x) { return x + 1; }
static uint32_t no_error(void) { return 0; }

static pthread_mutex_t g_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_c = PTHREAD_COND_INITIALIZER;
static int g_signalled;
static void done(uint32_t id) {
  (void)id;
  pthread_mutex_lock(&g_m);
  g_signalled = 1;
  pthread_cond_signal(&g_c);
  pthread_mutex_unlock(&g_m);
}

static uint64_t g_rand;
static uint32_t next_rand(void) {
  g_rand = g_rand * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(g_rand >> 33);
}

#define N 16

/* Global, so LeakSanitizer sees it: a group is never freed, by design (see lanes_group_close). */
void *volatile g_group; /* volatile: the store is not optimized away */

static void *g_lanes[N];
static LaneJob g_jobs[N];
static int g_busy[N];
static uint64_t g_expect[N];
static long g_finished, g_stops, g_errors;

static int any_busy(void) {
  int any = 0;
  for (int i = 0; i < N; i++) any |= g_busy[i];
  return any;
}

static uint64_t g_value;

/* Posts lane i a new job (add_one of the next value); 0 when the lane refuses it. */
static int post(int i) {
  LaneJob *j = &g_jobs[i];
  j->fn = (uint64_t)(uintptr_t)(void *)&add_one;
  j->last_error_fn = (uint64_t)(uintptr_t)(void *)&no_error;
  j->argc = 1;
  j->id = (uint64_t)i + 1;
  j->args[0] = ++g_value;
  j->result = 0;
  g_expect[i] = g_value + 1;
  return lanes_post(g_lanes[i], j);
}

/* Waits for the relay's done(), then takes every finished id; with `stop_some`, stops a third of
   the lanes the moment their job is back, and starts others in their place. 0 on a broken rule. */
static int collect(void *group, int stop_some) {
  pthread_mutex_lock(&g_m);
  while (!g_signalled) pthread_cond_wait(&g_c, &g_m);
  g_signalled = 0;
  pthread_mutex_unlock(&g_m);
  uint32_t ids[N];
  int32_t n;
  while ((n = lanes_drain(group, ids, N)) > 0) {
    for (int k = 0; k < n; k++) {
      uint32_t id = ids[k];
      if (id < 1 || id > N || !g_busy[id - 1]) {
        fprintf(stderr, "unexpected id %u\n", id);
        return 0;
      }
      int i = (int)id - 1;
      if (g_jobs[i].result != g_expect[i]) g_errors++;
      g_busy[i] = 0;
      g_finished++;
      if (stop_some && next_rand() % 3 == 0) {
        lanes_stop(g_lanes[i]);
        g_stops++;
        g_lanes[i] = lanes_start(group);
        if (!g_lanes[i]) return 0;
      }
    }
  }
  return 1;
}

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 20000;
  g_rand = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
  void *group = g_group = lanes_group(done);
  if (!group) return 1;
  for (int i = 0; i < N; i++) {
    g_lanes[i] = lanes_start(group);
    if (!g_lanes[i]) return 1;
  }
  long posted = 0;
  for (long r = 0; r < rounds; r++) {
    for (int i = 0; i < N; i++) {
      if (g_busy[i] || next_rand() % 2) continue;
      if (!post(i)) {
        fprintf(stderr, "post refused on an idle lane\n");
        return 1;
      }
      g_busy[i] = 1;
      posted++;
    }
    if (any_busy() && !collect(group, 1)) return 1;
  }
  /* What is still running comes back before the end. */
  while (any_busy())
    if (!collect(group, 0)) return 1;
  lanes_group_close(group);
  /* After the close (a call from a later 'exit' listener): no hand-back any more, but a posted
     job still runs, its id can still be drained, and a stopped lane still exits. */
  {
    struct timespec settle = {0, 50000000}; /* the group's threads have seen the close */
    nanosleep(&settle, NULL);
    if (!post(0)) {
      fprintf(stderr, "post refused after the close\n");
      return 1;
    }
    posted++;
    uint32_t id = 0;
    for (int waited = 0; waited < 5000 && lanes_drain(group, &id, 1) == 0; waited++) {
      struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
    }
    if (id != 1) {
      fprintf(stderr, "a job posted after the close did not come back within 5 s\n");
      return 1;
    }
    if (g_jobs[0].result != g_expect[0]) g_errors++;
    g_finished++;
  }
  for (int i = 0; i < N; i++) lanes_stop(g_lanes[i]);
  g_stops += N;
  /* Time for the last stops to reach the lanes and the lanes to free themselves, under the sanitizers. */
  struct timespec pause = {0, 200000000};
  nanosleep(&pause, NULL);
  if (g_errors || g_finished != posted) {
    fprintf(stderr, "%ld wrong results, %ld of %ld jobs back\n", g_errors, g_finished, posted);
    return 1;
  }
  printf("ok %ld jobs, %ld stops\n", posted, g_stops);
  return 0;
}
