/* tern-plan: the RAM a configuration and a workload need, predicted from
 * the planner's formulas (include/tern/plan.h) and the struct sizes of a
 * real build: this host build's own, or a firmware ELF's "tern_plan"
 * section (--elf). docs/memory.md ("Planner") explains the output.
 *
 *   tern-plan [--elf FILE [--elf-workload]] [--json] [--scenario FILE] [key=value ...]
 *             [--fit-connections COUNT:RCV:SND:STATE] [--heap BYTES]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/dhcp.h"
#include "tern/dns.h"
#include "tern/http.h"
#include "tern/plan.h"
#include "tern/stack.h"

/* Never called (argc is never negative): it links in the modules whose
 * sizes the table holds (a static library only brings the objects
 * something uses). */
static void plan_link_modules(void)
{
    (void)tern_stack_init(NULL, NULL);
    (void)tern_dhcp_start(NULL, NULL);
    (void)tern_dns_start(NULL);
    (void)tern_http_server_start(NULL, NULL, 0, NULL, NULL);
}

static const char *const plan_states[] = {"idle", "rx", "tx", "busy"};

static int parse_u32(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    uint32_t mul = 1;
    if (*end == 'K' || *end == 'k') {
        mul = 1024;
        end++;
    }
    if (errno != 0 || end == s || *end != '\0' || v * mul > 0xFFFFFFFFull)
        return -1;
    *out = (uint32_t)(v * mul);
    return 0;
}

/* COUNT[:RCV[:SND]][:STATE], STATE idle | rx | tx | busy (default busy). */
static int parse_shape(const char *s, tern_plan_tcp_shape_t *sh)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    memset(sh, 0, sizeof *sh);
    sh->rx = sh->tx = 1;
    char *save = NULL;
    char *tok = strtok_r(buf, ":,", &save);
    for (int i = 0; tok != NULL; i++, tok = strtok_r(NULL, ":,", &save)) {
        uint32_t v = 0;
        unsigned st;
        for (st = 0; st < 4u && strcmp(tok, plan_states[st]) != 0; st++)
            ;
        if (st < 4u) { /* the state, wherever it comes */
            sh->rx = (uint8_t)(st & 1u);
            sh->tx = (uint8_t)((st >> 1) & 1u);
            i = 3;
        } else if (parse_u32(tok, &v) != 0 || i > 3) {
            return -1;
        } else if (i == 0) {
            sh->count = v;
        } else if (i == 1) {
            sh->rcvbuf = v;
        } else {
            sh->sndbuf = v;
        }
    }
    return 0;
}

typedef struct opts {
    char name[64];
    uint32_t heap; /* 0: the build's TERN_HEAP_SIZE */
} opts_t;

#define PLAN_KEYS(X)                                                                                           \
    X(listeners, tcp_listeners) X(backlog, tcp_backlog) X(pending, tcp_pending) X(raw, tcp_raw)                 \
    X(udp, udp_sockets) X(udp_queued, udp_queued) X(udp_datagram, udp_datagram) X(netbufs, netbufs)             \
    X(netbuf_frame, netbuf_frame) X(reass, reass_datagrams) X(reass_bytes, reass_bytes) X(dhcp, dhcp) X(dns, dns) \
    X(dns_entries, dns_entries) X(dns_queries, dns_queries) X(dns_name, dns_name) X(http_conns, http_conns)      \
    X(http_docs, http_docs) X(http_doc_bytes, http_doc_bytes) X(app_blocks, app_blocks)                           \
    X(app_block_bytes, app_block_bytes) X(reass6, reass6_datagrams) X(reass6_bytes, reass6_bytes)               \
    X(netbuf_bound, netbuf_bound)

