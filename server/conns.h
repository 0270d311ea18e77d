/* conns.h — kb-serve's own watch over its connections, for what
 * libmicrohttpd 0.9.75 does not do: a request (headers and body) must
 * arrive within a total time, however slowly it trickles (the library's
 * timeout only counts idle time, so a byte a second keeps a connection for
 * ever); and when connections run short, those whose request has been
 * arriving the longest are closed first, so that the slots slow clients
 * hold go to clients that send a request at once. Safe to share between
 * threads. */
#ifndef KB_SERVER_CONNS_H
#define KB_SERVER_CONNS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct kb_conns kb_conns;
/* One connection's entry: owned by kb_conns, valid from kb_conns_started()
 * to kb_conns_closed(). */
typedef struct kb_conn kb_conn;

/* deadline_ms: how long a request may take to arrive (from the
 * connection's start, or from the end of the previous answer on the same
 * connection). soft_limit: above this many connections, the ones waiting
 * longest for their request are closed. Starts the thread that closes
 * the late ones (every deadline/8, at most 250 ms). NULL when out of
 * memory or the thread cannot start. */
kb_conns *kb_conns_new(unsigned deadline_ms, size_t soft_limit);
/* Stops the thread; call after the daemon has stopped. NULL does nothing. */
void kb_conns_free(kb_conns *cs);

/* A connection on socket fd began (libmicrohttpd's NOTIFY_STARTED): its
 * request clock starts. The entry goes into *socket_context. When there
 * are more than soft_limit connections, the oldest waiting ones are closed. */
void kb_conns_started(kb_conns *cs, int fd, void **socket_context);
/* It ended (NOTIFY_CLOSED, before libmicrohttpd closes the socket): the
 * entry is freed and *socket_context cleared. */
void kb_conns_closed(kb_conns *cs, void **socket_context);
/* Its request's headers and body are all in: no deadline while it is
 * answered. c NULL does nothing. */
void kb_conns_request_in(kb_conns *cs, kb_conn *c);
/* Its answer is sent: the next request on the connection has its own
 * deadline from now. */
void kb_conns_request_done(kb_conns *cs, kb_conn *c);

/* Connections closed so far for being late, and to make room. */
void kb_conns_stats(kb_conns *cs, unsigned long long *late, unsigned long long *evicted);

#endif
