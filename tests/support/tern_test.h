/* Shared helpers for unit tests: a deterministic port and a text sink. */
#ifndef TERN_TEST_H
#define TERN_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "tern/port.h"

typedef struct tern_test_port {
    tern_port_t port;
    uint64_t rng;          /* xorshift state: same seed, same run */
    uint32_t now;          /* returned by now_ms */
    unsigned logs;         /* log lines seen */
    unsigned asserts;      /* assert_failed calls seen */
    unsigned asserts_expected; /* how many of them the test provokes on purpose */
    int quiet;             /* 1: do not print log lines */
} tern_test_port_t;

/* A single-threaded port with no locks and no waiting; random from seed.
 * An internal assertion (assert_failed) is a bug unless the test said it
 * would provoke it: every report beyond asserts_expected is printed (even
 * when quiet) and makes the program exit 1 once cmocka is done, whatever
 * the tests' own results. */
void tern_test_port_init(tern_test_port_t *tp, uint64_t seed);
/* The next n assert_failed reports on tp are provoked on purpose. */
void tern_test_expect_asserts(tern_test_port_t *tp, unsigned n);
uint32_t tern_test_rand(tern_test_port_t *tp);

/* A growing text buffer usable as a tern_writer_fn. */
typedef struct tern_test_sink {
    char text[1 << 16];
    size_t len;
} tern_test_sink_t;
void tern_test_sink_write(void *ctx, const char *text, unsigned len);
void tern_test_sink_reset(tern_test_sink_t *sink);

/* Seed for randomized tests: TERN_TEST_SEED from the environment, else def.
 * Printed so that a failure can be replayed. */
uint64_t tern_test_seed(uint64_t def);

#endif
