/* The Internet checksum of the core (src/net/checksum.c as the library
 * builds it: on x86-64 its SSE2 loop) against a byte-by-byte reference.
 * The cases: checksum_cases.h. TERN_TEST_ONE_VARIANT */
#include "net/net_internal.h"
#include "checksum_cases.h"
