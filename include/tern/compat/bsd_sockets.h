/* BSD sockets names on tern, for bringing existing code along.
 *
 * Every call is tern_bsd_NAME (socket, bind, listen, accept, connect, send,
 * recv, sendto, recvfrom, setsockopt, getsockopt, shutdown, close, poll,
 * select, inet_addr, htons...), on the stack given to tern_compat_set_stack()
 * once at start-up. Like lwIP's LWIP_COMPAT_SOCKETS, the plain names are
 * macros only when the program opts in:
 *
 *   #define TERN_COMPAT_SOCKETS 1
 *   #include "tern/compat/bsd_sockets.h"
 *
 * then socket(), bind(), struct sockaddr_in, htons(), errno ... mean tern's.
 * A host program also has the OS's <sys/socket.h>: a file that opts in must
 * not include the OS's socket headers (nor <errno.h>: errno becomes
 * tern_errno, set per thread with TERN_OS=1). close() and closesocket() are
 * mapped only with TERN_COMPAT_SOCKETS_CLOSE 1 (close clashes with files).
 *
 * Calls return -1 and set tern_errno as BSD code expects; the values are
 * tern's own (TERN_E* below), not the host's. AF_INET only. docs/compat.md
 * lists what is supported. */
#ifndef TERN_COMPAT_BSD_SOCKETS_H
#define TERN_COMPAT_BSD_SOCKETS_H

#include <stddef.h>
#include <stdint.h>
#include "tern/socket.h"

struct tern_stack;

/* The stack the calls use (one per program, as BSD code knows no stack). */
void tern_compat_set_stack(struct tern_stack *stack);
struct tern_stack *tern_compat_stack(void);

/* errno values (lwIP-like fixed numbers). */
#define TERN_EPERM 1
#define TERN_ENOENT 2
#define TERN_EBADF 9
#define TERN_ENOMEM 12
#define TERN_EINVAL 22
#define TERN_EMFILE 24
#define TERN_EPIPE 32
#define TERN_EAGAIN 11
#define TERN_EWOULDBLOCK TERN_EAGAIN
#define TERN_EMSGSIZE 90
#define TERN_EOPNOTSUPP 95
#define TERN_EAFNOSUPPORT 97
#define TERN_EADDRINUSE 98
#define TERN_ENETDOWN 100
#define TERN_ENETUNREACH 101
#define TERN_ECONNRESET 104
#define TERN_ENOBUFS 105
#define TERN_EISCONN 106
#define TERN_ENOTCONN 107
#define TERN_ETIMEDOUT 110
#define TERN_ECONNREFUSED 111
#define TERN_EHOSTUNREACH 113
#define TERN_EINPROGRESS 115
#define TERN_EIO 5

/* The calling thread's last error; tern_compat_errno_of maps a tern_err_t. */
int *tern_errno_location(void);
#define tern_errno (*tern_errno_location())
int tern_compat_errno_of(int tern_err);

#define TERN_AF_INET 2
#define TERN_PF_INET TERN_AF_INET
#define TERN_SOCK_STREAM_ 1
#define TERN_SOCK_DGRAM_ 2
#define TERN_IPPROTO_IP 0
#define TERN_IPPROTO_TCP 6
#define TERN_IPPROTO_UDP 17
#define TERN_INADDR_ANY ((uint32_t)0x00000000u)
#define TERN_INADDR_NONE ((uint32_t)0xffffffffu)
#define TERN_SOL_SOCKET 0xfff
#define TERN_SO_REUSEADDR_ 0x0004
#define TERN_SO_KEEPALIVE_ 0x0008
#define TERN_SO_BROADCAST_ 0x0020
#define TERN_SO_SNDBUF_ 0x1001
#define TERN_SO_RCVBUF_ 0x1002
#define TERN_SO_SNDTIMEO_B 0x1005
#define TERN_SO_RCVTIMEO_B 0x1006
#define TERN_SO_ERROR_ 0x1007
#define TERN_SO_TYPE_ 0x1008
#define TERN_TCP_NODELAY_ 0x01
#define TERN_MSG_PEEK_ 0x02
#define TERN_MSG_DONTWAIT_ 0x40
#define TERN_SHUT_RD_ 0
#define TERN_SHUT_WR_ 1
#define TERN_SHUT_RDWR_ 2
#define TERN_F_GETFL 3
#define TERN_F_SETFL 4
#define TERN_O_NONBLOCK 04000

