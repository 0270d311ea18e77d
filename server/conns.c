/* conns.c — request deadlines and room for new clients (see conns.h).
 *
 * A connection is closed with shutdown(2) on its socket: libmicrohttpd's
 * thread then reads the end of the stream and closes the connection in its
 * own way (callbacks, counters, the socket itself). The socket is only
 * touched under the lock, and libmicrohttpd tells us (NOTIFY_CLOSED, which
 * takes the lock) before it closes the socket, so a number the kernel has
 * given to another connection since is never shut down. */
#include "conns.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

struct kb_conn {
  kb_conn *prev, *next; /* by the time the wait for a request began, oldest first */
  int fd;
  double since;  /* when the wait for the current request began, monotonic seconds */
  bool waiting;  /* a request is arriving (or awaited on a kept-alive connection) */
  bool closing;  /* shut down by us: no longer counted */
};

struct kb_conns {
  pthread_mutex_t lock;
  pthread_cond_t wake; /* to stop the sweeper at once */
  pthread_t sweeper;
  bool stop;
  kb_conn *head, *tail;
  size_t live; /* entries not closing */
  double deadline;
  size_t soft_limit;
  unsigned long long late, evicted;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void unlink_conn(kb_conns *cs, kb_conn *c) {
  if (c->prev) c->prev->next = c->next;
  else cs->head = c->next;
  if (c->next) c->next->prev = c->prev;
  else cs->tail = c->prev;
  c->prev = c->next = NULL;
}

static void append_conn(kb_conns *cs, kb_conn *c) {
  c->prev = cs->tail;
  c->next = NULL;
  if (cs->tail) cs->tail->next = c;
  else cs->head = c;
  cs->tail = c;
}

/* Under the lock. */
static void shut(kb_conns *cs, kb_conn *c) {
  c->closing = true;
  cs->live--;
  shutdown(c->fd, SHUT_RDWR);
}

/* Closes the waiting connections past their deadline; under the lock. The
 * list is in the order the waits began, so the first one on time ends it. */
static void close_late(kb_conns *cs, double now) {
  for (kb_conn *c = cs->head; c; c = c->next) {
    if (!c->waiting || c->closing) continue;
    if (c->since + cs->deadline > now) break;
    shut(cs, c);
    cs->late++;
  }
}

static void *sweep(void *p) {
  kb_conns *cs = p;
  double step = cs->deadline / 8 < 0.25 ? cs->deadline / 8 : 0.25;
  pthread_mutex_lock(&cs->lock);
  while (!cs->stop) {
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    long ns = until.tv_nsec + (long)(step * 1e9);
    until.tv_sec += ns / 1000000000L;
    until.tv_nsec = ns % 1000000000L;
    pthread_cond_timedwait(&cs->wake, &cs->lock, &until);
    close_late(cs, now_s());
  }
  pthread_mutex_unlock(&cs->lock);
  return NULL;
}

kb_conns *kb_conns_new(unsigned deadline_ms, size_t soft_limit) {
  kb_conns *cs = calloc(1, sizeof *cs);
  if (!cs) return NULL;
  cs->deadline = deadline_ms / 1000.0;
  cs->soft_limit = soft_limit;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the wait must not follow the wall clock */
  pthread_mutex_init(&cs->lock, NULL);
  pthread_cond_init(&cs->wake, &ca);
  pthread_condattr_destroy(&ca);
  if (pthread_create(&cs->sweeper, NULL, sweep, cs) != 0) {
    pthread_cond_destroy(&cs->wake);
    pthread_mutex_destroy(&cs->lock);
    free(cs);
    return NULL;
  }
  return cs;
}

void kb_conns_free(kb_conns *cs) {
  if (!cs) return;
  pthread_mutex_lock(&cs->lock);
  cs->stop = true;
  pthread_cond_signal(&cs->wake);
  pthread_mutex_unlock(&cs->lock);
  pthread_join(cs->sweeper, NULL);
  while (cs->head) { /* none after the daemon stopped; freed all the same */
    kb_conn *c = cs->head;
    unlink_conn(cs, c);
    free(c);
  }
  pthread_cond_destroy(&cs->wake);
  pthread_mutex_destroy(&cs->lock);
  free(cs);
}

void kb_conns_started(kb_conns *cs, int fd, void **socket_context) {
  kb_conn *c = calloc(1, sizeof *c);
  *socket_context = c;
  if (!c) return; /* untracked: libmicrohttpd's own idle timeout still holds */
  c->fd = fd;
  c->waiting = true;
  pthread_mutex_lock(&cs->lock);
  c->since = now_s();
  append_conn(cs, c);
  cs->live++;
  /* make room: the connection whose request has been arriving the longest
   * goes first (a client that sends its request at once is never it) */
  for (kb_conn *o = cs->head; o && cs->live > cs->soft_limit; o = o->next) {
    if (o == c || !o->waiting || o->closing) continue;
    shut(cs, o);
    cs->evicted++;
  }
  pthread_mutex_unlock(&cs->lock);
}

void kb_conns_closed(kb_conns *cs, void **socket_context) {
  kb_conn *c = *socket_context;
  if (!c) return;
  pthread_mutex_lock(&cs->lock);
  unlink_conn(cs, c);
  if (!c->closing) cs->live--;
  pthread_mutex_unlock(&cs->lock);
  free(c);
  *socket_context = NULL;
}

void kb_conns_request_in(kb_conns *cs, kb_conn *c) {
  if (!c) return;
  pthread_mutex_lock(&cs->lock);
  c->waiting = false;
  pthread_mutex_unlock(&cs->lock);
}

void kb_conns_request_done(kb_conns *cs, kb_conn *c) {
  if (!c) return;
  pthread_mutex_lock(&cs->lock);
  c->waiting = true;
  c->since = now_s();
  unlink_conn(cs, c); /* the newest wait: last in the list */
  append_conn(cs, c);
  pthread_mutex_unlock(&cs->lock);
}

void kb_conns_stats(kb_conns *cs, unsigned long long *late, unsigned long long *evicted) {
  pthread_mutex_lock(&cs->lock);
  *late = cs->late;
  *evicted = cs->evicted;
  pthread_mutex_unlock(&cs->lock);
}
