/* TERN_TEST_STATIC_VARIANT */
/* The stack instance: init/deinit and the ledger, entry points, time,
 * counters and their reports, and a seeded mutation run over every layer's
 * frames checking that nothing leaks or corrupts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tern/err.h"

static int setup(void **state)
{
    *state = net_fixture_new(51);
    return 0;
}

static int teardown(void **state)
{
    net_fixture_free(*state);
    return 0;
}

static void test_init_deinit_ledger(void **state)
{
    (void)state;
    tern_test_port_t tp;
    tern_test_port_init(&tp, 1);
    tern_stack_t *s = malloc(sizeof *s);
    assert_int_equal(tern_stack_init(s, NULL), TERN_ERR_INVAL);
    tern_port_t no_random = tp.port;
    no_random.random32 = NULL;
    assert_int_equal(tern_stack_init(s, &no_random), TERN_ERR_INVAL);
    assert_int_equal(tern_stack_init(s, &tp.port), TERN_OK);
    /* Exactly one allocation: the ARP cache, owner 0. */
    const tern_ledger_category_stats_t *arp = tern_ledger_category(&s->ledger, TERN_MEM_ARP_CACHE);
    assert_int_equal(arp->blocks, 1);
    assert_int_equal(arp->bytes, sizeof(tern_arp_entry_t) * TERN_ARP_CACHE_SIZE);
    assert_int_equal(tern_ledger_total_bytes(&s->ledger), arp->bytes);
    assert_int_equal(tern_ledger_owner_bytes(&s->ledger, 0), arp->bytes);
    assert_int_equal(tern_ledger_verify(&s->ledger), TERN_OK);
    assert_int_equal(tern_netbuf_free_count(&s->netbufs), TERN_NETBUF_COUNT);
    assert_int_equal(tern_poll(s, 5), 1000); /* nothing pending */
    assert_int_equal(s->now, 5);
    tern_stack_deinit(s);
    assert_int_equal(tern_ledger_total_bytes(&s->ledger), 0);
    assert_int_equal(tern_ledger_verify(&s->ledger), TERN_OK);
    /* Init again on the same memory: a clean start. */
    assert_int_equal(tern_stack_init(s, &tp.port), TERN_OK);
    tern_stack_deinit(s);
    assert_int_equal(tern_ledger_total_bytes(&s->ledger), 0);
    free(s);
}

static void test_deinit_with_everything_in_flight(void **state)
{
    (void)state;
    net_fixture_t *f = net_fixture_new(52);
    f->cn.hold = 1;
    net_fixture_learn_peer(f);
    /* Packets waiting for ARP, buffers held by the driver, a buffer the
     * driver took for DMA. */
    for (uint16_t i = 0; i < 3; i++)
        assert_int_equal(tern_ping_send(&f->stack, FR_OTHER_IP, 1, i, "w", 1), TERN_OK);
    assert_int_equal(tern_ping_send(&f->stack, FR_PEER_IP, 1, 9, "h", 1), TERN_OK);
    assert_true(tern_netbuf_free_count(&f->stack.netbufs) < TERN_NETBUF_COUNT);
    tern_stack_deinit(&f->stack);
    assert_int_equal(f->cn.shutdowns, 1);
    assert_null(f->stack.netifs);
    assert_int_equal(tern_netbuf_free_count(&f->stack.netbufs), TERN_NETBUF_COUNT);
    assert_int_equal(tern_ledger_total_bytes(&f->stack.ledger), 0);
    assert_int_equal(tern_ledger_verify(&f->stack.ledger), TERN_OK);
    assert_int_equal(f->stack.netbufs.bad_releases, 0);
    free(f);
}

