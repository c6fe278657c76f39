/* /api/stats: the document is valid JSON (a strict little parser here) and
 * every figure in it equals the C-side value it claims to be. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/stack.h"
#include "tern/stats.h"
#include "tern_test.h"
#include "wire2.h"

/* ---- a strict JSON parser into a flat tree (RFC 8259) ------------------------ */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jnode {
    int type;
    const char *key; /* member name in the source, NULL in arrays */
    size_t key_len;
    const char *str; /* string contents (escapes kept) */
    size_t str_len;
    double num;
    int first, next; /* children and siblings by index, -1 none */
    int count;
} jnode_t;

typedef struct jdoc {
    const char *s, *end;
    jnode_t nodes[8192];
    int n;
    int depth;
} jdoc_t;

static void jws(jdoc_t *d)
{
    while (d->s < d->end && (*d->s == ' ' || *d->s == '\t' || *d->s == '\n' || *d->s == '\r'))
        d->s++;
}

static int jstring(jdoc_t *d, const char **out, size_t *len)
{
    if (d->s >= d->end || *d->s != '"')
        return -1;
    const char *b = ++d->s;
    while (d->s < d->end && *d->s != '"') {
        unsigned char c = (unsigned char)*d->s;
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            d->s++;
            if (d->s >= d->end)
                return -1;
            if (*d->s == 'u') {
                for (int i = 1; i <= 4; i++) {
                    if (d->s + i >= d->end || !strchr("0123456789abcdefABCDEF", d->s[i]) || d->s[i] == '\0')
                        return -1;
                }
                d->s += 4;
            } else if (!strchr("\"\\/bfnrt", *d->s) || *d->s == '\0') {
                return -1;
            }
        }
        d->s++;
    }
    if (d->s >= d->end)
        return -1;
    *out = b;
    *len = (size_t)(d->s - b);
    d->s++;
    return 0;
}

static int jvalue(jdoc_t *d);

static int jnumber(jdoc_t *d, jnode_t *n)
{
    const char *b = d->s;
    if (d->s < d->end && *d->s == '-')
        d->s++;
    if (d->s >= d->end || *d->s < '0' || *d->s > '9')
        return -1;
    if (*d->s == '0' && d->s + 1 < d->end && d->s[1] >= '0' && d->s[1] <= '9')
        return -1; /* no leading zeros */
    while (d->s < d->end && ((*d->s >= '0' && *d->s <= '9') || strchr(".eE+-", *d->s)))
        d->s++;
    char tmp[64];
    size_t k = (size_t)(d->s - b);
    if (k >= sizeof tmp)
        return -1;
    memcpy(tmp, b, k);
    tmp[k] = '\0';
    char *e;
    n->num = strtod(tmp, &e);
    return *e == '\0' ? 0 : -1;
}

/* Parse one value; returns its node index or -1. */
static int jvalue(jdoc_t *d)
{
    jws(d);
    if (d->s >= d->end || d->n >= (int)(sizeof d->nodes / sizeof d->nodes[0]) || d->depth > 32)
        return -1;
    int idx = d->n++;
    jnode_t *n = &d->nodes[idx];
    memset(n, 0, sizeof *n);
    n->first = n->next = -1;
    char c = *d->s;
    if (c == '{' || c == '[') {
        n->type = c == '{' ? J_OBJ : J_ARR;
        d->s++;
        d->depth++;
        jws(d);
        int last = -1;
        if (d->s < d->end && *d->s == (c == '{' ? '}' : ']')) {
            d->s++;
            d->depth--;
            return idx;
        }
        for (;;) {
            const char *key = NULL;
            size_t key_len = 0;
            if (c == '{') {
                jws(d);
                if (jstring(d, &key, &key_len) != 0)
                    return -1;
                jws(d);
                if (d->s >= d->end || *d->s != ':')
                    return -1;
                d->s++;
            }
            int child = jvalue(d);
            if (child < 0)
                return -1;
            d->nodes[child].key = key;
            d->nodes[child].key_len = key_len;
            if (last < 0)
                d->nodes[idx].first = child;
            else
                d->nodes[last].next = child;
            last = child;
            d->nodes[idx].count++;
            jws(d);
            if (d->s >= d->end)
                return -1;
            if (*d->s == ',') {
                d->s++;
                continue;
            }
            if (*d->s == (c == '{' ? '}' : ']')) {
                d->s++;
                d->depth--;
                return idx;
            }
            return -1;
        }
    }
    if (c == '"') {
        n->type = J_STR;
        return jstring(d, &n->str, &n->str_len) == 0 ? idx : -1;
    }
    if (d->end - d->s >= 4 && memcmp(d->s, "true", 4) == 0) {
        n->type = J_BOOL;
        d->s += 4;
        return idx;
    }
    if (d->end - d->s >= 5 && memcmp(d->s, "false", 5) == 0) {
        n->type = J_BOOL;
        d->s += 5;
        return idx;
    }
    if (d->end - d->s >= 4 && memcmp(d->s, "null", 4) == 0) {
        n->type = J_NULL;
        d->s += 4;
        return idx;
    }
    n->type = J_NUM;
    return jnumber(d, n) == 0 ? idx : -1;
}