/* One key=value of a scenario. */
static int apply(tern_plan_workload_t *w, opts_t *o, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (eq == NULL)
        return -1;
    size_t kl = (size_t)(eq - kv);
    const char *v = eq + 1;
    uint32_t n = 0;
#define PLAN_KEY_(k, f)                                                    \
    if (kl == strlen(#k) && strncmp(kv, #k, kl) == 0)                      \
        return parse_u32(v, &n) == 0 ? (w->f = n, 0) : -1;
    PLAN_KEYS(PLAN_KEY_)
#undef PLAN_KEY_
    if (kl == 4 && strncmp(kv, "name", 4) == 0) {
        snprintf(o->name, sizeof o->name, "%s", v);
        return 0;
    }
    if (kl == 4 && strncmp(kv, "heap", 4) == 0)
        return parse_u32(v, &o->heap);
    if (kl == 3 && strncmp(kv, "tcp", 3) == 0) {
        for (unsigned i = 0; i < TERN_PLAN_TCP_SHAPES; i++)
            if (w->tcp[i].count == 0u)
                return parse_shape(v, &w->tcp[i]);
        return -1;
    }
    return -1;
}

static int load_scenario(tern_plan_workload_t *w, opts_t *o, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "tern-plan: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[256];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char *h = strchr(line, '#');
        if (h != NULL)
            *h = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
            s[--n] = '\0';
        if (n == 0)
            continue;
        if (apply(w, o, s) != 0) {
            fprintf(stderr, "tern-plan: %s:%d: bad line '%s'\n", path, lineno, s);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

/* ---- sizes from a firmware ELF (32 or 64 bit, little-endian) ------------- */

static uint64_t rd(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i > 0; i--)
        v = (v << 8) | p[i - 1];
    return v;
}

/* The sizes from the image's tern_plan section, and its workload from
 * tern_plan_workload when it has one and w is not NULL (a tern_plan_workload_t
 * of uint32_t and uint8_t fields: one layout on 32- and 64-bit targets). */
static int sizes_from_elf(const char *path, tern_plan_sizes_t *s, tern_plan_workload_t *w)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "tern-plan: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *img = len > 64 ? malloc((size_t)len) : NULL;
    int rc = -1;
    if (img == NULL || fread(img, 1, (size_t)len, f) != (size_t)len || memcmp(img, "\177ELF", 4) != 0 ||
        img[5] != 1) {
        fprintf(stderr, "tern-plan: %s: not a little-endian ELF file\n", path);
        goto out;
    }
    int is64 = img[4] == 2;
    uint64_t shoff = is64 ? rd(img + 0x28, 8) : rd(img + 0x20, 4);
    unsigned shentsize = (unsigned)rd(img + (is64 ? 0x3A : 0x2E), 2);
    unsigned shnum = (unsigned)rd(img + (is64 ? 0x3C : 0x30), 2);
    unsigned shstrndx = (unsigned)rd(img + (is64 ? 0x3E : 0x32), 2);
    if (shoff + (uint64_t)shnum * shentsize > (uint64_t)len || shstrndx >= shnum)
        goto bad;
    const uint8_t *strsh = img + shoff + (uint64_t)shstrndx * shentsize;
    uint64_t stroff = is64 ? rd(strsh + 0x18, 8) : rd(strsh + 0x10, 4);
    for (unsigned i = 0; i < shnum; i++) {
        const uint8_t *sh = img + shoff + (uint64_t)i * shentsize;
        uint64_t name = rd(sh, 4);
        uint64_t off = is64 ? rd(sh + 0x18, 8) : rd(sh + 0x10, 4);
        uint64_t size = is64 ? rd(sh + 0x20, 8) : rd(sh + 0x14, 4);
        if (stroff + name + 20u > (uint64_t)len || off + size > (uint64_t)len)
            continue;
        const char *nm = (const char *)img + stroff + name;
        if (strcmp(nm, "tern_plan") == 0) {
            if (tern_plan_sizes_parse(s, img + off, (size_t)size) == 0u)
                goto bad;
            rc = 0;
        } else if (w != NULL && strcmp(nm, "tern_plan_workload") == 0 && size == sizeof *w) {
            memcpy(w, img + off, sizeof *w);
        }
    }
    if (rc != 0)
        fprintf(stderr, "tern-plan: %s: no tern_plan section (a tern build with the planner's size table?)\n",
                path);
    goto out;
bad:
    fprintf(stderr, "tern-plan: %s: malformed ELF or size table\n", path);
out:
    free(img);
    fclose(f);
    return rc;
}

/* ---- output ----------------------------------------------------------------- */

static void print_table(const opts_t *o, const char *src, const tern_plan_sizes_t *s, const tern_plan_t *p,
                        uint64_t heap)
{
    printf("plan: %s (sizes from %s)\n", o->name[0] ? o->name : "workload", src);
    /* The backend the sizes' image allocates from (the fingerprint's
     * TERN_STATIC_ONLY): the heap figures below are its worst case either
     * way; a static-only image reserves each kind in pools instead. */
    printf("backend: %s\n", s->static_only ? "static-only pools (TERN_STATIC_ONLY: no heap; the pools: scripts/pool-table)"
                                          : "heap (tern_heap)");
    printf("%-16s %7s %9s %9s\n", "category", "blocks", "bytes", "heap");
    for (unsigned c = 0; c < TERN_PLAN_CAT_COUNT; c++) {
        const tern_plan_cat_t *k = &p->cat[c];
        if (k->blocks == 0u)
            continue;
        printf("%-16s %7u %9llu %9llu\n", tern_plan_cat_name(c), k->blocks, (unsigned long long)k->bytes,
               (unsigned long long)k->gross);
    }
    printf("%-16s %7llu %9llu %9llu  (headers, rounding: %llu)\n", "total", (unsigned long long)p->blocks,
           (unsigned long long)p->bytes, (unsigned long long)p->gross, (unsigned long long)(p->gross - p->bytes));
    printf("+ unsplit remainders, at most %u per block      %9llu\n", s->heap_min_block - s->heap_align,
           (unsigned long long)p->slack);
    printf("= heap in use at the worst case                 %9llu\n", (unsigned long long)p->heap_need);
    if (p->margin < p->margin_one_ended) {
        /* The two-ended bound (docs/memory.md): each side's own. */
        printf("+ fragmentation margin                          %9llu\n", (unsigned long long)p->margin);
        for (unsigned side = 0; side < 2u; side++)
            printf("    %s blocks (%s %u B): %u, the largest %u: (%u - 1) x (%u - %u) = %llu\n",
                   side ? "large" : "small", side ? ">=" : "<", s->heap_large, p->side_blocks[side],
                   p->side_largest[side], p->side_blocks[side], p->side_largest[side], s->heap_align,
                   (unsigned long long)p->side_margin[side]);
        if (p->side_need[0] + p->side_need[1] > p->heap_need)
            printf("    + buffers or reassembly counted on both sides: %llu\n",
                   (unsigned long long)(p->side_need[0] + p->side_need[1] - p->heap_need));
        printf("    (one-ended bound (%llu - 1) x (%u - %u) = %llu; Robson's first-fit bound: %llu)\n",
               (unsigned long long)p->blocks, p->largest, s->heap_align, (unsigned long long)p->margin_one_ended,
               (unsigned long long)p->margin_robson);
    } else {
        printf("+ fragmentation margin, (%llu - 1) x (%u - %u)   %9llu  (Robson's first-fit bound: %llu)\n",
               (unsigned long long)p->blocks, p->largest, s->heap_align, (unsigned long long)p->margin,
               (unsigned long long)p->margin_robson);
    }
    printf("= heap needed                                   %9llu\n", (unsigned long long)p->heap_total);
    printf("heap configured (arena %u - end marker %u)       %9llu: %s\n", (unsigned)(heap + s->heap_header),
           s->heap_header, (unsigned long long)heap,
           p->heap_total <= heap   ? "fits, fragmentation included"
           : p->heap_need <= heap ? "fits, but not with the fragmentation margin"
                                  : "DOES NOT FIT");
    printf("static: struct tern_stack %llu bytes (heap arena %u, network buffers %llu: %u x %u descriptors%s)\n",
           (unsigned long long)p->static_bytes, s->heap_size, (unsigned long long)p->static_netbuf, s->netbuf_count,
           s->netbuf_desc, s->netbuf_scheme == 1u ? " + STATIC storage" : ", HEAP storage");
}

static void print_json(const opts_t *o, const char *src, const tern_plan_sizes_t *s, const tern_plan_t *p,
                       uint64_t heap, int fit, uint32_t fits, uint32_t fits_nomargin)
{
    printf("{\"name\":\"%s\",\"sizes\":\"%s\",\"backend\":\"%s\",\"categories\":{", o->name, src,
           s->static_only ? "static" : "heap");
    int first = 1;
    for (unsigned c = 0; c < TERN_PLAN_CAT_COUNT; c++) {
        const tern_plan_cat_t *k = &p->cat[c];
        printf("%s\"%s\":{\"blocks\":%u,\"bytes\":%llu,\"heap\":%llu}", first ? "" : ",", tern_plan_cat_name(c),
               k->blocks, (unsigned long long)k->bytes, (unsigned long long)k->gross);
        first = 0;
    }
    printf("},\"blocks\":%llu,\"bytes\":%llu,\"heap_gross\":%llu,\"slack\":%llu,\"heap_need\":%llu,"
           "\"margin\":%llu,\"margin_one_ended\":%llu,\"margin_robson\":%llu,\"heap_total\":%llu,\"heap_configured\":%llu,"
           "\"fits\":%s,\"fits_without_margin\":%s,\"static\":{\"stack\":%llu,\"heap_arena\":%u,\"netbuf\":%llu}",
           (unsigned long long)p->blocks, (unsigned long long)p->bytes, (unsigned long long)p->gross,
           (unsigned long long)p->slack, (unsigned long long)p->heap_need, (unsigned long long)p->margin,
           (unsigned long long)p->margin_one_ended, (unsigned long long)p->margin_robson, (unsigned long long)p->heap_total, (unsigned long long)heap,
           p->heap_total <= heap ? "true" : "false", p->heap_need <= heap ? "true" : "false",
           (unsigned long long)p->static_bytes, s->heap_size, (unsigned long long)p->static_netbuf);
    if (fit)
        printf(",\"fit_connections\":%u,\"fit_connections_without_margin\":%u", fits, fits_nomargin);
    printf("}\n");
}

static void usage(void)
{
    fprintf(stderr,
            "usage: tern-plan [--elf FIRMWARE.elf [--elf-workload]] [--json] [--scenario FILE] [key=value ...]\n"
            "                 [--fit-connections COUNT:RCV:SND:STATE] [--heap BYTES]\n"
            "keys: name heap listeners backlog pending raw tcp=COUNT:RCV:SND:STATE (STATE idle|rx|tx|busy)\n"
            "      udp udp_queued udp_datagram netbufs netbuf_frame reass reass_bytes dhcp dns dns_entries\n"
            "      dns_queries dns_name http_conns http_docs http_doc_bytes app_blocks app_block_bytes\n"
            "      reass6 reass6_bytes (IPv6 reassembly) netbuf_bound (1: HEAP buffers at their bound)\n");
}

int main(int argc, char **argv)
{
    if (argc < 0)
        plan_link_modules();
    tern_plan_workload_t w;
    memset(&w, 0, sizeof w);
    opts_t o;
    memset(&o, 0, sizeof o);
    tern_plan_sizes_t s;
    const char *src = "this host build";
    const char *elf = NULL;
    int json = 0, fit = 0, elf_workload = 0;
    tern_plan_tcp_shape_t shape;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--elf") == 0 && i + 1 < argc) {
            elf = argv[++i];
        } else if (strcmp(a, "--elf-workload") == 0) {
            elf_workload = 1;
        } else if (strcmp(a, "--scenario") == 0 && i + 1 < argc) {
            if (load_scenario(&w, &o, argv[++i]) != 0)
                return 2;
        } else if (strcmp(a, "--fit-connections") == 0 && i + 1 < argc) {
            if (parse_shape(argv[++i], &shape) != 0) {
                usage();
                return 2;
            }
            fit = 1;
        } else if (strcmp(a, "--heap") == 0 && i + 1 < argc) {
            if (parse_u32(argv[++i], &o.heap) != 0) {
                usage();
                return 2;
            }
        } else if (apply(&w, &o, a) != 0) {
            usage();
            return 2;
        }
    }
    if (elf != NULL) {
        tern_plan_workload_t from_elf;
        memset(&from_elf, 0, sizeof from_elf);
        if (sizes_from_elf(elf, &s, elf_workload ? &from_elf : NULL) != 0)
            return 1;
        if (elf_workload) {
            w = from_elf;
            if (o.name[0] == '\0')
                snprintf(o.name, sizeof o.name, "the image's own workload");
        }
        src = elf;
    } else if (tern_plan_sizes_self(&s) == 0u) {
        fprintf(stderr, "tern-plan: this build has no size table\n");
        return 1;
    }
    uint64_t heap = (o.heap != 0u ? o.heap : s.heap_size) - s.heap_header;
    tern_plan_t p;
    tern_plan_compute(&s, &w, &p);
    uint32_t fits = 0, fits_nomargin = 0;
    if (fit) {
        fits = tern_plan_fit_connections(&s, &w, &shape, heap, 1);
        fits_nomargin = tern_plan_fit_connections(&s, &w, &shape, heap, 0);
    }
    if (json) {
        print_json(&o, src, &s, &p, heap, fit, fits, fits_nomargin);
    } else {
        print_table(&o, src, &s, &p, heap);
        if (fit)
            printf("connections of shape %u:%u:%s that fit besides the workload: %u (%u with the fragmentation "
                   "margin)\n",
                   shape.rcvbuf ? shape.rcvbuf : s.tcp_rcvbuf, shape.sndbuf ? shape.sndbuf : s.tcp_sndbuf,
                   plan_states[shape.rx | (shape.tx << 1)], fits_nomargin, fits);
    }
    return 0;
}
