/* Baseline: N GETs of URL through one libcurl multi handle, at most C in flight, sharing
 * the multi's connection pool, with the SDK's headers; prints the elapsed seconds. */
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
  if (argc < 4) {
    fprintf(stderr, "usage: curl_multi URL N CONCURRENCY\n");
    return 2;
  }
  long n = atol(argv[2]), conc = atol(argv[3]);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM *m = curl_multi_init();
  curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, conc);
  struct curl_slist *h = sdk_headers();
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, argv[1]);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_multi_add_handle(m, c);
  }
  int running = 1;
  while (running) {
    curl_multi_perform(m, &running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left)))
      if (msg->msg == CURLMSG_DONE) {
        curl_multi_remove_handle(m, msg->easy_handle);
        curl_easy_cleanup(msg->easy_handle);
      }
    if (running) curl_multi_poll(m, NULL, 0, 1000, NULL);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.6f\n", (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
  curl_multi_cleanup(m);
  curl_slist_free_all(h);
  curl_global_cleanup();
  return 0;
}
