/* The SDK's version, shared by the module (User-Agent, VERSION), porter-lua (-v) and the
 * benchmarks (scripts/bench/sdk_request.h). */
#ifndef PORTER_VERSION_H
#define PORTER_VERSION_H
#define PORTER_VERSION "0.1.0"
/* what the SDK says it is (client.c), and what the benchmarks' baselines send as the SDK does */
#define PORTER_USER_AGENT "porter-sandbox-lua/" PORTER_VERSION
#endif
