/*
 * media_sandbox.h - runs one media job in a separate, resource-limited
 * process: `tinchi media-worker OUTDIR` (server/media_worker.c), the same
 * binary started again with execv("/proc/self/exe"-resolved path).
 *
 * The child gets the input file as its standard input (read-only), its
 * standard output is a pipe of JSON lines back to the caller, its standard
 * error is the server's. Before exec it:
 *   - sets RLIMIT_CPU, RLIMIT_AS (not in AddressSanitizer builds, where the
 *     shadow memory needs terabytes of address space: logged once),
 *     RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_CORE = 0;
 *   - asks to be killed when the server dies (PR_SET_PDEATHSIG);
 *   - leaves the network: a network namespace of its own (as root), else
 *     a user namespace with one (media_sandbox.c);
 *   - closes every other descriptor, moves to its own process group, and
 *     changes directory to OUTDIR;
 *   - execs with the server's environment less every TINCHI_ variable.
 * After exec the worker shuts itself in before it reads the input
 * (media_worker.c): no new privileges; uid/gid 65534 when started by root
 * (OUTDIR handed to it); Landlock leaves it OUTDIR alone of the file system;
 * a seccomp filter, last, leaves it threads but no new process (fork,
 * vfork, clone without CLONE_THREAD), no setsid/setpgid, no exec: a
 * taken-over worker cannot leave the process group the server kills.
 * When it ends its whole process group is killed; a root server takes the
 * files it made back (chown). Its lines are untrusted: a result must pass
 * media_result_parse.
 * Protocol, child to parent, one JSON object a line:
 *   {"stage":"package","percent":42}
 *   {"ok":true,"result":{...media_result_json...}}      (last line, exit 0)
 *   {"ok":false,"error":"the file has no moov atom..."} (last line, exit 1)
 * The parent kills the child's process group with SIGKILL when the wall-
 * clock timeout passes, when no line has arrived for STALL seconds, or when
 * *CANCEL becomes non-zero; a child that dies of a signal or exits without
 * its last line fails the job with a reason that says so ("the media worker
 * crashed (signal 11, SIGSEGV)", "processing took longer than 3600 s"), as
 * does a result that does not parse ("the media worker sent a result that
 * could not be read").
 */
#ifndef TINCHI_MEDIA_SANDBOX_H
#define TINCHI_MEDIA_SANDBOX_H

#include <signal.h>
#include <stddef.h>

#include "storage/media.h"

/* AddressSanitizer builds (gcc or clang), where the worker runs without
 * RLIMIT_AS and its sandbox leaves /proc readable. */
#if defined(__SANITIZE_ADDRESS__)
#define MEDIA_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEDIA_UNDER_ASAN 1
#endif
#endif

/* A limit of 0 leaves that resource as the server has it. */
struct media_limits {
	long cpu_seconds;		/* RLIMIT_CPU */
	long long memory;		/* RLIMIT_AS, bytes */
	long long max_output;		/* RLIMIT_FSIZE, bytes */
	int open_files;			/* RLIMIT_NOFILE */
	long timeout;			/* wall clock, seconds */
	long stall;			/* seconds without a progress line */
};

/*
 * Called on the caller's thread for every progress line.
 */
typedef void (*media_sandbox_progress_fn)(void *arg, const char *stage, int percent);

/*
 * Records the path of the running executable (readlink /proc/self/exe);
 * call once at start, before any thread. 0 or TC_EIO. When the environment
 * variable TINCHI_MEDIA_WORKER is set, its value is recorded instead: the
 * unit tests, which run from a test binary, point it at the built tinchi.
 */
int media_sandbox_init(void);

/*
 * Runs the worker on INPUT_PATH (opened here read-only) writing into
 * OUTDIR (exists, empty) under LIMITS, and waits for it; blocking, for a
 * dedicated thread. PROGRESS may be NULL. CANCEL (may be NULL) is polled
 * at least every 200 ms. Returns 0 with OUT filled in; TC_EINVALID or
 * TC_EUNSUPPORTED when the media was refused or failed (WHY says why, in
 * words for the lecturer); TC_EBUSY when cancelled (the job should run
 * again later); TC_EIO/TC_ENOMEM when the worker could not be started.
 */
int media_sandbox_run(const char *input_path, const char *outdir,
		      const struct media_limits *limits,
		      media_sandbox_progress_fn progress, void *arg,
		      volatile sig_atomic_t *cancel,
		      struct media_result *out, char *why, size_t whylen);

/* main() of `tinchi media-worker OUTDIR` (argv[0] is "media-worker");
 * returns the exit status. */
int media_worker_main(int argc, char **argv);

#endif
