/* tern-demo's HTTP part: see demo_http.h. */
#include "demo_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern_posix.h"

/* tern-demo-static (TERN_STATIC_ONLY): the demo's /api/stats document
 * lists its many sockets, larger than the default document slot
 * (TERN_STATIC_HTTP_DOC_BYTES): two slots of its own size (a request takes
 * the smallest free slot that holds it). Nothing in the other builds. */
TERN_STATIC_POOL_APP(demo_doc, "HTTP", 16384u, 2);

#define DEMO_HTTP_WAIT_MS 200u /* longest wait: how soon a stop is seen */

/* "HEADER_MS:IDLE_MS" -> both values; -1 when malformed. */
static int http_parse_timeouts(const char *s, uint32_t *header_ms, uint32_t *idle_ms)
{
    char *end;
    unsigned long h = strtoul(s, &end, 10);
    if (end == s || *end != ':' || h > 86400000ul)
        return -1;
    const char *t = end + 1;
    unsigned long i = strtoul(t, &end, 10);
    if (end == t || *end != '\0' || i > 86400000ul)
        return -1;
    *header_ms = (uint32_t)h;
    *idle_ms = (uint32_t)i;
    return 0;
}

/* The server's thread: wait for work (or the next deadline), then do it. */
static void *http_main(void *arg)
{
    demo_http_t *h = arg;
    uint32_t next = 0;
    while (!atomic_load(&h->stop)) {
        uint32_t wait = next < DEMO_HTTP_WAIT_MS ? next : DEMO_HTTP_WAIT_MS;
        if (wait > 0)
            (void)tern_http_server_wait(&h->srv, wait);
        next = tern_http_server_poll(&h->srv, (uint32_t)tern_posix_now_ms());
    }
    return NULL;
}

int demo_http_start_ex(demo_http_t *h, tern_stack_t *stack, const tern_stats_section_t *extra)
{
    memset(h, 0, sizeof *h);
    uint32_t header_ms = 0, idle_ms = 0;
    const char *env = getenv("TERN_DEMO_HTTP_TIMEOUTS");
    if (env != NULL && http_parse_timeouts(env, &header_ms, &idle_ms) != 0) {
        fprintf(stderr, "tern-demo: TERN_DEMO_HTTP_TIMEOUTS must be HEADER_MS:IDLE_MS (got '%s')\n", env);
        return TERN_ERR_INVAL;
    }
    h->section = (tern_stats_section_t){extra, "http", tern_http_server_stats_json, &h->srv};
    int rc = tern_http_server_start(&h->srv, stack, 80, NULL, &h->section);
    if (rc != TERN_OK) {
        fprintf(stderr, "tern-demo: HTTP server: %s\n", tern_strerror(rc));
        return rc;
    }
    tern_http_server_set_timeouts(&h->srv, header_ms, idle_ms);
    atomic_store(&h->stop, 0);
    if (pthread_create(&h->thread, NULL, http_main, h) != 0) {
        tern_http_server_stop(&h->srv);
        fprintf(stderr, "tern-demo: HTTP server: cannot start its thread\n");
        return TERN_ERR_NOMEM;
    }
    h->started = 1;
    printf("tern-demo: HTTP dashboard on port 80 (header timeout %u ms, idle timeout %u ms, %u connections)\n",
           (unsigned)h->srv.header_timeout_ms, (unsigned)h->srv.idle_timeout_ms, (unsigned)TERN_HTTP_MAX_CONNS);
    return TERN_OK;
}

int demo_http_start(demo_http_t *h, tern_stack_t *stack, struct tern_posix *px)
{
    (void)px;
    return demo_http_start_ex(h, stack, NULL);
}

void demo_http_stop(demo_http_t *h)
{
    if (!h->started)
        return;
    atomic_store(&h->stop, 1);
    pthread_join(h->thread, NULL);
    printf("http: %u requests, %u connections, %u refused busy, %u timeouts, %u bytes sent\n",
           (unsigned)h->srv.stats.requests, (unsigned)h->srv.stats.accepted, (unsigned)h->srv.stats.refused_busy,
           (unsigned)h->srv.stats.timeouts, (unsigned)h->srv.stats.bytes_sent);
    tern_http_server_stop(&h->srv);
    h->started = 0;
}