static void test_time_follows_input_and_poll(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    size_t n = frame_arp_eth(fr, FR_BCAST_MAC, 1, FR_PEER_MAC, FR_PEER_IP, FR_ZERO_MAC, FR_OUR_IP);
    capnet_rx(&f->cn, fr, n, 123456);
    assert_int_equal(f->stack.now, 123456);
    tern_poll(&f->stack, 200000);
    assert_int_equal(f->stack.now, 200000);
    /* Entry learned at 123456: its age is measured in stack time. */
    tern_arp_info_t info;
    assert_int_equal(tern_arp_entry_info(&f->stack, 0, &info), TERN_OK);
    assert_int_equal(info.age_ms, 200000 - 123456);
    /* Across the 32-bit wrap. */
    capnet_rx(&f->cn, fr, n, 0xFFFFFF00u);
    uint32_t wait = tern_poll(&f->stack, 0xFFFFFF00u);
    assert_true(wait >= 1 && wait <= 1000);
    tern_poll(&f->stack, 0xFFFFFF00u + TERN_ARP_MAX_AGE_MS - 1);
    assert_int_equal(tern_arp_lookup(&f->stack, FR_PEER_IP, NULL), TERN_OK);
    tern_poll(&f->stack, 0xFFFFFF00u + TERN_ARP_MAX_AGE_MS);
    assert_int_equal(tern_arp_lookup(&f->stack, FR_PEER_IP, NULL), TERN_ERR_NOROUTE);
}

static void test_input_from_unregistered_interface(void **state)
{
    net_fixture_t *f = *state;
    tern_netif_t stranger;
    memset(&stranger, 0, sizeof stranger);
    tern_netbuf_t *nb = tern_netbuf_get(&f->stack.netbufs, 60, 0);
    tern_input(&f->stack, &stranger, nb, f->now);
    uint8_t fr[60] = {0};
    assert_int_equal(tern_input_copy(&f->stack, &stranger, fr, sizeof fr, f->now), TERN_ERR_INVAL);
    assert_int_equal(f->stack.counters.eth_rx, 0);
    mem_assert_baseline(&f->stack, &f->base);
}