/* Parse a whole document: exactly one value and nothing after it. */
static int jparse(jdoc_t *d, const char *text, size_t len)
{
    d->s = text;
    d->end = text + len;
    d->n = 0;
    d->depth = 0;
    int root = jvalue(d);
    jws(d);
    return root == 0 && d->s == d->end ? 0 : -1;
}

/* Member key of object node obj, or -1; duplicate keys fail the test. */
static int jget(const jdoc_t *d, int obj, const char *key)
{
    assert_true(obj >= 0);
    assert_int_equal(d->nodes[obj].type, J_OBJ);
    int found = -1;
    for (int c = d->nodes[obj].first; c >= 0; c = d->nodes[c].next) {
        if (d->nodes[c].key_len == strlen(key) && memcmp(d->nodes[c].key, key, d->nodes[c].key_len) == 0) {
            if (found >= 0)
                fail_msg("duplicate key %s", key);
            found = c;
        }
    }
    return found;
}

static int jat(const jdoc_t *d, int arr, int i)
{
    assert_int_equal(d->nodes[arr].type, J_ARR);
    int c = d->nodes[arr].first;
    while (c >= 0 && i-- > 0)
        c = d->nodes[c].next;
    return c;
}

/* A number member that must be a non-negative integer equal to want. */
static void jexpect(const jdoc_t *d, int obj, const char *key, uint64_t want)
{
    int n = jget(d, obj, key);
    if (n < 0)
        fail_msg("missing %s", key);
    assert_int_equal(d->nodes[n].type, J_NUM);
    if (d->nodes[n].num != (double)want)
        fail_msg("%s: %.0f in JSON, %llu in C", key, d->nodes[n].num, (unsigned long long)want);
}

static void jexpect_str(const jdoc_t *d, int obj, const char *key, const char *want)
{
    int n = jget(d, obj, key);
    if (n < 0)
        fail_msg("missing %s", key);
    assert_int_equal(d->nodes[n].type, J_STR);
    if (d->nodes[n].str_len != strlen(want) || memcmp(d->nodes[n].str, want, d->nodes[n].str_len) != 0)
        fail_msg("%s: '%.*s', expected '%s'", key, (int)d->nodes[n].str_len, d->nodes[n].str, want);
}

/* ---- fixture: two stacks on a virtual wire, A has pinged B -------------------- */

