/* The Internet checksum's word-at-a-time loops (the Cortex-M builds' path:
 * CHECKSUM_FORCE_SCALAR leaves the SSE2 loop out), compiled in here from
 * src/net/checksum.c so that the host tests them too; the cases:
 * checksum_cases.h. TERN_TEST_ONE_VARIANT */
#define CHECKSUM_FORCE_SCALAR 1
#include "../../src/net/checksum.c"
#include "checksum_cases.h"