/* Every counter of the list: the text and JSON reports show its value. */
static void test_counter_reports(void **state)
{
    net_fixture_t *f = *state;
    /* Give every counter a distinct value. */
    uint32_t v = 1;
#define SET_(layer, name, desc) f->stack.counters.layer##_##name = v++;
    TERN_COUNTER_LIST(SET_)
#undef SET_
    const unsigned stack_count = v - 1;
    /* The TCP counters (tern_tcp_stats_t, the tcp member of the same store)
     * follow in the reports. */
#define SET_TCP_(layer, name, desc) f->stack.counters.tcp.name = v++;
    TERN_TCP_COUNTER_LIST(SET_TCP_)
#undef SET_TCP_
    const unsigned count = v - 1;
    assert_int_equal(sizeof(tern_counters_t), count * sizeof(uint32_t));
    assert_int_equal(sizeof(tern_tcp_stats_t), (count - stack_count) * sizeof(uint32_t));
    assert_ptr_equal(tern_tcp_stats(&f->stack), &f->stack.counters.tcp);
    assert_ptr_equal(tern_stack_counters(&f->stack), &f->stack.counters);

    static tern_test_sink_t text, json;
    tern_test_sink_reset(&text);
    tern_test_sink_reset(&json);
    tern_counters_report_text(&f->stack, tern_test_sink_write, &text);
    tern_counters_report_json(&f->stack, tern_test_sink_write, &json);
    unsigned lines = 0;
    for (size_t i = 0; i < text.len; i++)
        lines += text.text[i] == '\n';
    assert_int_equal(lines, count);
    assert_true(json.text[0] == '{' && json.text[json.len - 1] == '}');
    int depth = 0, max_depth = 0;
    for (size_t i = 0; i < json.len; i++) {
        depth += json.text[i] == '{';
        depth -= json.text[i] == '}';
        assert_true(depth >= 0);
        if (depth > max_depth)
            max_depth = depth;
    }
    assert_int_equal(depth, 0);
    assert_int_equal(max_depth, 2);
    char want[128];
    v = 1;
#define CHECK_(layer, name, desc)                                                          \
    {                                                                                      \
        snprintf(want, sizeof want, "%s.%s ", #layer, #name);                              \
        assert_non_null(strstr(text.text, want));                                          \
        snprintf(want, sizeof want, "\"%s\":{", #layer);                                   \
        const char *obj = strstr(json.text, want);                                         \
        assert_non_null(obj);                                                              \
        const char *end = strchr(obj, '}');                                                \
        snprintf(want, sizeof want, "\"%s\":%u", #name, v);                                \
        const char *field = strstr(obj, want);                                             \
        assert_non_null(field);                                                            \
        assert_true(field < end);                                                          \
        char next = field[strlen(want)];                                                   \
        assert_true(next == ',' || next == '}');                                           \
        v++;                                                                               \
    }
    TERN_COUNTER_LIST(CHECK_)
    TERN_TCP_COUNTER_LIST(CHECK_)
#undef CHECK_
    /* Text: "layer.name   value" per line, value right-aligned. */
    unsigned k = 0;
    v = 1;
    for (const char *line = text.text; *line != '\0'; k++) {
        const char *sp = strchr(line, ' ');
        const char *nl = strchr(line, '\n');
        assert_true(sp != NULL && nl != NULL && sp < nl);
        assert_int_equal(strtoul(sp, NULL, 10), v++);
        line = nl + 1;
    }
    assert_int_equal(k, count);
    memset(&f->stack.counters, 0, sizeof f->stack.counters);
}

static void test_memory_reports(void **state)
{
    net_fixture_t *f = *state;
    static tern_test_sink_t sink;
    tern_test_sink_reset(&sink);
    tern_stack_report_summary(&f->stack, tern_test_sink_write, &sink);
    assert_non_null(strstr(sink.text, "heap free "));
    assert_non_null(strstr(sink.text, "netbufs free "));
    char want[64];
    snprintf(want, sizeof want, "netbufs free %u min", (unsigned)tern_netbuf_free_count(&f->stack.netbufs));
    assert_non_null(strstr(sink.text, want));
    tern_test_sink_reset(&sink);
    tern_stack_report_memory(&f->stack, tern_test_sink_write, &sink);
    assert_non_null(strstr(sink.text, "ARP_CACHE"));
    /* The static objects: the socket table is TERN_SOCKET_MAX slots, and
     * the rows add up to the whole struct. */
    const char *row = strstr(sink.text, "\n  socket table");
    assert_non_null(row);
    snprintf(want, sizeof want, " %u x %u ", (unsigned)TERN_SOCKET_MAX, (unsigned)sizeof(struct tern_socket *));
    const char *eol = strchr(row + 1, '\n');
    assert_non_null(eol);
    char line[160];
    snprintf(line, sizeof line, "%.*s", (int)(eol - row), row);
    assert_non_null(strstr(line, want));
    assert_int_equal(strtoul(strrchr(line, ' ') + 1, NULL, 10), sizeof(tern_socket_table_t));
    unsigned long sum = 0, total = 0;
    /* The memory's section: the heap's, or the static-only pools'. */
    const char *head = TERN_STATIC_ONLY ? "pools:" : "heap:";
    for (const char *p = strchr(sink.text, '\n') + 1; strncmp(p, head, strlen(head)) != 0; p = strchr(p, '\n') + 1) {
        const char *e = strchr(p, '\n');
        snprintf(line, sizeof line, "%.*s", (int)(e - p), p);
        unsigned long v = strtoul(strrchr(line, ' ') + 1, NULL, 10);
        if (strncmp(line, "  tern_stack_t", 14) == 0)
            total = v;
        else
            sum += v;
    }
    assert_int_equal(total, sizeof(tern_stack_t));
    assert_int_equal(sum, sizeof(tern_stack_t));
    /* Each heap figure once: the names once, the old duplicates gone. */
    static const char *const once[] = {"\n  total ",      "\n  used ",        "\n  free ",
                                       "\n  min_free ",   "\n  largest_free_block ", "\n  free_blocks ",
                                       "\n  used_blocks ", "\n  allocs ",      "\n  failures ",
                                       "\nnetbufs free ", TERN_STATIC_ONLY ? "\npools:" : "\nheap:"};
    for (size_t i = 0; i < sizeof once / sizeof once[0]; i++) {
        unsigned n = 0;
        for (const char *p = sink.text; (p = strstr(p, once[i])) != NULL; p++)
            n++;
        if (n != 1)
            fail_msg("\"%s\" appears %u times in:\n%s", once[i], n, sink.text);
    }
    assert_null(strstr(sink.text, "heap free"));
    assert_null(strstr(sink.text, "min ever free"));
}

/* A ring below one maximum segment: refused at build time for the
 * defaults (config.h; tests/CMakeLists.txt compiles the refusal), warned
 * once per stack through the log when set at run time. */
static void test_small_ring_warned_once(void **state)
{
    (void)state;
    tern_test_port_t tp;
    tern_test_port_init(&tp, 3);
    tp.quiet = 1;
    tern_stack_t *s = malloc(sizeof *s);
    assert_non_null(s);
    assert_int_equal(tern_stack_init(s, &tp.port), TERN_OK);
    static const tern_tcp_callbacks_t cbs = {0};
    int err = 0;
    tern_tcp_pcb_t *l = tern_tcp_listen(s, 7, 2, &cbs, NULL, &err);
    assert_non_null(l);
    unsigned logs = tp.logs;
    assert_int_equal(tern_tcp_set_bufsizes(l, 1460u, 1460u), TERN_OK); /* one segment: fine */
    assert_int_equal(tp.logs, logs);
    assert_int_equal(tern_tcp_set_bufsizes(l, 1024u, 0u), TERN_OK); /* allowed, but said */
    assert_int_equal(tp.logs, logs + 1u);
    assert_int_equal(tern_tcp_set_bufsizes(l, 0u, 536u), TERN_OK); /* once per stack */
    assert_int_equal(tp.logs, logs + 1u);
    assert_int_equal(tern_tcp_set_bufsizes(l, 535u, 0u), TERN_ERR_INVAL); /* below the default MSS: refused */
    assert_int_equal(tern_tcp_close(l), TERN_OK);
    tern_stack_deinit(s);
    assert_int_equal(tern_ledger_total_bytes(&s->ledger), 0);
    free(s);
}

/* The locking rule (stack.h), checked in debug builds through the port's
 * lock_held hook: a stand-in lock that only counts. */
static int fake_held;

static void fake_lock(void *ctx)
{
    (void)ctx;
    fake_held++;
}

static void fake_unlock(void *ctx)
{
    (void)ctx;
    fake_held--;
}

static int fake_lock_held(void *ctx)
{
    (void)ctx;
    return fake_held > 0;
}

static void test_lock_rule_checked(void **state)
{
    net_fixture_t *f = *state;
    static tern_test_sink_t sink;
    const unsigned per = TERN_DEBUG ? 1u : 0u; /* release builds check nothing */
    f->tp.port.lock = fake_lock;
    f->tp.port.unlock = fake_unlock;
    f->tp.port.lock_held = fake_lock_held;
    fake_held = 0;
    unsigned before = f->tp.asserts;
    /* Core calls without the lock: one assert each, naming the call. */
    tern_test_expect_asserts(&f->tp, 4u * per);
    (void)tern_poll(&f->stack, f->now);
    tern_netif_set_link(&f->cn.nif, 1);
    tern_test_sink_reset(&sink);
    tern_stack_report_summary(&f->stack, tern_test_sink_write, &sink);
    uint8_t mac[6];
    (void)tern_arp_lookup(&f->stack, FR_PEER_IP, mac);
    assert_int_equal(f->tp.asserts - before, 4u * per);
    /* The same calls with the lock held: nothing. */
    fake_lock(NULL);
    (void)tern_poll(&f->stack, f->now);
    tern_netif_set_link(&f->cn.nif, 1);
    tern_stack_report_summary(&f->stack, tern_test_sink_write, &sink);
    (void)tern_arp_lookup(&f->stack, FR_PEER_IP, mac);
    assert_int_equal(f->tp.asserts - before, 4u * per);
    /* A socket call takes the lock itself: holding it is the other mistake. */
    tern_test_expect_asserts(&f->tp, per);
    int s = tern_socket(&f->stack, TERN_SOCK_DGRAM);
    assert_true(s > 0);
    assert_int_equal(f->tp.asserts - before, 5u * per);
    fake_unlock(NULL);
    assert_int_equal(tern_close(&f->stack, s), TERN_OK);
    assert_int_equal(f->tp.asserts - before, 5u * per);
    assert_int_equal(fake_held, 0);
    f->tp.port.lock = NULL;
    f->tp.port.unlock = NULL;
    f->tp.port.lock_held = NULL;
    /* All provoked and counted; the fixture's teardown wants none else. */
    f->tp.asserts -= 5u * per;
    f->tp.asserts_expected = f->tp.asserts;
}

#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP && TERN_FAULT_INJECTION
static void test_allocation_failures(void **state)
{
    net_fixture_t *f = *state;
    net_fixture_learn_peer(f);
    uint8_t fr[FRAME_MAX];
    size_t n = frame_echo(fr, FR_PEER_IP, FR_OUR_IP, 8, 1, 1, "x", 1);
    /* Receive: the copy finds no storage. */
    tern_ledger_fail_nth(&f->stack.ledger, 1, 0);
    assert_int_equal(tern_input_copy(&f->stack, &f->cn.nif, fr, n, f->now), TERN_ERR_NOBUFS);
    assert_int_equal(f->stack.counters.eth_rx_nobufs, 1);
    /* Send. */
    tern_ledger_fail_nth(&f->stack.ledger, 1, 0);
    assert_int_equal(tern_ping_send(&f->stack, FR_PEER_IP, 1, 1, "x", 1), TERN_ERR_NOBUFS);
    /* The ICMP error's buffer (the received one is already held). */
    frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 253};
    n = frame_ip_eth(fr, &ip, "abcdefgh", 8);
    tern_ledger_fail_nth(&f->stack.ledger, 2, 0);
    fx_rx(f, fr, n);
    assert_int_equal(f->stack.counters.icmp_tx_err, 2);
    assert_int_equal(f->stack.counters.icmp_err_tx, 0);
    /* The ARP reply needs nothing new: it reuses the request. */
    n = frame_arp_eth(fr, FR_BCAST_MAC, 1, FR_PEER_MAC, FR_PEER_IP, FR_ZERO_MAC, FR_OUR_IP);
    tern_ledger_fail_nth(&f->stack.ledger, 2, 1);
    fx_rx(f, fr, n);
    tern_ledger_fail_nth(&f->stack.ledger, 0, 0);
    assert_int_equal(f->stack.counters.arp_tx_reply, 2);
    mem_assert_baseline(&f->stack, &f->base);
}
#endif

/* ---- seeded mutation run ------------------------------------------------ */

static size_t template_frame(unsigned which, uint8_t *fr)
{
    static const uint8_t opts[8] = {7, 7, 4, 0, 0, 0, 0, 0};
    uint8_t quote[64], icmp[128];
    frame_ip_t qip = {.src = FR_OUR_IP, .dst = FR_REMOTE_IP, .proto = 17};
    switch (which % 8u) {
    case 0:
        return frame_arp_eth(fr, FR_BCAST_MAC, 1, FR_PEER_MAC, FR_PEER_IP, FR_ZERO_MAC, FR_OUR_IP);
    case 1:
        return frame_arp_eth(fr, FR_OUR_MAC, 2, FR_OTHER_MAC, FR_OTHER_IP, FR_OUR_MAC, FR_OUR_IP);
    case 2:
        return frame_echo(fr, FR_PEER_IP, FR_OUR_IP, 8, 3, 4, "mutate me please", 16);
    case 3:
        return frame_echo(fr, FR_PEER_IP, FR_OUR_IP, 0, 3, 4, "reply", 5);
    case 4: {
        size_t qn = frame_ipv4(quote, &qip, "udpheadr", 8);
        size_t in = frame_icmp(icmp, 3, 3, 0, quote, qn);
        frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 1};
        return frame_ip_eth(fr, &ip, icmp, in);
    }
    case 5: {
        size_t in = frame_icmp(icmp, 8, 0, 0x10001, "o", 1);
        frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 1, .options = opts, .opt_len = 8};
        return frame_ip_eth(fr, &ip, icmp, in);
    }
    case 6: {
        frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_SUBNET_BCAST, .proto = 17};
        return frame_ip_eth2(fr, FR_BCAST_MAC, FR_PEER_MAC, &ip, "udp-ish-payload", 15);
    }
    default: {
        frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 6, .frag = 0x2000};
        return frame_ip_eth(fr, &ip, "tcp-ish-payload-", 16);
    }
    }
}

