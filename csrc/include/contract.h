/* What the SDK and the server both check of the contract (api/openapi.yaml), written once:
 * the sandbox phases and the DNS-label rule for names. */
#ifndef PORTER_CONTRACT_H
#define PORTER_CONTRACT_H

#include <stddef.h>
#include <string.h>

#define CONTRACT_PHASES_TEXT "queued, creating, running, succeeded, failed or terminated"

/* index of phase s in the contract's list, or -1 */
static inline int contract_phase(const char *s) {
  static const char *const phases[] = {"queued", "creating", "running", "succeeded", "failed", "terminated"};
  for (int i = 0; i < (int)(sizeof phases / sizeof *phases); i++)
    if (!strcmp(s, phases[i])) return i;
  return -1;
}

/* 1 if s[0..n) is a DNS label: 1 to 63 of lowercase letters, digits and '-', not at either end */
static inline int contract_dns_label(const char *s, size_t n) {
  if (n == 0 || n > 63) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !(c == '-' && i > 0 && i < n - 1)) return 0;
  }
  return 1;
}

#endif
