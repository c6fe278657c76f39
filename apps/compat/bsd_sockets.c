/* BSD sockets names on tern's socket API (include/tern/compat/bsd_sockets.h).
 * Uses only the public API. The two globals below are the price of BSD's
 * signature, which names no stack and reports errors through errno: the
 * stack set once at start-up, and the last error per thread (per program
 * without an OS). */
#include "tern/compat/bsd_sockets.h"

#include <string.h>
#include "tern/err.h"
#include "tern/ipv4.h"

static struct tern_stack *compat_stack;
#if TERN_OS
static _Thread_local int compat_errno;
#else
static int compat_errno;
#endif

void tern_compat_set_stack(struct tern_stack *stack)
{
    compat_stack = stack;
}

struct tern_stack *tern_compat_stack(void)
{
    return compat_stack;
}

int *tern_errno_location(void)
{
    return &compat_errno;
}

int tern_compat_errno_of(int err)
{
    switch (err) {
    case TERN_OK: return 0;
    case TERN_ERR_NOMEM: return TERN_ENOMEM;
    case TERN_ERR_NOBUFS: return TERN_ENOBUFS;
    case TERN_ERR_INVAL: return TERN_EINVAL;
    case TERN_ERR_WOULDBLOCK: return TERN_EWOULDBLOCK;
    case TERN_ERR_TIMEOUT: return TERN_ETIMEDOUT;
    case TERN_ERR_STATE: return TERN_ENOTCONN;
    case TERN_ERR_BADF: return TERN_EBADF;
    case TERN_ERR_ADDRINUSE: return TERN_EADDRINUSE;
    case TERN_ERR_NOROUTE: return TERN_EHOSTUNREACH;
    case TERN_ERR_UNREACH: return TERN_ENETUNREACH;
    case TERN_ERR_REFUSED: return TERN_ECONNREFUSED;
    case TERN_ERR_RESET: return TERN_ECONNRESET;
    case TERN_ERR_CLOSED: return TERN_EPIPE;
    case TERN_ERR_MSGSIZE: return TERN_EMSGSIZE;
    case TERN_ERR_NOTSUP: return TERN_EOPNOTSUPP;
    case TERN_ERR_INPROGRESS: return TERN_EINPROGRESS;
    case TERN_ERR_LINKDOWN: return TERN_ENETDOWN;
    case TERN_ERR_NOTFOUND: return TERN_ENOENT;
    case TERN_ERR_MFILE: return TERN_EMFILE;
    default: return TERN_EIO;
    }
}

/* A tern result as BSD returns it: the value, or -1 with errno set. */
static long ret(long rc)
{
    if (rc < 0) {
        compat_errno = tern_compat_errno_of((int)rc);
        return -1;
    }
    return rc;
}

static int fail(int e)
{
    compat_errno = e;
    return -1;
}

static int flags_of(int bsd)
{
    return ((bsd & TERN_MSG_PEEK_) ? TERN_MSG_PEEK : 0) | ((bsd & TERN_MSG_DONTWAIT_) ? TERN_MSG_DONTWAIT : 0);
}

uint16_t tern_bsd_htons(uint16_t v)
{
    const uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    uint16_t r;
    memcpy(&r, b, sizeof r);
    return r;
}

uint32_t tern_bsd_htonl(uint32_t v)
{
    const uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    uint32_t r;
    memcpy(&r, b, sizeof r);
    return r;
}

tern_in_addr_t tern_bsd_inet_addr(const char *cp)
{
    tern_ip4_t ip;
    if (cp == NULL || tern_ip4_from_str(cp, &ip) != TERN_OK)
        return TERN_INADDR_NONE;
    return tern_bsd_htonl(ip);
}

/* sockaddr_in (network order) <-> tern_sockaddr_t (host order). */
static int addr_in(const struct tern_bsd_sockaddr *sa, tern_socklen_t len, tern_sockaddr_t *out)
{
    struct tern_bsd_sockaddr_in in;
    if (sa == NULL || len < sizeof in)
        return fail(TERN_EINVAL);
    memcpy(&in, sa, sizeof in);
    if (in.sin_family != TERN_AF_INET)
        return fail(TERN_EAFNOSUPPORT);
    /* A compound literal: the family (IPv4) and any IPv6 part zeroed. */
    *out = (tern_sockaddr_t){.addr = tern_bsd_ntohl(in.sin_addr.s_addr), .port = tern_bsd_ntohs(in.sin_port)};
    return 0;
}

