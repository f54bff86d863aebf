/* The live sandboxes' launchers, watched from one thread (supervise.c). */
#ifndef SUPERVISE_H
#define SUPERVISE_H

#include <sys/types.h>

/* Called once the launcher has ended and its output is logged, with its exit code (128+signal),
 * on a thread of its own: the caller's cleanup may take its time. */
typedef void (*supervise_end)(void *ctx, int code);

/* Starts the thread; 0, or -1. */
int supervise_start(void);
/* proc_spawn_fds, done by the supervising thread: a launcher's parent-death signal follows the
 * thread that made it, and this one lives as long as the server. */
pid_t supervise_spawn(char *const argv[], char *const envp[], int out, int err, const int *fds, int n);
/* Logs out and err as the sandbox id's lines until pid has ended, then calls end. Takes the
 * descriptors whatever it returns; 0, or -1 out of memory (they are closed, and nothing waits
 * for pid: the caller does). */
int supervise_watch(const char *id, pid_t pid, int out, int err, supervise_end end, void *ctx);
/* The launchers watched now. */
int supervise_count(void);

#endif
