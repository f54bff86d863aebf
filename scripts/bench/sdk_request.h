/* The request line's company: the headers the SDK sends with every GET (csrc/sdk/client.c),
 * byte for byte, so that a baseline asks libcurl for the same work. curl formats each header
 * of the list a byte at a time (its aprintf), so a baseline sending only Accept spends ~8k
 * instructions a request less than the same request with the SDK's User-Agent and key. The
 * key is the one the Lua side of each benchmark passes (api_key = "bench"). */
#ifndef BENCH_SDK_REQUEST_H
#define BENCH_SDK_REQUEST_H
#include <curl/curl.h>
#include "porter_version.h"

static struct curl_slist *sdk_headers(void) {
  struct curl_slist *h = curl_slist_append(NULL, "User-Agent: " PORTER_USER_AGENT);
  h = curl_slist_append(h, "Accept: application/json");
  return curl_slist_append(h, "Authorization: Bearer bench");
}
#endif