typedef uint32_t tern_socklen_t;
typedef uint8_t tern_sa_family_t;
typedef uint32_t tern_in_addr_t;
struct tern_bsd_in_addr {
    tern_in_addr_t s_addr; /* network order */
};
struct tern_bsd_sockaddr {
    uint8_t sa_len;
    tern_sa_family_t sa_family;
    char sa_data[14];
};
struct tern_bsd_sockaddr_in {
    uint8_t sin_len;
    tern_sa_family_t sin_family;
    uint16_t sin_port; /* network order */
    struct tern_bsd_in_addr sin_addr;
    char sin_zero[8];
};
struct tern_bsd_timeval {
    long tv_sec;
    long tv_usec;
};

/* poll(): the same bits as tern's. */
#define TERN_POLLIN_ TERN_POLLIN
struct tern_bsd_pollfd {
    int fd;
    short events;
    short revents;
};
typedef unsigned int tern_nfds_t;

/* select(): ids are 1..TERN_SOCKET_MAX, so one bit each. */
#define TERN_FD_SETSIZE (TERN_SOCKET_MAX + 1)
typedef struct tern_fd_set {
    uint8_t bits[(TERN_FD_SETSIZE + 7) / 8];
} tern_fd_set;
#define TERN_FD_ZERO(s) tern_bsd_fd_zero(s)
#define TERN_FD_SET(n, s) tern_bsd_fd_set((n), (s), 1)
#define TERN_FD_CLR(n, s) tern_bsd_fd_set((n), (s), 0)
#define TERN_FD_ISSET(n, s) tern_bsd_fd_isset((n), (s))
void tern_bsd_fd_zero(tern_fd_set *s);
void tern_bsd_fd_set(int n, tern_fd_set *s, int on);
int tern_bsd_fd_isset(int n, const tern_fd_set *s);

uint16_t tern_bsd_htons(uint16_t v);
uint32_t tern_bsd_htonl(uint32_t v);
#define tern_bsd_ntohs tern_bsd_htons
#define tern_bsd_ntohl tern_bsd_htonl
/* Dotted quad to network order; TERN_INADDR_NONE when malformed. */
tern_in_addr_t tern_bsd_inet_addr(const char *cp);

int tern_bsd_socket(int domain, int type, int protocol);
int tern_bsd_bind(int s, const struct tern_bsd_sockaddr *name, tern_socklen_t namelen);
int tern_bsd_listen(int s, int backlog);
int tern_bsd_accept(int s, struct tern_bsd_sockaddr *addr, tern_socklen_t *addrlen);
int tern_bsd_connect(int s, const struct tern_bsd_sockaddr *name, tern_socklen_t namelen);
long tern_bsd_send(int s, const void *data, size_t size, int flags);
long tern_bsd_recv(int s, void *mem, size_t len, int flags);
long tern_bsd_sendto(int s, const void *data, size_t size, int flags, const struct tern_bsd_sockaddr *to,
                     tern_socklen_t tolen);
long tern_bsd_recvfrom(int s, void *mem, size_t len, int flags, struct tern_bsd_sockaddr *from,
                       tern_socklen_t *fromlen);
/* SOL_SOCKET: SO_RCVTIMEO/SO_SNDTIMEO (struct timeval), SO_RCVBUF,
 * SO_SNDBUF, SO_REUSEADDR, SO_BROADCAST, SO_KEEPALIVE (int); IPPROTO_TCP:
 * TCP_NODELAY. Others: ENOPROTOOPT-like EINVAL. */
