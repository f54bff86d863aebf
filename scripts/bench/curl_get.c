/* Baseline: N sequential GETs of URL over one libcurl easy handle (keep-alive), with the
 * SDK's headers; prints the elapsed seconds. The SDK does the same requests in sdk_get.lua. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "sdk_request.h"

static size_t sink(char *p, size_t s, size_t n, void *ud) {
  (void)p, (void)ud;
  return s * n;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: curl_get URL N\n");
    return 2;
  }
  long n = atol(argv[2]);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL *c = curl_easy_init();
  struct curl_slist *h = sdk_headers();
  curl_easy_setopt(c, CURLOPT_URL, argv[1]);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  /* connect outside the timing, as sdk_get.lua does */
  if (curl_easy_perform(c) != CURLE_OK) {
    fprintf(stderr, "request failed\n");
    return 1;
  }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    if (curl_easy_perform(c) != CURLE_OK) {
      fprintf(stderr, "request failed\n");
      return 1;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.6f\n", (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  curl_global_cleanup();
  return 0;
}
