/* The contract's types (api/openapi.yaml, written out as C by scripts/gen_contract.lua): what
 * requests may carry, validated before sending, and what answers hold, coerced on arrival. The
 * server includes the same tables; each binary defines them once, here for the SDK. */
#include "porter.h"
#include "contract_types.inc"
