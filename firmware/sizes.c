/* Struct sizes on the Cortex-M7 target, read back with arm-none-eabi-nm:
 * each symbol's size is sizeof the type it names (scripts/size-table). */
#include "tern/stack.h"

#define TERN_SIZEOF(type) const char tern_sizeof_##type[sizeof(type)] __attribute__((used))

TERN_SIZEOF(tern_stack_t);
TERN_SIZEOF(tern_heap_t);
TERN_SIZEOF(tern_ledger_t);
TERN_SIZEOF(tern_netbuf_t);
TERN_SIZEOF(tern_netbuf_pool_t);
TERN_SIZEOF(tern_netif_t);
TERN_SIZEOF(tern_counters_t);
