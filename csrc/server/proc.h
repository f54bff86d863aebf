/* Child processes (proc.c). */
#ifndef PROC_H
#define PROC_H

#include "server.h"

/* Starts argv with stdin /dev/null, stdout out, stderr err, and extra (if >= 0) as fd 3. */
pid_t proc_spawn(char *const argv[], char *const envp[], int out, int err, int extra);
/* The same with fds[i] (those >= 0) as fd 3 + i, n at most 3. */
pid_t proc_spawn_fds(char *const argv[], char *const envp[], int out, int err, const int *fds, int n);
int proc_wait(pid_t pid); /* exit code, 128+signal, -1 */
/* Runs argv to its end, keeping the last bytes of its stdout and stderr; its exit code. */
int proc_run(char *const argv[], char *out, size_t on, char *err, size_t en);
/* A helper program installed next to porter-sandboxd. */
const char *helper_path(const char *name, char *out, size_t n);

#endif