static void addr_out(const tern_sockaddr_t *a, struct tern_bsd_sockaddr *sa, tern_socklen_t *len)
{
    struct tern_bsd_sockaddr_in in;
    if (sa == NULL || len == NULL)
        return;
    memset(&in, 0, sizeof in);
    in.sin_len = (uint8_t)sizeof in;
    in.sin_family = TERN_AF_INET;
    in.sin_port = tern_bsd_htons(a->port);
    in.sin_addr.s_addr = tern_bsd_htonl(a->addr);
    memcpy(sa, &in, *len < sizeof in ? *len : sizeof in);
    *len = sizeof in;
}

int tern_bsd_socket(int domain, int type, int protocol)
{
    (void)protocol;
    if (domain != TERN_AF_INET)
        return fail(TERN_EAFNOSUPPORT);
    if (type != TERN_SOCK_STREAM_ && type != TERN_SOCK_DGRAM_)
        return fail(TERN_EINVAL);
    return (int)ret(tern_socket(compat_stack, type == TERN_SOCK_STREAM_ ? TERN_SOCK_STREAM : TERN_SOCK_DGRAM));
}

int tern_bsd_bind(int s, const struct tern_bsd_sockaddr *name, tern_socklen_t namelen)
{
    tern_sockaddr_t a;
    if (addr_in(name, namelen, &a) < 0)
        return -1;
    return (int)ret(tern_bind(compat_stack, s, &a));
}

int tern_bsd_listen(int s, int backlog)
{
    return (int)ret(tern_listen(compat_stack, s, backlog));
}

int tern_bsd_accept(int s, struct tern_bsd_sockaddr *addr, tern_socklen_t *addrlen)
{
    tern_sockaddr_t peer;
    int c = tern_accept(compat_stack, s, &peer);
    if (c < 0)
        return (int)ret(c);
    addr_out(&peer, addr, addrlen);
    return c;
}

int tern_bsd_connect(int s, const struct tern_bsd_sockaddr *name, tern_socklen_t namelen)
{
    tern_sockaddr_t a;
    if (addr_in(name, namelen, &a) < 0)
        return -1;
    return (int)ret(tern_connect(compat_stack, s, &a));
}

long tern_bsd_send(int s, const void *data, size_t size, int flags)
{
    return ret(tern_send(compat_stack, s, data, size, flags_of(flags)));
}

long tern_bsd_recv(int s, void *mem, size_t len, int flags)
{
    return ret(tern_recv(compat_stack, s, mem, len, flags_of(flags)));
}

long tern_bsd_sendto(int s, const void *data, size_t size, int flags, const struct tern_bsd_sockaddr *to,
                     tern_socklen_t tolen)
{
    tern_sockaddr_t a;
    if (to == NULL)
        return ret(tern_sendto(compat_stack, s, data, size, flags_of(flags), NULL));
    if (addr_in(to, tolen, &a) < 0)
        return -1;
    return ret(tern_sendto(compat_stack, s, data, size, flags_of(flags), &a));
}

long tern_bsd_recvfrom(int s, void *mem, size_t len, int flags, struct tern_bsd_sockaddr *from,
                       tern_socklen_t *fromlen)
{
    tern_sockaddr_t a = {.addr = 0, .port = 0};
    int n = tern_recvfrom(compat_stack, s, mem, len, flags_of(flags), &a);
    if (n < 0)
        return ret(n);
    addr_out(&a, from, fromlen);
    return n;
}

/* An option's tern number, or 0 when unknown. timeval options are ms. */
static int opt_of(int level, int optname, int *is_timeval)
{
    *is_timeval = 0;
    if (level == TERN_IPPROTO_TCP)
        return optname == TERN_TCP_NODELAY_ ? TERN_SO_TCP_NODELAY : 0;
    if (level != TERN_SOL_SOCKET)
        return 0;
    switch (optname) {
    case TERN_SO_REUSEADDR_: return TERN_SO_REUSEADDR;
    case TERN_SO_KEEPALIVE_: return TERN_SO_KEEPALIVE;
    case TERN_SO_BROADCAST_: return TERN_SO_BROADCAST;
    case TERN_SO_SNDBUF_: return TERN_SO_SNDBUF;
    case TERN_SO_RCVBUF_: return TERN_SO_RCVBUF;
    case TERN_SO_ERROR_: return TERN_SO_ERROR;
    case TERN_SO_TYPE_: return TERN_SO_TYPE;
#if TERN_OS
    case TERN_SO_SNDTIMEO_B: *is_timeval = 1; return TERN_SO_SNDTIMEO;
    case TERN_SO_RCVTIMEO_B: *is_timeval = 1; return TERN_SO_RCVTIMEO;
#endif
    default: return 0;
    }
}

