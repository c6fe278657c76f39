/* Network buffers: descriptors with storage, STATIC or HEAP scheme. */
#include "tern/netbuf.h"

#include <string.h>
#include "tern/err.h"
#include "tern/plan.h"

/* The sizes of this module's memory, for the planner (tern/plan.h). */
TERN_PLAN_SIZE(netbuf_desc, sizeof(tern_netbuf_t));
TERN_PLAN_SIZE(netbuf_count, TERN_NETBUF_COUNT);
TERN_PLAN_SIZE(netbuf_scheme, TERN_NETBUF_SCHEME);
TERN_PLAN_SIZE(netbuf_storage, TERN_NETBUF_STORAGE_SIZE);
TERN_PLAN_SIZE(netbuf_frame_offset, TERN_NETBUF_FRAME_OFFSET);
TERN_PLAN_SIZE(netbuf_frame_size, TERN_NETBUF_FRAME_SIZE);
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
/* Static-only build: a slot per descriptor, each for the largest frame. */
TERN_STATIC_POOL(netbuf_storage, TERN_MEM_NETWORK_BUFFER, TERN_NETBUF_FRAME_OFFSET + TERN_NETBUF_FRAME_SIZE,
                 TERN_NETBUF_COUNT);
#endif

_Static_assert(TERN_NETBUF_FRAME_OFFSET >= sizeof(void *) + 2u, "back-pointer must fit before the frame");
_Static_assert(TERN_NETBUF_STORAGE_SIZE - TERN_NETBUF_FRAME_OFFSET <= 65535u, "capacity must fit 16 bits");

static void netbuf_complain(const tern_netbuf_pool_t *pool, const char *what)
{
    if (pool->port && pool->port->log)
        pool->port->log(pool->port->ctx, TERN_LOG_ERROR, what);
#if TERN_DEBUG
    if (pool->port && pool->port->assert_failed)
        pool->port->assert_failed(pool->port->ctx, what);
#endif
}

/* Is nb one of this pool's descriptors? Compared as integers: pointer
 * relations between unrelated objects are undefined in C. */
static int netbuf_is_descriptor(const tern_netbuf_pool_t *pool, const tern_netbuf_t *nb)
{
    uintptr_t first = (uintptr_t)&pool->bufs[0];
    uintptr_t p = (uintptr_t)nb;
    if (p < first || p >= first + sizeof pool->bufs)
        return 0;
    return (p - first) % sizeof pool->bufs[0] == 0u;
}

int tern_netbuf_pool_init(tern_netbuf_pool_t *pool, tern_ledger_t *ledger, const tern_port_t *port)
{
    memset(pool->bufs, 0, sizeof pool->bufs);
    pool->ledger = ledger;
    pool->port = port;
    pool->free_list = NULL;
    for (unsigned i = TERN_NETBUF_COUNT; i-- > 0u;) {
        tern_netbuf_t *nb = &pool->bufs[i];
#if TERN_NETBUF_SCHEME == TERN_NETBUF_STATIC
        nb->storage = pool->storage[i];
#endif
        nb->next = pool->free_list;
        pool->free_list = nb;
    }
    pool->free_count = TERN_NETBUF_COUNT;
    pool->min_free = TERN_NETBUF_COUNT;
    pool->waiters = 0;
    pool->gets = 0;
    pool->releases = 0;
    pool->exhausted = 0;
    pool->bad_releases = 0;
    /* Descriptors (and STATIC storage) are reserved at build time: shown in
     * the ledger's static column, never on the heap. */
    tern_ledger_note_static(ledger, TERN_MEM_NETWORK_BUFFER, sizeof pool->bufs);
#if TERN_NETBUF_SCHEME == TERN_NETBUF_STATIC
    tern_ledger_note_static(ledger, TERN_MEM_NETWORK_BUFFER, sizeof pool->storage);
#endif
    return TERN_OK;
}

/* Take a descriptor and its storage, or NULL. */
static tern_netbuf_t *netbuf_take(tern_netbuf_pool_t *pool, size_t frame_len)
{
    tern_netbuf_t *nb = pool->free_list;
    if (nb == NULL)
        return NULL;
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
    /* Exact size: the frame plus the back-pointer slot. */
    nb->storage = tern_mem_alloc(pool->ledger, TERN_NETBUF_FRAME_OFFSET + frame_len, TERN_MEM_NETWORK_BUFFER,
                                 TERN_OWNER_STACK);
    if (nb->storage == NULL)
        return NULL;
    nb->capacity = (uint16_t)frame_len;
#else
    nb->capacity = (uint16_t)(TERN_NETBUF_STORAGE_SIZE - TERN_NETBUF_FRAME_OFFSET);
#endif
    pool->free_list = nb->next;
    /* The back-pointer itself goes in the slot (not what it points to). */
    // cppcheck-suppress pointerSize
    memcpy(nb->storage, &nb, sizeof(tern_netbuf_t *));
    nb->next = NULL;
    nb->data = nb->storage + TERN_NETBUF_FRAME_OFFSET;
    nb->len = (uint16_t)frame_len;
    nb->flags = TERN_NETBUF_F_IN_USE;
    nb->owner = TERN_OWNER_STACK;
    nb->scratch = 0;
    nb->tso_mss = 0;
    pool->free_count--;
    if (pool->free_count < pool->min_free)
        pool->min_free = pool->free_count;
    pool->gets++;
    return nb;
}

