/* Error code names. */
#include "tern/err.h"

static const struct {
    const char *name;
    const char *text;
} err_table[] = {
    {"OK", "success"},
    {"ENOMEM", "out of memory"},
    {"ENOBUFS", "no network buffer available"},
    {"EINVAL", "invalid argument"},
    {"EWOULDBLOCK", "operation would block"},
    {"ETIMEDOUT", "timed out"},
    {"ESTATE", "wrong state for this call"},
    {"EBADF", "bad socket or handle"},
    {"EADDRINUSE", "address in use"},
    {"EHOSTUNREACH", "no route to host"},
    {"ENETUNREACH", "destination unreachable"},
    {"ECONNREFUSED", "connection refused"},
    {"ECONNRESET", "connection reset"},
    {"EPIPE", "connection closed"},
    {"EMSGSIZE", "message too large"},
    {"EOPNOTSUPP", "not supported by this build"},
    {"ECORRUPT", "memory corruption detected"},
    {"EINPROGRESS", "in progress"},
    {"ENETDOWN", "link is down"},
    {"ENOENT", "no such name"},
    {"ECONFIG", "application and library built with different configurations"},
    {"EMFILE", "socket table full"},
};

_Static_assert(sizeof err_table / sizeof err_table[0] == 1u - (unsigned)TERN_ERR_LAST_,
               "err_table must name every tern_err_t value");

static unsigned err_index(int err)
{
    if (err > 0 || err < TERN_ERR_LAST_)
        return 0xFFFFu;
    return (unsigned)-err;
}

const char *tern_strerror(int err)
{
    unsigned i = err_index(err);
    return i == 0xFFFFu ? "unknown error" : err_table[i].text;
}

const char *tern_errname(int err)
{
    unsigned i = err_index(err);
    return i == 0xFFFFu ? "EUNKNOWN" : err_table[i].name;
}
