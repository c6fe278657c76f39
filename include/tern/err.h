/* tern error codes: every failing call returns one of these negative values. */
#ifndef TERN_ERR_H
#define TERN_ERR_H

/* One enum for the whole stack. 0 is success; errors are negative so a call
 * returning a count (bytes, entries) can share the return value. The errno-like
 * name each maps to is given for people porting BSD-socket code. */
typedef enum tern_err {
    TERN_OK = 0,
    TERN_ERR_NOMEM = -1,       /* ENOMEM: heap or pool exhausted */
    TERN_ERR_NOBUFS = -2,      /* ENOBUFS: no network buffer available */
    TERN_ERR_INVAL = -3,       /* EINVAL: bad argument */
    TERN_ERR_WOULDBLOCK = -4,  /* EWOULDBLOCK: non-blocking call cannot proceed now */
    TERN_ERR_TIMEOUT = -5,     /* ETIMEDOUT: blocking call or protocol timer ran out */
    TERN_ERR_STATE = -6,       /* EISCONN/ENOTCONN-like: wrong state for the call */
    TERN_ERR_BADF = -7,        /* EBADF: bad socket or handle */
    TERN_ERR_ADDRINUSE = -8,   /* EADDRINUSE */
    TERN_ERR_NOROUTE = -9,     /* EHOSTUNREACH: no route / no interface */
    TERN_ERR_UNREACH = -10,    /* ENETUNREACH/ICMP unreachable received */
    TERN_ERR_REFUSED = -11,    /* ECONNREFUSED */
    TERN_ERR_RESET = -12,      /* ECONNRESET */
    TERN_ERR_CLOSED = -13,     /* EPIPE/ENOTCONN: connection closed */
    TERN_ERR_MSGSIZE = -14,    /* EMSGSIZE: too large for the buffer or MTU */
    TERN_ERR_NOTSUP = -15,     /* EOPNOTSUPP: not supported by this build */
    TERN_ERR_CORRUPT = -16,    /* internal invariant broken (heap check, bad free) */
    TERN_ERR_INPROGRESS = -17, /* EINPROGRESS: started, completes later (ARP, connect) */
    TERN_ERR_LINKDOWN = -18,   /* ENETDOWN: interface link is down */
    TERN_ERR_NOTFOUND = -19,   /* ENOENT: no such name (DNS NXDOMAIN or no A record) */
    TERN_ERR_CONFIG = -20,     /* the caller was compiled with another configuration than the library
                                  (tern_stack_init; tern_config_diff names the option) */
    TERN_ERR_MFILE = -21,      /* EMFILE: the socket table is full (TERN_SOCKET_MAX), not the heap */
    TERN_ERR_LAST_ = -21
} tern_err_t;

/* Short text for an error code ("no memory"); never NULL. */
const char *tern_strerror(int err);
/* The errno-like name ("ENOMEM"); never NULL. */
const char *tern_errname(int err);

#endif