static unsigned queued_on_arp(const tern_stack_t *s)
{
    unsigned q = 0;
    tern_arp_info_t info;
    for (unsigned i = 0; tern_arp_entry_info(s, i, &info) == TERN_OK; i++)
        q += info.queued;
    return q;
}

static void test_mutation_run(void **state)
{
    net_fixture_t *f = *state;
    tern_test_port_t rng;
    tern_test_port_init(&rng, tern_test_seed(0x7E57));
    uint8_t fr[FRAME_MAX];
    const unsigned rounds = 4000;
    for (unsigned r = 0; r < rounds; r++) {
        size_t n = template_frame(tern_test_rand(&rng), fr);
        unsigned edits = 1 + tern_test_rand(&rng) % 4;
        for (unsigned e = 0; e < edits && n > 0; e++) {
            unsigned kind = tern_test_rand(&rng) % 8;
            size_t at = tern_test_rand(&rng) % n;
            if (kind < 5)
                fr[at] = (uint8_t)tern_test_rand(&rng);       /* any byte */
            else if (kind == 5)
                fr[at] ^= (uint8_t)(1u << (tern_test_rand(&rng) % 8)); /* one bit */
            else if (kind == 6)
                n = at;                                        /* truncate */
            else if (n < 200)
                n += tern_test_rand(&rng) % 40;                /* trailing bytes */
        }
        uint32_t rx = f->stack.counters.eth_rx;
        capnet_clear(&f->cn);
        f->now += tern_test_rand(&rng) % 300;
        fx_rx(f, fr, n);
        assert_int_equal(f->stack.counters.eth_rx, rx + 1);
        if (r % 7 == 0)
            tern_poll(&f->stack, f->now);
        /* Heap and books intact; every buffer is free or waiting on ARP. */
#if !TERN_STATIC_ONLY
        assert_int_equal(tern_heap_check(&f->stack.heap), TERN_OK);
#endif
        assert_int_equal(tern_ledger_verify(&f->stack.ledger), TERN_OK);
        assert_int_equal(tern_netbuf_free_count(&f->stack.netbufs) + queued_on_arp(&f->stack),
                         f->base.netbufs_free);
        assert_int_equal(f->stack.netbufs.bad_releases, 0);
    }
    /* Let unfinished reassemblies time out (their ICMP errors then wait on
     * ARP), then drop whatever waits on ARP. */
    tern_poll(&f->stack, f->now + TERN_IP_REASS_TIMEOUT_MS);
    tern_arp_flush(&f->stack, NULL);
    mem_assert_baseline(&f->stack, &f->base);
    /* The run exercised many paths, not just the first check. */
    const tern_counters_t *c = &f->stack.counters;
    assert_true(c->arp_tx_reply > 0 && c->icmp_echo_reply_tx > 0 && c->icmp_err_rx > 0);
    assert_true(c->ipv4_drop_checksum > 0 && c->eth_drop_runt > 0 && c->arp_drop_truncated > 0);
#if TERN_IP_REASSEMBLY
    assert_true(c->ipv4_frag_rx > 0 && c->icmp_drop_checksum > 0);
#else
    assert_true(c->ipv4_drop_fragment > 0 && c->icmp_drop_checksum > 0);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_deinit_ledger),
        cmocka_unit_test(test_deinit_with_everything_in_flight),
        cmocka_unit_test_setup_teardown(test_time_follows_input_and_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_from_unregistered_interface, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_rule_checked, setup, teardown),
        cmocka_unit_test(test_small_ring_warned_once),
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP && TERN_FAULT_INJECTION
        cmocka_unit_test_setup_teardown(test_allocation_failures, setup, teardown),
#endif
        cmocka_unit_test_setup_teardown(test_mutation_run, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