int tern_bsd_setsockopt(int s, int level, int optname, const void *optval, tern_socklen_t optlen);
int tern_bsd_getsockopt(int s, int level, int optname, void *optval, tern_socklen_t *optlen);
int tern_bsd_getsockname(int s, struct tern_bsd_sockaddr *name, tern_socklen_t *namelen);
int tern_bsd_getpeername(int s, struct tern_bsd_sockaddr *name, tern_socklen_t *namelen);
int tern_bsd_shutdown(int s, int how);
int tern_bsd_close(int s);
/* F_GETFL / F_SETFL with O_NONBLOCK only. */
int tern_bsd_fcntl(int s, int cmd, int val);
/* timeout -1: forever (needs TERN_OS=1, as any timeout but 0). */
int tern_bsd_poll(struct tern_bsd_pollfd *fds, tern_nfds_t nfds, int timeout);
/* timeout NULL: forever. exceptfds reports TERN_POLLERR. */
int tern_bsd_select(int maxfdp1, tern_fd_set *readset, tern_fd_set *writeset, tern_fd_set *exceptset,
                    struct tern_bsd_timeval *timeout);

#if defined(TERN_COMPAT_SOCKETS) && TERN_COMPAT_SOCKETS
/* Each name is undefined first: a host's libc headers included before this
 * one may define some of them (FD_SET, errno, htons) as macros. */