tern_netbuf_t *tern_netbuf_get(tern_netbuf_pool_t *pool, size_t frame_len, uint32_t timeout_ms)
{
    if (frame_len > TERN_NETBUF_FRAME_SIZE)
        return NULL;
    tern_netbuf_t *nb = netbuf_take(pool, frame_len);
    if (nb != NULL)
        return nb;
    pool->exhausted++;
    const tern_port_t *port = pool->port;
    if (timeout_ms == 0u || port == NULL || port->wait == NULL || port->now_ms == NULL)
        return NULL;
    /* Wait for a release (which wakes all waiters), re-checking each time. */
    uint32_t start = port->now_ms(port->ctx);
    for (;;) {
        uint32_t elapsed = port->now_ms(port->ctx) - start;
        if (elapsed >= timeout_ms)
            return NULL;
        pool->waiters++;
        int r = port->wait(port->ctx, timeout_ms - elapsed);
        pool->waiters--;
        nb = netbuf_take(pool, frame_len);
        if (nb != NULL)
            return nb;
        if (r == TERN_ERR_TIMEOUT)
            return NULL;
    }
}

void tern_netbuf_release(tern_netbuf_pool_t *pool, tern_netbuf_t *nb)
{
    if (nb == NULL)
        return;
    if (!netbuf_is_descriptor(pool, nb) || !(nb->flags & TERN_NETBUF_F_IN_USE)) {
        pool->bad_releases++;
        netbuf_complain(pool, "netbuf: release of a buffer that is not in use");
        return;
    }
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
    tern_mem_free(pool->ledger, nb->storage);
    nb->storage = NULL;
#endif
    nb->flags = 0;
    nb->data = NULL;
    nb->len = 0;
    nb->next = pool->free_list;
    pool->free_list = nb;
    pool->free_count++;
    pool->releases++;
    if (pool->waiters != 0u && pool->port && pool->port->wake_all)
        pool->port->wake_all(pool->port->ctx);
}

void tern_netbuf_release_chain(tern_netbuf_pool_t *pool, tern_netbuf_t *head)
{
    while (head != NULL) {
        tern_netbuf_t *next = head->next;
        tern_netbuf_release(pool, head);
        head = next;
    }
}

int tern_netbuf_shrink(tern_netbuf_pool_t *pool, tern_netbuf_t *nb, size_t frame_len)
{
    if (!netbuf_is_descriptor(pool, nb) || !(nb->flags & TERN_NETBUF_F_IN_USE))
        return TERN_ERR_INVAL;
    size_t offset = (size_t)(nb->data - tern_netbuf_frame(nb));
    if (frame_len < offset || frame_len > nb->capacity)
        return TERN_ERR_INVAL;
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
    if (frame_len < nb->capacity) {
        uint8_t *s = tern_mem_realloc(pool->ledger, nb->storage, TERN_NETBUF_FRAME_OFFSET + (frame_len ? frame_len : 1u));
        if (s == NULL)
            return TERN_ERR_NOMEM;
        /* A non-heap backend may move the block: follow it. */
        nb->storage = s;
        nb->data = s + TERN_NETBUF_FRAME_OFFSET + offset;
        nb->capacity = (uint16_t)frame_len;
    }
#endif
    nb->len = (uint16_t)(frame_len - offset);
    return TERN_OK;
}

void tern_netbuf_set_owner(tern_netbuf_pool_t *pool, tern_netbuf_t *nb, unsigned owner)
{
    if (!netbuf_is_descriptor(pool, nb) || !(nb->flags & TERN_NETBUF_F_IN_USE))
        return;
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
    tern_mem_set_owner(pool->ledger, nb->storage, owner);
#endif
    nb->owner = (uint16_t)(owner > TERN_OWNER_MAX ? TERN_OWNER_MAX : owner);
}

tern_netbuf_t *tern_netbuf_from_frame(tern_netbuf_pool_t *pool, const void *frame)
{
    uintptr_t f = (uintptr_t)frame;
    if (f <= TERN_NETBUF_FRAME_OFFSET) /* storage would be NULL or wrap */
        return NULL;
    uintptr_t s = f - TERN_NETBUF_FRAME_OFFSET;
#if TERN_NETBUF_SCHEME == TERN_NETBUF_STATIC
    /* Only read a back-pointer from inside the pool's own storage. */
    uintptr_t base = (uintptr_t)&pool->storage[0][0];
    if (s < base || s >= base + sizeof pool->storage || (s - base) % TERN_NETBUF_STORAGE_SIZE != 0u)
        return NULL;
#endif
    const uint8_t *storage = (const uint8_t *)s;
    tern_netbuf_t *nb;
    // cppcheck-suppress pointerSize
    memcpy(&nb, storage, sizeof(tern_netbuf_t *));
    if (!netbuf_is_descriptor(pool, nb) || !(nb->flags & TERN_NETBUF_F_IN_USE) || nb->storage != storage)
        return NULL;
    return nb;
}

int tern_netbuf_pull(tern_netbuf_t *nb, size_t n)
{
    if (n > nb->len)
        return TERN_ERR_INVAL;
    nb->data += n;
    nb->len = (uint16_t)(nb->len - n);
    return TERN_OK;
}

int tern_netbuf_push(tern_netbuf_t *nb, size_t n)
{
    if (n > (size_t)(nb->data - tern_netbuf_frame(nb)))
        return TERN_ERR_INVAL;
    nb->data -= n;
    nb->len = (uint16_t)(nb->len + n);
    return TERN_OK;
}

int tern_netbuf_set_len(tern_netbuf_t *nb, size_t n)
{
    size_t offset = (size_t)(nb->data - tern_netbuf_frame(nb));
    if (n > (size_t)nb->capacity - offset)
        return TERN_ERR_INVAL;
    nb->len = (uint16_t)n;
    return TERN_OK;
}

uint16_t tern_netbuf_free_count(const tern_netbuf_pool_t *pool)
{
    return pool->free_count;
}

uint16_t tern_netbuf_min_free(const tern_netbuf_pool_t *pool)
{
    return pool->min_free;
}
