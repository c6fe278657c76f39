/* For the tests that block real application threads in the socket API
 * (TERN_OS=1, ports/posix): the port's wait hook wrapped to count the
 * threads inside it, so the main thread acts only once the thread under
 * test waits there (the wake-up path is what is tested, not a lucky
 * ordering), and starting and joining such a thread. */
#ifndef TERN_TEST_THREADS_H
#define TERN_TEST_THREADS_H

#include <pthread.h>
#include "tern/port.h"

/* port->wait wrapped (the counters start at zero); one port per program. */
void th_wrap_wait(tern_port_t *port);
int th_waiting(void);  /* threads inside wait now */
int th_waits(void);    /* calls ever made */
int th_timeouts(void); /* waits that ended by timing out, not by a wake-up */

void th_sleep_ms(unsigned ms);
/* Until n threads are inside wait (they hold no lock there). */
void th_wait_for_waiters(int n);

void th_start(pthread_t *th, void *(*fn)(void *), void *arg);
void th_join(pthread_t th);

#endif
