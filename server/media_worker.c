/*
 * media_worker.c - `tinchi media-worker [--renditions LIST] OUTDIR`: the
 * child side of
 * media_sandbox.h. Standard input is the uploaded file (a regular file,
 * read through its descriptor only), standard output the pipe to the
 * server: one JSON object a line, each written whole with write(2) so
 * that nothing waits in a stdio buffer when the process is killed.
 *
 *   {"stage":"package","percent":42}
 *   {"ok":true,"result":{...}}                               exit 0
 *   {"ok":false,"code":"invalid","error":"the file ..."}     exit 1
 * "code" is tc_strerror() of the failure ("invalid", "unsupported", ...).
 * Exit status 2: the command line was wrong.
 *
 * --renditions LIST (a comma list of original, 360p, audio; default all)
 * makes only those (media_package's RENDITIONS): the server never passes
 * it; it is there to measure one part of the work, e.g. the stream copy
 * alone (scripts/bench/media.sh).
 *
 * Before it reads a byte of the input the worker shuts itself in (confine),
 * after exec, its shared libraries loaded:
 *   - PR_SET_NO_NEW_PRIVS, first: nothing it runs can gain privileges;
 *   - it enters OUTDIR, and works on "." from then on (no path above it is
 *     needed any more), and jansson takes its hash seed from /dev/urandom
 *     now, while it still may;
 *   - as root (the server runs as root in CI and on a machine set up by
 *     scripts/run) it becomes uid/gid 65534 ("nobody"/"nogroup", numbers,
 *     no name lookups): OUTDIR is handed to 65534 first (fchownat), then no
 *     supplementary groups, real, effective and saved ids all 65534, and a
 *     setuid(0) must fail. This happens here, after exec, rather than in
 *     the server's child before it, as the executable may live where
 *     nobody cannot reach (a 0700 home). The kernel clears the parent death
 *     signal on a change of ids: it is set again. RLIMIT_NPROC becomes
 *     WORKER_NPROC (it counts every task of uid 65534, threads included:
 *     the codecs' threads of every job running at once, so it only stops a
 *     fork bomb); without root it is not set, as it would count the
 *     server's own threads and processes;
 *   - Landlock (Linux 5.13+): of the file system only OUTDIR remains, to
 *     read, write, create, truncate and remove files and folders in; no
 *     execute, no device ioctls, nothing elsewhere (/etc/passwd, the keys
 *     and the database in the data folder). Every access right the running
 *     kernel's Landlock ABI knows is handled, so a right it cannot name is
 *     not left open; with ABI 4 TCP bind and connect are refused too, with
 *     ABI 6 signals to and abstract Unix sockets of processes outside the
 *     sandbox. Under AddressSanitizer /proc stays readable (its reports and
 *     LeakSanitizer read /proc/self/maps), and the process stays dumpable
 *     after the change of ids (LeakSanitizer ptraces it). When the kernel
 *     has no Landlock (older, or booted without it: ENOSYS, EOPNOTSUPP;
 *     or a container's seccomp filter refuses the call: EPERM) the worker
 *     says so in one line on standard error and goes on, then held only
 *     by its user id, the protocol whitelist and the server side's network
 *     namespace; any other Landlock failure fails the job;
 *   - a seccomp filter, last (seccomp_fence): threads, but no other
 *     process, no setsid/setpgid, no exec, no ptrace, and the parent death
 *     signal stays SIGKILL, so that nothing a taken-over worker runs
 *     escapes the server's kill of its pid and process group (a grandchild
 *     would not inherit the parent death signal, and setsid would take it
 *     out of the group). A kernel without seccomp filters (EINVAL): one
 *     line on standard error, and on. The test hook escape_probe shows
 *     what each of those calls answers.
 * The libraries need no file after start (probed with strace: jansson's
 * seed was the only one); the input and the pipe are descriptors opened
 * before.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <pthread.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "server/media_sandbox.h"
#include "storage/media.h"

#define WORKER_UID 65534		/* "nobody" */
#define WORKER_GID 65534		/* "nogroup" */
#define WORKER_NPROC 4096

/* Landlock rights of ABI versions newer than Debian 12's headers (6.1,
 * ABI 2) know; the numbers are the kernel's ABI. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)		/* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)		/* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)		/* ABI 4 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)	/* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* struct landlock_ruleset_attr as of ABI 6; older kernels get its first
 * 8 (ABI 1-3) or 16 bytes (ABI 4-5). */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

static const char worker_usage[] =
	"usage: tinchi media-worker [--renditions LIST] OUTDIR < FILE\n\n"
	"Internal: started by the server (in a sandbox) to process one uploaded\n"
	"recording. Reads FILE from standard input, writes the HLS renditions and\n"
	"poster into OUTDIR (existing and empty) and reports progress and the\n"
	"result as JSON lines on standard output.\n\n"
	"  --renditions LIST  only these, a comma list of original, 360p, audio\n"
	"                     (default: all); the poster is made only when the\n"
	"                     video is decoded anyway (not for original alone)\n";

