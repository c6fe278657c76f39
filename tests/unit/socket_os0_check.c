/* Compile-only check for TERN_OS=0 builds (not a test program: tests/
 * CMakeLists.txt compiles it with -fsyntax-only). As written it is what a
 * main-loop application does and must compile cleanly; with one of
 * USE_RCVTIMEO, USE_SNDTIMEO or USE_SET_BLOCKING defined it uses a
 * blocking-only name and must fail with a message naming TERN_OS=1. */
#include "tern/socket.h"

int socket_os0_check(struct tern_stack *stack, int sock);

int socket_os0_check(struct tern_stack *stack, int sock)
{
#if defined(USE_RCVTIMEO)
    return tern_setsockopt(stack, sock, TERN_SO_RCVTIMEO, 100);
#elif defined(USE_SNDTIMEO)
    return tern_setsockopt(stack, sock, TERN_SO_SNDTIMEO, 100);
#elif defined(USE_SET_BLOCKING)
    return tern_socket_set_blocking(stack, sock, 1);
#else
    /* Without an OS: non-blocking calls, and poll with a zero timeout. */
    tern_pollfd_t pfd = {sock, TERN_POLLIN, 0};
    int r = tern_socket_poll(stack, &pfd, 1, 0);
    if (r > 0) {
        char buf[64];
        r = tern_recv(stack, sock, buf, sizeof buf, TERN_MSG_DONTWAIT);
    }
    return r;
#endif
}
