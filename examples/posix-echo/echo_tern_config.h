/* posix-echo's tern options (TERN_USER_CONFIG; include/tern/config.h has
 * every option with its default and docs/config.md its RAM cost). */
#ifndef ECHO_TERN_CONFIG_H
#define ECHO_TERN_CONFIG_H

#define TERN_HEAP_SIZE (64u * 1024u) /* rings for a few TCP clients */
#define TERN_SOCKET_MAX 8            /* UDP echo, the listener, the clients */
#define TERN_LEDGER_OWNERS 9         /* socket ids 1..8 each their own row */

#endif