#undef errno
#define errno tern_errno
#undef EPERM
#define EPERM TERN_EPERM
#undef ENOENT
#define ENOENT TERN_ENOENT
#undef EIO
#define EIO TERN_EIO
#undef EBADF
#define EBADF TERN_EBADF
#undef ENOMEM
#define ENOMEM TERN_ENOMEM
#undef EINVAL
#define EINVAL TERN_EINVAL
#undef EMFILE
#define EMFILE TERN_EMFILE
#undef EPIPE
#define EPIPE TERN_EPIPE
#undef EAGAIN
#define EAGAIN TERN_EAGAIN
#undef EWOULDBLOCK
#define EWOULDBLOCK TERN_EWOULDBLOCK
#undef EMSGSIZE
#define EMSGSIZE TERN_EMSGSIZE
#undef EOPNOTSUPP
#define EOPNOTSUPP TERN_EOPNOTSUPP
#undef EAFNOSUPPORT
#define EAFNOSUPPORT TERN_EAFNOSUPPORT
#undef EADDRINUSE
#define EADDRINUSE TERN_EADDRINUSE
#undef ENETDOWN
#define ENETDOWN TERN_ENETDOWN
#undef ENETUNREACH
#define ENETUNREACH TERN_ENETUNREACH
#undef ECONNRESET
#define ECONNRESET TERN_ECONNRESET
#undef ENOBUFS
#define ENOBUFS TERN_ENOBUFS
#undef EISCONN
#define EISCONN TERN_EISCONN
#undef ENOTCONN
#define ENOTCONN TERN_ENOTCONN
#undef ETIMEDOUT
#define ETIMEDOUT TERN_ETIMEDOUT
#undef ECONNREFUSED
#define ECONNREFUSED TERN_ECONNREFUSED
#undef EHOSTUNREACH
#define EHOSTUNREACH TERN_EHOSTUNREACH
#undef EINPROGRESS
#define EINPROGRESS TERN_EINPROGRESS
#undef AF_INET
#define AF_INET TERN_AF_INET
#undef PF_INET
#define PF_INET TERN_PF_INET
#undef SOCK_STREAM
#define SOCK_STREAM TERN_SOCK_STREAM_
#undef SOCK_DGRAM
#define SOCK_DGRAM TERN_SOCK_DGRAM_
#undef IPPROTO_IP
#define IPPROTO_IP TERN_IPPROTO_IP
#undef IPPROTO_TCP
#define IPPROTO_TCP TERN_IPPROTO_TCP
#undef IPPROTO_UDP
#define IPPROTO_UDP TERN_IPPROTO_UDP
#undef INADDR_ANY
#define INADDR_ANY TERN_INADDR_ANY
#undef INADDR_NONE
#define INADDR_NONE TERN_INADDR_NONE
#undef SOL_SOCKET
#define SOL_SOCKET TERN_SOL_SOCKET
#undef SO_REUSEADDR
#define SO_REUSEADDR TERN_SO_REUSEADDR_
#undef SO_KEEPALIVE
#define SO_KEEPALIVE TERN_SO_KEEPALIVE_
#undef SO_BROADCAST
#define SO_BROADCAST TERN_SO_BROADCAST_
#undef SO_SNDBUF
#define SO_SNDBUF TERN_SO_SNDBUF_
#undef SO_RCVBUF
#define SO_RCVBUF TERN_SO_RCVBUF_
#undef SO_SNDTIMEO
#define SO_SNDTIMEO TERN_SO_SNDTIMEO_B
#undef SO_RCVTIMEO
#define SO_RCVTIMEO TERN_SO_RCVTIMEO_B
#undef SO_ERROR
#define SO_ERROR TERN_SO_ERROR_
#undef SO_TYPE
#define SO_TYPE TERN_SO_TYPE_
#undef TCP_NODELAY
#define TCP_NODELAY TERN_TCP_NODELAY_
#undef MSG_PEEK
#define MSG_PEEK TERN_MSG_PEEK_
#undef MSG_DONTWAIT
#define MSG_DONTWAIT TERN_MSG_DONTWAIT_
#undef SHUT_RD
#define SHUT_RD TERN_SHUT_RD_
#undef SHUT_WR
#define SHUT_WR TERN_SHUT_WR_
#undef SHUT_RDWR
#define SHUT_RDWR TERN_SHUT_RDWR_
#undef F_GETFL
#define F_GETFL TERN_F_GETFL
#undef F_SETFL
#define F_SETFL TERN_F_SETFL
#undef O_NONBLOCK
#define O_NONBLOCK TERN_O_NONBLOCK
#undef POLLIN
#define POLLIN TERN_POLLIN
#undef POLLOUT
#define POLLOUT TERN_POLLOUT
#undef POLLERR
#define POLLERR TERN_POLLERR
#undef POLLHUP
#define POLLHUP TERN_POLLHUP
#undef POLLNVAL
#define POLLNVAL TERN_POLLNVAL
#undef FD_SETSIZE
#define FD_SETSIZE TERN_FD_SETSIZE
#undef fd_set
#define fd_set tern_fd_set
#undef FD_ZERO
#define FD_ZERO TERN_FD_ZERO
#undef FD_SET
#define FD_SET TERN_FD_SET
#undef FD_CLR
#define FD_CLR TERN_FD_CLR
#undef FD_ISSET
#define FD_ISSET TERN_FD_ISSET
#undef socklen_t
#define socklen_t tern_socklen_t
#undef sa_family_t
#define sa_family_t tern_sa_family_t
#undef in_addr_t
#define in_addr_t tern_in_addr_t
#undef in_addr
#define in_addr tern_bsd_in_addr
#undef sockaddr
#define sockaddr tern_bsd_sockaddr
#undef sockaddr_in
#define sockaddr_in tern_bsd_sockaddr_in
#undef timeval
#define timeval tern_bsd_timeval
#undef pollfd
#define pollfd tern_bsd_pollfd
#undef nfds_t
#define nfds_t tern_nfds_t
#undef htons
#define htons tern_bsd_htons
#undef htonl
#define htonl tern_bsd_htonl
#undef ntohs
#define ntohs tern_bsd_ntohs
#undef ntohl
#define ntohl tern_bsd_ntohl
#undef inet_addr
#define inet_addr tern_bsd_inet_addr
#undef socket
#define socket tern_bsd_socket
#undef bind
#define bind tern_bsd_bind
#undef listen
#define listen tern_bsd_listen
#undef accept
#define accept tern_bsd_accept
#undef connect
#define connect tern_bsd_connect
#undef send
#define send tern_bsd_send
#undef recv
#define recv tern_bsd_recv
#undef sendto
#define sendto tern_bsd_sendto
#undef recvfrom
#define recvfrom tern_bsd_recvfrom
#undef setsockopt
#define setsockopt tern_bsd_setsockopt
#undef getsockopt
#define getsockopt tern_bsd_getsockopt
#undef getsockname
#define getsockname tern_bsd_getsockname
#undef getpeername
#define getpeername tern_bsd_getpeername
#undef shutdown
#define shutdown tern_bsd_shutdown
#undef fcntl
#define fcntl tern_bsd_fcntl
#undef poll
#define poll tern_bsd_poll
#undef select
#define select tern_bsd_select
#undef closesocket
#define closesocket tern_bsd_close
#if defined(TERN_COMPAT_SOCKETS_CLOSE) && TERN_COMPAT_SOCKETS_CLOSE
#undef close
#define close tern_bsd_close
#endif
#endif

#endif