/* MEDIA_* bits of a comma list such as "original,audio"; 0 when a name is
 * unknown or the list is empty. */
static unsigned
parse_renditions(const char *list)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "original", MEDIA_ORIGINAL }, { "360p", MEDIA_360P }, { "audio", MEDIA_AUDIO },
	};
	unsigned mask = 0;

	while (*list) {
		size_t n = strcspn(list, ","), i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == n && strncmp(names[i].name, list, n) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return 0;
		mask |= names[i].bit;
		list += n + (list[n] == ',');
	}
	return mask;
}

/* Writes O (stolen) as one line on standard output. */
static int
write_line(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	size_t len, off = 0;
	int rc = 0;

	json_decref(o);
	if (!s)
		return TC_ENOMEM;
	len = strlen(s);
	s[len++] = '\n';		/* json_dumps' NUL becomes the newline */
	while (off < len) {
		ssize_t n = write(STDOUT_FILENO, s + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = TC_EIO;
			break;
		}
		off += (size_t)n;
	}
	free(s);
	return rc;
}

/* Writes one sentence into WHY (the reason the job fails), with the
 * current errno's text. Returns TC_EIO. */
static int __attribute__((format(printf, 3, 4)))
failed(char *why, size_t whylen, const char *fmt, ...)
{
	char what[200];
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(why, whylen, "the media worker could not %s (%s)", what, strerror(err));
	return TC_EIO;
}

/* As root: hands the folder DIR to WORKER_UID and becomes that user, for
 * good. PARENT is the process that started this one. */
static int
drop_root(int dir, pid_t parent, char *why, size_t whylen)
{
	struct stat st;
	struct rlimit nproc;

	if (fstatat(dir, "", &st, AT_EMPTY_PATH) != 0 ||
	    ((st.st_uid != WORKER_UID || st.st_gid != WORKER_GID) &&
	     fchownat(dir, "", WORKER_UID, WORKER_GID, AT_EMPTY_PATH) != 0))
		return failed(why, whylen, "hand its output folder to uid %d", WORKER_UID);
	if (getrlimit(RLIMIT_NPROC, &nproc) == 0 && nproc.rlim_max > WORKER_NPROC) {
		nproc.rlim_cur = nproc.rlim_max = WORKER_NPROC;
		if (setrlimit(RLIMIT_NPROC, &nproc) != 0)
			return failed(why, whylen, "limit its processes");
	}
	if (setgroups(0, NULL) != 0 || setresgid(WORKER_GID, WORKER_GID, WORKER_GID) != 0 ||
	    setresuid(WORKER_UID, WORKER_UID, WORKER_UID) != 0)
		return failed(why, whylen, "give up root for uid %d", WORKER_UID);
	if (setuid(0) == 0 || setgid(0) == 0 || geteuid() != WORKER_UID || getegid() != WORKER_GID) {
		errno = EPERM;
		return failed(why, whylen, "give up root for good");
	}
	/* cleared by the change of ids; the server may have died meanwhile */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent) {
		errno = ESRCH;
		return failed(why, whylen, "stay tied to the server");
	}
#ifdef MEDIA_UNDER_ASAN
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);	/* LeakSanitizer ptraces it at exit */
#endif
	return 0;
}

/* Adds a rule to the Landlock RULESET: ALLOWED beneath PATH_FD. */
static int
landlock_allow(int ruleset, int path_fd, uint64_t allowed)
{
	struct landlock_path_beneath_attr rule = { .allowed_access = allowed, .parent_fd = path_fd };

	return syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) == 0 ?
		0 : -1;
}

/* Confines this process's file-system access to the folder DIR (an O_PATH
 * descriptor) with Landlock, the rest as in the comment at the top. */