int tern_bsd_setsockopt(int s, int level, int optname, const void *optval, tern_socklen_t optlen)
{
    int tv;
    int opt = opt_of(level, optname, &tv);
    uint32_t v;
    if (opt == 0 || optval == NULL)
        return fail(TERN_EINVAL);
    if (tv) {
        struct tern_bsd_timeval t;
        if (optlen < sizeof t)
            return fail(TERN_EINVAL);
        memcpy(&t, optval, sizeof t);
        if (t.tv_sec < 0 || t.tv_usec < 0)
            return fail(TERN_EINVAL);
        /* BSD's 0 is "forever", as tern's; a positive time under 1 ms is 1 ms. */
        uint64_t ms = (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_usec / 1000u;
        if (ms == 0 && t.tv_usec > 0)
            ms = 1;
        v = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
    } else {
        int i;
        if (optlen < sizeof i)
            return fail(TERN_EINVAL);
        memcpy(&i, optval, sizeof i);
        if (i < 0)
            return fail(TERN_EINVAL);
        v = (uint32_t)i;
        if (opt == TERN_SO_REUSEADDR && tern_getsockopt(compat_stack, s, TERN_SO_TYPE, &v) == TERN_OK &&
            v == TERN_SOCK_STREAM)
            return 0; /* TCP: tern binds a port in TIME-WAIT anyway; nothing to set */
        v = (uint32_t)i;
    }
    return (int)ret(tern_setsockopt(compat_stack, s, opt, v));
}

int tern_bsd_getsockopt(int s, int level, int optname, void *optval, tern_socklen_t *optlen)
{
    int tv;
    int opt = opt_of(level, optname, &tv);
    uint32_t v;
    if (opt == 0 || optval == NULL || optlen == NULL)
        return fail(TERN_EINVAL);
    int rc = tern_getsockopt(compat_stack, s, opt, &v);
    if (rc < 0)
        return (int)ret(rc);
    if (tv) {
        struct tern_bsd_timeval t = {(long)(v / 1000u), (long)(v % 1000u) * 1000};
        if (*optlen < sizeof t)
            return fail(TERN_EINVAL);
        memcpy(optval, &t, sizeof t);
        *optlen = sizeof t;
        return 0;
    }
    int i;
    if (*optlen < sizeof i)
        return fail(TERN_EINVAL);
    if (opt == TERN_SO_ERROR)
        i = tern_compat_errno_of((int)(int32_t)v);
    else if (opt == TERN_SO_TYPE)
        i = v == TERN_SOCK_STREAM ? TERN_SOCK_STREAM_ : TERN_SOCK_DGRAM_;
    else
        i = (int)v;
    memcpy(optval, &i, sizeof i);
    *optlen = sizeof i;
    return 0;
}

int tern_bsd_getsockname(int s, struct tern_bsd_sockaddr *name, tern_socklen_t *namelen)
{
    tern_sockaddr_t a;
    int rc = tern_getsockname(compat_stack, s, &a);
    if (rc < 0)
        return (int)ret(rc);
    addr_out(&a, name, namelen);
    return 0;
}

int tern_bsd_getpeername(int s, struct tern_bsd_sockaddr *name, tern_socklen_t *namelen)
{
    tern_sockaddr_t a;
    int rc = tern_getpeername(compat_stack, s, &a);
    if (rc < 0)
        return (int)ret(rc);
    addr_out(&a, name, namelen);
    return 0;
}

int tern_bsd_shutdown(int s, int how)
{
    int h = how == TERN_SHUT_RD_ ? TERN_SHUT_RD : how == TERN_SHUT_WR_ ? TERN_SHUT_WR : TERN_SHUT_RDWR;
    if (how < TERN_SHUT_RD_ || how > TERN_SHUT_RDWR_)
        return fail(TERN_EINVAL);
    return (int)ret(tern_shutdown(compat_stack, s, h));
}

int tern_bsd_close(int s)
{
    return (int)ret(tern_close(compat_stack, s));
}

int tern_bsd_fcntl(int s, int cmd, int val)
{
    uint32_t nb;
    int rc = tern_getsockopt(compat_stack, s, TERN_SO_NONBLOCK, &nb);
    if (rc < 0)
        return (int)ret(rc);
    if (cmd == TERN_F_GETFL)
        return nb ? TERN_O_NONBLOCK : 0;
    if (cmd == TERN_F_SETFL)
        return (int)ret(tern_setsockopt(compat_stack, s, TERN_SO_NONBLOCK, (val & TERN_O_NONBLOCK) ? 1u : 0u));
    return fail(TERN_EINVAL);
}

int tern_bsd_poll(struct tern_bsd_pollfd *fds, tern_nfds_t nfds, int timeout)
{
    tern_pollfd_t p[TERN_SOCKET_MAX];
    if (nfds > TERN_SOCKET_MAX || (fds == NULL && nfds > 0))
        return fail(TERN_EINVAL);
    for (tern_nfds_t i = 0; i < nfds; i++) {
        p[i].sock = fds[i].fd;
        p[i].events = (uint16_t)((uint16_t)fds[i].events & (TERN_POLLIN | TERN_POLLOUT));
        p[i].revents = 0;
    }
    int n = tern_socket_poll(compat_stack, p, nfds, timeout < 0 ? UINT32_MAX : (uint32_t)timeout);
    if (n < 0)
        return (int)ret(n);
    for (tern_nfds_t i = 0; i < nfds; i++)
        fds[i].revents = (short)p[i].revents;
    return n;
}

void tern_bsd_fd_zero(tern_fd_set *s)
{
    memset(s, 0, sizeof *s);
}

void tern_bsd_fd_set(int n, tern_fd_set *s, int on)
{
    if (n < 0 || n >= TERN_FD_SETSIZE)
        return;
    uint8_t bit = (uint8_t)(1u << ((unsigned)n & 7u));
    if (on)
        s->bits[n / 8] = (uint8_t)(s->bits[n / 8] | bit);
    else
        s->bits[n / 8] = (uint8_t)(s->bits[n / 8] & ~bit);
}

int tern_bsd_fd_isset(int n, const tern_fd_set *s)
{
    if (n < 0 || n >= TERN_FD_SETSIZE)
        return 0;
    return (s->bits[n / 8] >> ((unsigned)n & 7u)) & 1;
}

int tern_bsd_select(int maxfdp1, tern_fd_set *readset, tern_fd_set *writeset, tern_fd_set *exceptset,
                    struct tern_bsd_timeval *timeout)
{
    tern_pollfd_t p[TERN_SOCKET_MAX];
    size_t n = 0;
    if (maxfdp1 < 0 || maxfdp1 > TERN_FD_SETSIZE)
        return fail(TERN_EINVAL);
    for (int fd = 1; fd < maxfdp1; fd++) {
        uint16_t ev = 0;
        if (readset != NULL && tern_bsd_fd_isset(fd, readset))
            ev |= TERN_POLLIN;
        if (writeset != NULL && tern_bsd_fd_isset(fd, writeset))
            ev |= TERN_POLLOUT;
        if (ev == 0 && !(exceptset != NULL && tern_bsd_fd_isset(fd, exceptset)))
            continue;
        p[n].sock = fd;
        p[n].events = ev;
        p[n].revents = 0;
        n++;
    }
    uint32_t ms = UINT32_MAX;
    if (timeout != NULL) {
        if (timeout->tv_sec < 0 || timeout->tv_usec < 0)
            return fail(TERN_EINVAL);
        uint64_t t = (uint64_t)timeout->tv_sec * 1000u + ((uint64_t)timeout->tv_usec + 999u) / 1000u;
        ms = t >= UINT32_MAX ? UINT32_MAX - 1u : (uint32_t)t;
    }
    int rc = tern_socket_poll(compat_stack, p, n, ms);
    if (rc < 0)
        return (int)ret(rc);
    if (readset != NULL)
        tern_bsd_fd_zero(readset);
    if (writeset != NULL)
        tern_bsd_fd_zero(writeset);
    if (exceptset != NULL)
        tern_bsd_fd_zero(exceptset);
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t r = p[i].revents;
        if (readset != NULL && (p[i].events & TERN_POLLIN) && (r & (TERN_POLLIN | TERN_POLLHUP | TERN_POLLERR))) {
            tern_bsd_fd_set(p[i].sock, readset, 1);
            count++;
        }
        if (writeset != NULL && (p[i].events & TERN_POLLOUT) && (r & (TERN_POLLOUT | TERN_POLLERR))) {
            tern_bsd_fd_set(p[i].sock, writeset, 1);
            count++;
        }
        if (exceptset != NULL && (r & TERN_POLLERR)) {
            tern_bsd_fd_set(p[i].sock, exceptset, 1);
            count++;
        }
        if (r & TERN_POLLNVAL)
            return fail(TERN_EBADF);
    }
    return count;
}