typedef struct fixture {
    wire2_t n;
    tern_test_port_t pa, pb;
    tern_test_sink_t sink;
    jdoc_t doc;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    tern_vwire_params_t params = {0};
    tern_test_port_init(&f->pa, 1);
    tern_test_port_init(&f->pb, 2);
    wire2_attach(&f->n, 3, &params, &f->pa.port, &f->pb.port);
    /* A gateway on A: the dashboard shows it. */
    tern_netif_set_addr(&f->n.nif_a, W2_IP_A, W2_MASK, TERN_IP4(192, 0, 2, 254));
    tern_vwire_run(&f->n.wire, 10);
    for (uint16_t i = 0; i < 3; i++) {
        assert_int_equal(tern_ping_send(f->n.a, TERN_IP4(192, 0, 2, 2), 1, i, "abc", 3), TERN_OK);
        tern_vwire_run(&f->n.wire, tern_vwire_now(&f->n.wire) + 100);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tern_netif_remove(f->n.a, &f->n.nif_a);
    tern_netif_remove(f->n.b, &f->n.nif_b);
    wire2_deinit(&f->n);
    free(f);
    return 0;
}

static int render(fixture_t *f, const tern_stats_section_t *extra)
{
    tern_test_sink_reset(&f->sink);
    uint32_t before = tern_ledger_attempts(&f->n.a->ledger);
    tern_stats_json_ex(f->n.a, extra, tern_test_sink_write, &f->sink);
    assert_int_equal(tern_ledger_attempts(&f->n.a->ledger), before); /* no allocation */
    assert_true(f->sink.len < sizeof f->sink.text - 1); /* not truncated */
    if (jparse(&f->doc, f->sink.text, f->sink.len) != 0)
        fail_msg("invalid JSON near offset %d: %.60s", (int)(f->doc.s - f->sink.text), f->doc.s);
    return 0;
}

static void test_values_match(void **state)
{
    fixture_t *f = *state;
    /* Some application memory, so the ledger has more than init figures. */
    void *app = tern_mem_alloc(&f->n.a->ledger, 100, TERN_MEM_APPLICATION, 3);
    assert_non_null(app);
    render(f, NULL);
    const jdoc_t *d = &f->doc;
    jexpect(d, 0, "schema", TERN_STATS_SCHEMA);
    jexpect(d, 0, "now_ms", f->n.a->now);

    tern_heap_stats_t hs;
    tern_heap_get_stats(&f->n.a->heap, &hs);
    int heap = jget(d, 0, "heap");
    jexpect(d, heap, "total", hs.total);
    jexpect(d, heap, "used", hs.used);
    jexpect(d, heap, "free", hs.free);
    jexpect(d, heap, "min_free", hs.min_free);
    jexpect(d, heap, "largest_free_block", hs.largest_free_block);
    jexpect(d, heap, "largest_alloc", hs.largest_alloc);
    jexpect(d, heap, "free_blocks", hs.free_blocks);
    jexpect(d, heap, "used_blocks", hs.used_blocks);
    jexpect(d, heap, "allocs", hs.allocs);
    jexpect(d, heap, "failures", hs.failures);

    int ledger = jget(d, 0, "ledger");
    jexpect(d, ledger, "overhead", tern_ledger_overhead(&f->n.a->ledger));
    int cats = jget(d, ledger, "categories");
    assert_int_equal(d->nodes[cats].count, TERN_MEM_CATEGORY_COUNT);
    size_t sum = 0;
    for (int c = 0; c < TERN_MEM_CATEGORY_COUNT; c++) {
        const tern_ledger_category_stats_t *cs = tern_ledger_category(&f->n.a->ledger, (tern_mem_category_t)c);
        int row = jat(d, cats, c);
        jexpect_str(d, row, "name", tern_ledger_category_label(&f->n.a->ledger, (tern_mem_category_t)c));
        jexpect(d, row, "bytes", cs->bytes);
        jexpect(d, row, "peak", cs->peak_bytes);
        jexpect(d, row, "blocks", cs->blocks);
        jexpect(d, row, "static", cs->static_bytes);
        sum += cs->bytes;
    }
    assert_int_equal(sum + tern_ledger_overhead(&f->n.a->ledger), hs.used); /* the ledger's promise */
    int app_row = jat(d, cats, TERN_MEM_APPLICATION);
    jexpect(d, app_row, "bytes", 100);
    /* Owner 3 holds exactly the application block. */
    int owners = jget(d, ledger, "owners");
    int found = 0;
    for (int o = d->nodes[owners].first; o >= 0; o = d->nodes[o].next) {
        int id = jget(d, o, "owner");
        if (d->nodes[id].type == J_NUM && d->nodes[id].num == 3) {
            jexpect(d, o, "bytes", 100);
            found = 1;
        }
    }
    assert_true(found);

    int nb = jget(d, 0, "netbufs");
    jexpect(d, nb, "count", TERN_NETBUF_COUNT);
    jexpect(d, nb, "free", tern_netbuf_free_count(&f->n.a->netbufs));
    jexpect(d, nb, "in_use", TERN_NETBUF_COUNT - tern_netbuf_free_count(&f->n.a->netbufs));
    jexpect(d, nb, "min_free", tern_netbuf_min_free(&f->n.a->netbufs));
    jexpect(d, nb, "exhausted", f->n.a->netbufs.exhausted);
    jexpect(d, nb, "gets", f->n.a->netbufs.gets);
    jexpect_str(d, nb, "scheme", TERN_NETBUF_SCHEME == TERN_NETBUF_STATIC ? "STATIC" : "HEAP");
    jexpect(d, nb, "static_bytes", tern_ledger_category(&f->n.a->ledger, TERN_MEM_NETWORK_BUFFER)->static_bytes);
    assert_true(f->n.a->netbufs.gets > 0); /* the pings used buffers: the figures are not all zero */

    int ifs = jget(d, 0, "interfaces");
    assert_int_equal(d->nodes[ifs].count, 1);
    int if0 = jat(d, ifs, 0);
    jexpect_str(d, if0, "addr", "192.0.2.1");
    jexpect_str(d, if0, "netmask", "255.255.255.0");
    jexpect_str(d, if0, "gateway", "192.0.2.254");
    jexpect_str(d, if0, "mac", "02:00:00:00:00:0a");
    jexpect(d, if0, "link_up", f->n.nif_a.link_up);
    jexpect(d, if0, "mtu", f->n.nif_a.mtu);

    /* ARP: the same entries as tern_arp_entry_info, B among them. */
    int arp = jget(d, 0, "arp");
    tern_arp_info_t info;
    unsigned entries = 0;
    while (tern_arp_entry_info(f->n.a, entries, &info) == TERN_OK)
        entries++;
    assert_true(entries >= 1);
    assert_int_equal(d->nodes[arp].count, (int)entries);
    for (unsigned i = 0; i < entries; i++) {
        tern_arp_entry_info(f->n.a, i, &info);
        int row = jat(d, arp, (int)i);
        char ip[16];
        snprintf(ip, sizeof ip, "%u.%u.%u.%u", info.ip >> 24, (info.ip >> 16) & 255u, (info.ip >> 8) & 255u,
                 info.ip & 255u);
        jexpect_str(d, row, "ip", ip);
        jexpect(d, row, "age_ms", info.age_ms);
        jexpect(d, row, "queued", info.queued);
        if (info.ip == TERN_IP4(192, 0, 2, 2)) {
            jexpect_str(d, row, "mac", "02:00:00:00:00:0b");
            jexpect_str(d, row, "state", "resolved");
        }
    }

    /* Every counter of TERN_COUNTER_LIST, under its layer, with its value. */
    int counters = jget(d, 0, "counters");
    const tern_counters_t *cv = tern_stack_counters(f->n.a);
#define CHECK_COUNTER(layer, name, desc) jexpect(d, jget(d, counters, #layer), #name, cv->layer##_##name);
    TERN_COUNTER_LIST(CHECK_COUNTER)
#undef CHECK_COUNTER
    assert_true(cv->icmp_echo_reply_rx >= 3);

    /* Sockets and TCP: present, of the right shape. */
    int socks = jget(d, 0, "sockets");
    assert_int_equal(d->nodes[socks].type, J_ARR);
    assert_int_equal(d->nodes[socks].count, 0);
    int tcp = jget(d, 0, "tcp");
    assert_int_equal(d->nodes[tcp].type, J_OBJ);
    jexpect(d, jget(d, tcp, "ranges"), "count", TERN_TCP_RANGE_COUNT);
    assert_int_equal(jget(d, tcp, "connections_total") >= 0, 1);
    tern_mem_free(&f->n.a->ledger, app);
}

static tern_tcp_pcb_t *accepted;

static int accept_one(void *arg, tern_tcp_pcb_t *listener, tern_tcp_pcb_t *pcb)
{
    (void)arg;
    (void)listener;
    accepted = pcb;
    return TERN_OK;
}

/* With a listener and a connection: the TCP section matches tern_tcp_list,
 * tern_tcp_stats and the descriptor pool. */
static void test_tcp_section(void **state)
{
    fixture_t *f = *state;
    int err;
    static const tern_tcp_callbacks_t lcbs = {.accept = accept_one};
    accepted = NULL;
    tern_tcp_pcb_t *l = tern_tcp_listen(f->n.b, 7777, 2, &lcbs, NULL, &err);
    assert_non_null(l);
    tern_tcp_pcb_t *c = tern_tcp_connect(f->n.a, TERN_IP4(192, 0, 2, 2), 7777, NULL, NULL, &err);
    assert_non_null(c);
    tern_vwire_run(&f->n.wire, tern_vwire_now(&f->n.wire) + 200);
    assert_non_null(accepted);
    assert_int_equal(tern_tcp_state(c), TERN_TCP_ESTABLISHED);
    render(f, NULL);
    const jdoc_t *d = &f->doc;
    int tcp = jget(d, 0, "tcp");
    int seg = jget(d, tcp, "ranges");
    jexpect(d, seg, "count", TERN_TCP_RANGE_COUNT);
    jexpect(d, seg, "free", f->n.a->tcp.range_free_count);
    jexpect(d, seg, "in_use", TERN_TCP_RANGE_COUNT - f->n.a->tcp.range_free_count);
    tern_tcp_range_usage_t usage;
    tern_tcp_range_usage(f->n.a, &usage);
    jexpect(d, seg, "peak", usage.peak);
    tern_tcp_info_t rows[8];
    size_t total = tern_tcp_list(f->n.a, rows, 8);
    assert_true(total >= 1);
    jexpect(d, tcp, "connections_total", total);
    int conns = jget(d, tcp, "connections");
    assert_int_equal(d->nodes[conns].count, (int)(total < 8 ? total : 8));
    int r0 = jat(d, conns, 0);
    jexpect_str(d, r0, "state", tern_tcp_state_name(rows[0].state));
    jexpect(d, r0, "local_port", rows[0].local_port);
    jexpect(d, r0, "remote_port", rows[0].remote_port);
    jexpect(d, r0, "bytes_held", rows[0].bytes_held);
    const tern_tcp_stats_t *ts = tern_tcp_stats(f->n.a);
    int st = jget(d, tcp, "stats");
    jexpect(d, st, "tx", ts->tx);
    jexpect(d, st, "rx", ts->rx);
    jexpect(d, st, "active_opens", ts->active_opens);
    jexpect(d, st, "drop_window", ts->drop_window);
    assert_true(ts->active_opens == 1);
    tern_tcp_abort(c);
    tern_tcp_abort(accepted);
    tern_tcp_close(l);
    tern_vwire_run(&f->n.wire, tern_vwire_now(&f->n.wire) + 200);
    int cfg = jget(d, 0, "config");
    jexpect(d, cfg, "heap_size", TERN_HEAP_SIZE);
    jexpect(d, cfg, "netbuf_count", TERN_NETBUF_COUNT);
    jexpect(d, cfg, "tcp_range_count", TERN_TCP_RANGE_COUNT);
}

static void test_sockets_listed(void **state)
{
    fixture_t *f = *state;
    int s = tern_socket(f->n.a, TERN_SOCK_DGRAM);
    assert_true(s > 0);
    render(f, NULL);
    const jdoc_t *d = &f->doc;
    int socks = jget(d, 0, "sockets");
    assert_int_equal(d->nodes[socks].count, 1);
    int row = jat(d, socks, 0);
    jexpect(d, row, "id", (uint64_t)s);
    size_t held = tern_ledger_owner_bytes(&f->n.a->ledger, (unsigned)s);
    assert_true(held > 0); /* its structure is charged to it */
    jexpect(d, row, "bytes", held);
    assert_int_equal(tern_close(f->n.a, s), TERN_OK);
    render(f, NULL);
    assert_int_equal(f->doc.nodes[jget(&f->doc, 0, "sockets")].count, 0);
}

static void extra_fn(const tern_stack_t *stack, void *arg, tern_writer_fn write, void *ctx)
{
    (void)stack;
    write(ctx, "{", 1);
    tern_stats_write_uint(write, ctx, "value", *(const unsigned *)arg, 1);
    write(ctx, ",\"text\":", 8);
    tern_stats_write_string(write, ctx, "q\"b\\s\x01\n\x1f end");
    write(ctx, "}", 1);
}

static void test_extra_sections_and_escaping(void **state)
{
    fixture_t *f = *state;
    unsigned v1 = 42, v2 = 7;
    tern_stats_section_t s2 = {NULL, "driver", extra_fn, &v2};
    tern_stats_section_t s1 = {&s2, "http", extra_fn, &v1};
    render(f, &s1);
    const jdoc_t *d = &f->doc;
    jexpect(d, jget(d, 0, "http"), "value", 42);
    jexpect(d, jget(d, 0, "driver"), "value", 7);
    jexpect_str(d, jget(d, 0, "http"), "text", "q\\\"b\\\\s\\u0001\\u000a\\u001f end");
    /* tern_stats_json is the same document without the extras. */
    tern_test_sink_reset(&f->sink);
    tern_stats_json(f->n.a, tern_test_sink_write, &f->sink);
    assert_int_equal(jparse(&f->doc, f->sink.text, f->sink.len), 0);
    assert_int_equal(jget(&f->doc, 0, "http"), -1);
}

/* The parser in this test must itself refuse bad JSON, or it proves nothing. */
static void test_parser_rejects(void **state)
{
    (void)state;
    static jdoc_t d;
    static const char *const bad[] = {
        "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "{\"a\":01}", "\"\x01\"", "{\"a\":1}x", "{a:1}", "[\"\\q\"]", "",
        "{\"a\":tru}", "[1 2]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (jparse(&d, bad[i], strlen(bad[i])) == 0)
            fail_msg("accepted invalid JSON: %s", bad[i]);
    }
    const char *good = " {\"a\":[1,-2.5e3,\"x\\u00e9\",true,false,null,{}],\"b\":{}} ";
    assert_int_equal(jparse(&d, good, strlen(good)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_values_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sockets_listed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_section, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extra_sections_and_escaping, setup, teardown),
        cmocka_unit_test(test_parser_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