static int
landlock_to(int dir, char *why, size_t whylen)
{
	struct ruleset_attr attr = { 0 };
	size_t size = sizeof(attr.handled_access_fs);
	uint64_t in_dir;
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	int ruleset = -1, rc = 0;
#ifdef MEDIA_UNDER_ASAN
	int proc = -1;
#endif

	/* EPERM: a seccomp filter (a container's) refuses the call itself */
	if (abi < 0 && (errno == ENOSYS || errno == EOPNOTSUPP || errno == EPERM)) {
		fprintf(stderr, "tinchi: media worker: this kernel has no Landlock (%s): the worker's "
			"file access is bounded by its user id only\n", strerror(errno));
		return 0;
	}
	if (abi < 1)
		return failed(why, whylen, "ask the kernel for its Landlock version");
	attr.handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;	/* ABI 1 */
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	if (abi >= 4) {
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
		size = offsetof(struct ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	in_dir = attr.handled_access_fs &
		(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
		 LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
		 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_DIR |
		 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR);
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0 || landlock_allow(ruleset, dir, in_dir) != 0) {
		rc = failed(why, whylen, "set up its Landlock rules");
		goto out;
	}
#ifdef MEDIA_UNDER_ASAN
	proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc < 0 || landlock_allow(ruleset, proc, LANDLOCK_ACCESS_FS_READ_FILE |
				       LANDLOCK_ACCESS_FS_READ_DIR) != 0) {
		rc = failed(why, whylen, "let AddressSanitizer read /proc");
		goto out;
	}
#endif
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
		rc = failed(why, whylen, "confine itself with Landlock");
out:
#ifdef MEDIA_UNDER_ASAN
	if (proc >= 0)
		close(proc);
#endif
	if (ruleset >= 0)
		close(ruleset);
	return rc;
}

/* ---- seccomp: no new process, no leaving the process group ------------- */

#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif

#define SC_ERRNO(e) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))
#define SC_ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
/* the call NR jumps to the statement SKIP statements on (0: the next one) */
#define SC_IS(nr, skip) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), (skip), 0)
#define SC_ARG_LO(i) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, \
			      offsetof(struct seccomp_data, args[i]))	/* little-endian */

/*
 * Installs a seccomp filter, last, when everything else is set up: the
 * worker can make threads (clone with CLONE_THREAD; clone3, whose flags a
 * filter cannot read, answers ENOSYS so that the C library falls back to
 * clone) but no other process (fork, vfork, clone without CLONE_THREAD),
 * cannot leave its process group or session (setpgid, setsid), cannot
 * exec, cannot clear its parent death signal (prctl PR_SET_PDEATHSIG with
 * anything but SIGKILL) and cannot ptrace: EPERM for each. So the server's
 * kill of its pid and of its group reaches everything it runs. Under
 * AddressSanitizer LeakSanitizer's tracer is a clone with CLONE_VM (not a
 * thread) that ptraces the threads: those stay allowed there, the process
 * group and exec rules hold all the same.
 */
static int
seccomp_fence(char *why, size_t whylen)
{
#ifdef SECCOMP_ARCH
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef __x86_64__
		/* x32 system calls (the same arch, nr | 0x40000000): none */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
		SC_ERRNO(ENOSYS),
		SC_IS(__NR_fork, 11),
		SC_IS(__NR_vfork, 10),
#endif
		SC_IS(__NR_clone3, 8),
		SC_IS(__NR_setsid, 8),
		SC_IS(__NR_setpgid, 7),
		SC_IS(__NR_execve, 6),
		SC_IS(__NR_execveat, 5),
		SC_IS(__NR_clone, 5),
		SC_IS(__NR_prctl, 9),
#ifndef MEDIA_UNDER_ASAN
		SC_IS(__NR_ptrace, 2),
#else
		SC_IS(__NR_ptrace, 0),	/* allowed: LeakSanitizer's tracer */
#endif
		SC_ALLOW,
		SC_ERRNO(ENOSYS),			/* clone3 */
		SC_ERRNO(EPERM),			/* the others above */
		/* clone: a thread of this process only */
		SC_ARG_LO(0),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 2, 0),
#ifdef MEDIA_UNDER_ASAN
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_VM, 1, 0),
#else
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0, 1, 0),	/* never */
#endif
		SC_ERRNO(EPERM),
		SC_ALLOW,
		/* prctl: PR_SET_PDEATHSIG only to SIGKILL */
		SC_ARG_LO(0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PR_SET_PDEATHSIG, 0, 3),
		SC_ARG_LO(1),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SIGKILL, 1, 0),
		SC_ERRNO(EPERM),
		SC_ALLOW,
	};
	struct sock_fprog prog = { (unsigned short)(sizeof(f) / sizeof(f[0])), f };

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0)
		return 0;
	if (errno == EINVAL) {	/* a kernel without CONFIG_SECCOMP_FILTER */
		fprintf(stderr, "tinchi: media worker: this kernel has no seccomp filters: the "
			"worker could start processes outside the server's reach\n");
		return 0;
	}
	return failed(why, whylen, "install its seccomp filter");
#else
	(void)why;
	(void)whylen;
	fprintf(stderr, "tinchi: media worker: no seccomp filter for this architecture: the "
		"worker could start processes outside the server's reach\n");
	return 0;
#endif
}

/* Shuts this process in before it reads the input (the comment at the
 * top): after it, "." is OUTDIR and the only folder it can use. */
static int
confine(const char *outdir, char *why, size_t whylen)
{
	pid_t parent = getppid();
	int dir, rc = 0;

	json_object_seed(0);
	if (chdir(outdir) != 0 || (dir = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return failed(why, whylen, "enter its output folder");
	if (geteuid() == 0)
		rc = drop_root(dir, parent, why, whylen);
	if (rc == 0)
		rc = landlock_to(dir, why, whylen);
	close(dir);
	if (rc == 0)
		rc = seccomp_fence(why, whylen);
	return rc;
}

/* ---- the escape probe (tests) ------------------------------------------- */

/* What a call answered: "ok", or its errno's name. */
static const char *
outcome(long r)
{
	const char *name = r >= 0 ? "ok" : strerrorname_np(errno);

	return name ? name : "error";
}

/* After a fork-like call that worked: the child leaves at once. */
static void
reap(pid_t pid)
{
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, __WALL);
}

static void *
probe_thread(void *arg)
{
	return arg;
}

/*
 * The test hook of the worker's confinement: with PROBE_ENV set to
 * "escape" in its environment the worker, once confined, tries what a
 * taken-over worker would to get out of the server's reach and reports
 * each outcome in one line, {"probe":{"setsid":"EPERM",...,"thread":"ok"}},
 * then exits 0 without reading its input. The server never starts a worker
 * with it: the sandbox passes no TINCHI_ variable on (media_sandbox.c).
 */
#define PROBE_ENV "TINCHI_MEDIA_PROBE"

static int
escape_probe(void)
{
	struct { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size,
		 tls; } args = { .exit_signal = SIGCHLD };
	char *const argv[] = { "true", NULL }, *const envp[] = { NULL };
	pthread_t th;
	long r;
	json_t *o = json_object();

	r = setsid();
	json_object_set_new(o, "setsid", json_string(outcome(r)));
	r = setpgid(0, 0);
	json_object_set_new(o, "setpgid", json_string(outcome(r)));
	r = fork();
	json_object_set_new(o, "fork", json_string(outcome(r)));
	reap((pid_t)r);
	r = vfork();
	if (r == 0)
		_exit(0);
	json_object_set_new(o, "vfork", json_string(outcome(r)));
	reap((pid_t)r);
	r = syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, NULL);
	json_object_set_new(o, "clone", json_string(outcome(r)));
	reap((pid_t)r);
	r = syscall(SYS_clone3, &args, sizeof(args));
	json_object_set_new(o, "clone3", json_string(outcome(r)));
	reap((pid_t)r);
	r = execve("/bin/true", argv, envp);
	json_object_set_new(o, "execve", json_string(outcome(r)));
	r = prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	json_object_set_new(o, "pdeathsig", json_string(outcome(r)));
	errno = pthread_create(&th, NULL, probe_thread, NULL);
	json_object_set_new(o, "thread", json_string(outcome(errno ? -1 : 0)));
	if (errno == 0)
		pthread_join(th, NULL);
	return write_line(json_pack("{s:o}", "probe", o)) ? 1 : 0;
}

static void
on_progress(void *arg, const char *stage, int percent)
{
	(void)arg;
	write_line(json_pack("{s:s, s:i}", "stage", stage, "percent", percent));
}

int
media_worker_main(int argc, char **argv)
{
	struct media_result res;
	char why[512], *text = NULL;
	json_t *result = NULL;
	unsigned want = MEDIA_ALL;
	int rc;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		fprintf(stderr, "tinchi: media worker: cannot set no_new_privs (%s)\n", strerror(errno));
		return 1;
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("%s", worker_usage);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "--renditions") == 0) {
		want = parse_renditions(argv[2]);
		argc -= 2;
		argv += 2;
	}
	if (argc != 2 || argv[1][0] == '-' || want == 0) {
		fprintf(stderr, "%s", worker_usage);
		return 2;
	}
	why[0] = '\0';
	rc = confine(argv[1], why, sizeof(why));
	if (rc == 0 && getenv(PROBE_ENV) && strcmp(getenv(PROBE_ENV), "escape") == 0)
		return escape_probe();
	media_log_level(LOG_ERROR);
	if (rc == 0)
		rc = media_package(STDIN_FILENO, ".", want, on_progress, NULL, &res, why, sizeof(why));
	if (rc == 0) {
		text = media_result_json(&res);
		result = text ? json_loads(text, 0, NULL) : NULL;
		free(text);
		if (!result) {
			rc = TC_ENOMEM;
			snprintf(why, sizeof(why), "there was not enough memory to report the result");
		}
	}
	if (rc == 0)
		rc = write_line(json_pack("{s:b, s:o}", "ok", 1, "result", result));
	else
		write_line(json_pack("{s:b, s:s, s:s}", "ok", 0, "code", tc_strerror(rc),
				     "error", why[0] ? why : tc_strerror(rc)));
	return rc ? 1 : 0;
}
