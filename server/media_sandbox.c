/*
 * media_sandbox.c - one media job in a separate, resource-limited process
 * (media_sandbox.h).
 *
 * The worker is this same executable (`tinchi media-worker OUTDIR`), its
 * path read from /proc/self/exe by media_sandbox_init. Tests run from a
 * test binary, so the environment variable TINCHI_MEDIA_WORKER, when set
 * at media_sandbox_init, names the executable to start instead.
 *
 * Everything the child needs (argument vector, limits, resolved folder) is
 * prepared before fork(); between fork() and execv() the child makes only
 * system calls that are async-signal-safe, as the server has threads.
 * PR_SET_PDEATHSIG fires when the thread that forked ends, so a job runs on
 * a thread that waits for it (media_sandbox_run blocks).
 *
 * Limits of 0 are left as inherited. RLIMIT_CPU gets a hard limit 5 s
 * above the soft one (SIGXCPU first, SIGKILL if ignored); RLIMIT_FSIZE
 * bounds each file the worker writes (SIGXFSZ).
 *
 * No network: the child enters a network namespace of its own before exec
 * (unshare(CLONE_NEWNET), which needs root), or, when the server is not
 * root, a new user namespace with one (unprivileged user namespaces; exec
 * works from there, its files are checked against the server's own ids).
 * A root server never takes the user-namespace way: the worker would lose
 * the means to become uid 65534 after exec (media_worker.c) while keeping
 * root's ownership of files. When neither is possible the child says so in
 * one line on standard error and goes on (the protocol whitelist, and
 * Landlock's TCP rules on Linux 6.7+, still hold).
 *
 * The end of a worker: when it has exited (seen with WNOWAIT, so that it
 * stays a zombie and its process group id cannot be taken by another
 * process) or has to be killed, its whole process group is killed with
 * SIGKILL, whatever it left running, then what it wrote is read to the end
 * and it is reaped. A root server then takes back the files the worker
 * made as uid 65534 (chown, not following links), so that no later
 * process of that uid can change a published lecture.
 *
 * The worker's lines are untrusted: the stage must be one of the three,
 * the percent is clamped to 0-100, an error text is cut between UTF-8
 * characters with its control characters made spaces, and a result must
 * pass media_result_parse, or the job fails.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "server/media_sandbox.h"

#define LINE_MAX_BYTES (1 << 20)
#define POLL_MS 200
#define EXIT_GRACE_S 10		/* after the pipe closes, before a kill */
#define DRAIN_S 2		/* reading the pipe after the group was killed */
#define CPU_HARD_EXTRA 5
#define RECLAIM_DEPTH 4		/* OUTDIR/<rendition>/<file> and a little more */

/* The executable to start; written once by media_sandbox_init. */
static char worker_path[PATH_MAX];

int
media_sandbox_init(void)
{
	const char *env = getenv("TINCHI_MEDIA_WORKER");
	ssize_t n;

	if (env && env[0]) {
		/* made absolute: the child changes directory before exec */
		if (realpath(env, worker_path))
			return 0;
		if (strlen(env) >= sizeof(worker_path))
			return TC_EIO;
		memcpy(worker_path, env, strlen(env) + 1);	/* missing: exec will say */
		return 0;
	}
	n = readlink("/proc/self/exe", worker_path, sizeof(worker_path) - 1);
	if (n <= 0) {
		worker_path[0] = '\0';
		return TC_EIO;
	}
	worker_path[n] = '\0';
	return 0;
}

/* ---- the child, between fork and exec ------------------------------------ */

struct spawn {
	char *argv[4];
	char **envp;			/* the server's environment less TINCHI_* */
	char dir[PATH_MAX];
	struct { int resource; struct rlimit lim; } rl[5];
	int nrl;
	pid_t parent;
	int in, out;
	int root;			/* the server runs as root */
};

static void
child_say(const char *msg)
{
	ssize_t n = write(STDERR_FILENO, msg, strlen(msg));

	(void)n;
}

static void
child_fail(const char *msg, int status)
{
	child_say(msg);
	_exit(status);
}

static void __attribute__((noreturn))
child_exec(const struct spawn *sp)
{
	static const int dfl[] = { SIGPIPE, SIGXCPU, SIGXFSZ, SIGINT, SIGTERM, SIGHUP, SIGCHLD };
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < sizeof(dfl) / sizeof(dfl[0]); i++)
		sigaction(dfl[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != sp->parent)
		_exit(127);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (unshare(CLONE_NEWNET) != 0 && (sp->root || unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0))
		child_say("tinchi: media worker: no network namespace of its own (unshare was "
			  "refused); it shares the server's network\n");
	for (int i = 0; i < sp->nrl; i++)
		if (setrlimit(sp->rl[i].resource, &sp->rl[i].lim) != 0)
			child_fail("tinchi: media worker: cannot set its resource limits\n", 126);
	if (dup2(sp->in, STDIN_FILENO) < 0 || dup2(sp->out, STDOUT_FILENO) < 0)
		child_fail("tinchi: media worker: cannot set up its input and output\n", 127);
	if (close_range(3, ~0U, 0) != 0) {
		struct rlimit nofile;
		int max = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < 65536 ?
			(int)nofile.rlim_cur : 65536;

		for (int fd = 3; fd < max; fd++)
			close(fd);
	}
	if (chdir(sp->dir) != 0)
		child_fail("tinchi: media worker: cannot enter its output folder\n", 127);
	execve(worker_path, sp->argv, sp->envp);
	child_fail("tinchi: media worker: cannot start the worker executable\n", 127);
	_exit(127);
}

/*
 * The worker's environment: the server's less every TINCHI_ variable, so
 * that none of the switches the server or the tests read (nor the
 * worker's test hook, media_worker.c) reaches a worker the server starts.
 * The strings are borrowed from environ; the array is allocated (free).
 */
static char **
worker_env(void)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 1, sizeof(*env));
	for (size_t i = 0; env && i < n; i++)
		if (strncmp(environ[i], "TINCHI_", 7) != 0)
			env[k++] = environ[i];
	return env;
}

static void
add_limit(struct spawn *sp, int resource, rlim_t soft, rlim_t hard)
{
	sp->rl[sp->nrl].resource = resource;
	sp->rl[sp->nrl].lim.rlim_cur = soft;
	sp->rl[sp->nrl].lim.rlim_max = hard;
	sp->nrl++;
}

static void
plan_limits(struct spawn *sp, const struct media_limits *lim)
{
	add_limit(sp, RLIMIT_CORE, 0, 0);
	if (lim->cpu_seconds > 0)
		add_limit(sp, RLIMIT_CPU, (rlim_t)lim->cpu_seconds,
			  (rlim_t)lim->cpu_seconds + CPU_HARD_EXTRA);
	if (lim->max_output > 0)
		add_limit(sp, RLIMIT_FSIZE, (rlim_t)lim->max_output, (rlim_t)lim->max_output);
	if (lim->open_files > 0)
		add_limit(sp, RLIMIT_NOFILE, (rlim_t)lim->open_files, (rlim_t)lim->open_files);
	if (lim->memory > 0) {
#ifdef MEDIA_UNDER_ASAN
		static atomic_flag warned = ATOMIC_FLAG_INIT;

		if (!atomic_flag_test_and_set(&warned))
			log_warn("media: AddressSanitizer build: the media worker runs without a memory "
				 "limit (its shadow memory needs terabytes of address space)");
#else
		add_limit(sp, RLIMIT_AS, (rlim_t)lim->memory, (rlim_t)lim->memory);
#endif
	}
}

/* ---- the parent ---------------------------------------------------------- */

enum kill_reason {
	KILL_NONE, KILL_TIMEOUT, KILL_STALL, KILL_CANCEL, KILL_PROTOCOL, KILL_RESULT, KILL_LINGER
};

struct supervise {
	pid_t pid;
	int fd;
	const struct media_limits *lim;
	media_sandbox_progress_fn progress;
	void *arg;
	volatile sig_atomic_t *cancel;
	struct timespec start, last_line;
	enum kill_reason killed;
	struct dynbuf line;
	int final;			/* 0 none, 1 ok, -1 error */
	int final_rc;
	char error[512];
	struct media_result *out;
};

static double
since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (now.tv_nsec - t->tv_nsec) / 1e9;
}

static int
code_of(const char *code)
{
	if (code && strcmp(code, tc_strerror(TC_EUNSUPPORTED)) == 0)
		return TC_EUNSUPPORTED;
	if (code && strcmp(code, tc_strerror(TC_EIO)) == 0)
		return TC_EIO;
	return TC_EINVALID;
}

/*
 * Copies SRC (the worker's words) into DST, DSTLEN bytes with the NUL, as
 * text for people: control characters (C0, DEL, C1, line and paragraph
 * separators) and bidirectional overrides become spaces, bytes that are
 * not UTF-8 are left out, and a cut falls between two characters.
 */
static void
clean_text(char *dst, size_t dstlen, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t o = 0, n, k;
	uint32_t c;

	if (!dstlen)
		return;
	while (*p) {
		n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 :
			(*p & 0xf8) == 0xf0 ? 4 : 0;
		c = n == 1 ? *p : n == 2 ? *p & 0x1fu : n == 3 ? *p & 0x0fu : *p & 0x07u;
		for (k = 1; k < n && (p[k] & 0xc0) == 0x80; k++)	/* stops at the NUL */
			c = c << 6 | (p[k] & 0x3fu);
		if (n == 0 || k < n || (n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
		    (n == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff)) {
			p++;			/* not UTF-8: this byte goes */
			continue;
		}
		if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x2028 || c == 0x2029 ||
		    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = ' ';
		} else {
			if (o + n >= dstlen)
				break;
			memcpy(dst + o, p, n);
			o += n;
		}
		p += n;
	}
	dst[o] = '\0';
}

static int
known_stage(const char *stage)
{
	return strcmp(stage, "probe") == 0 || strcmp(stage, "package") == 0 ||
	       strcmp(stage, "poster") == 0;
}

/* One JSON line from the worker. A line that is not understood ends the
 * job: the worker is ours, so it is broken or was taken over. */
static void
on_line(struct supervise *s, const char *text, size_t len)
{
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL), *ok, *v, *pc;
	json_int_t percent;
	char *res;

	clock_gettime(CLOCK_MONOTONIC, &s->last_line);
	if (!json_is_object(o) || s->final) {
		s->killed = KILL_PROTOCOL;
		goto out;
	}
	ok = json_object_get(o, "ok");
	if (json_is_boolean(ok) && json_is_true(ok)) {
		res = json_dumps(json_object_get(o, "result"), JSON_COMPACT);
		s->final = res && media_result_parse(res, s->out) == 0 ? 1 : 0;
		free(res);
		if (!s->final)
			s->killed = KILL_RESULT;
	} else if (json_is_boolean(ok)) {
		v = json_object_get(o, "error");
		clean_text(s->error, sizeof(s->error), json_is_string(v) ? json_string_value(v) : "");
		if (!s->error[strspn(s->error, " ")])
			snprintf(s->error, sizeof(s->error), "the media worker failed");
		s->final = -1;
		s->final_rc = code_of(json_string_value(json_object_get(o, "code")));
	} else if (json_is_string(v = json_object_get(o, "stage")) && known_stage(json_string_value(v)) &&
		   json_is_integer(pc = json_object_get(o, "percent"))) {
		percent = json_integer_value(pc);
		if (s->progress)
			s->progress(s->arg, json_string_value(v),
				    percent < 0 ? 0 : percent > 100 ? 100 : (int)percent);
	} else {
		s->killed = KILL_PROTOCOL;
	}
out:
	json_decref(o);
}

/* Splits what arrived into lines. */
static void
on_data(struct supervise *s, const char *p, size_t n)
{
	while (n > 0 && !s->killed) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;

		if (dynbuf_append(&s->line, p, take) != 0) {
			s->killed = KILL_PROTOCOL;	/* a line over LINE_MAX_BYTES */
			return;
		}
		if (!nl)
			return;
		on_line(s, s->line.data ? s->line.data : "", s->line.len);
		dynbuf_reset(&s->line);
		p = nl + 1;
		n -= take + 1;
	}
}

/* Whether a limit says the worker must go now. */
static enum kill_reason
overdue(const struct supervise *s)
{
	if (s->cancel && *s->cancel)
		return KILL_CANCEL;
	if (s->lim->timeout > 0 && since(&s->start) >= (double)s->lim->timeout)
		return KILL_TIMEOUT;
	if (s->lim->stall > 0 && since(&s->last_line) >= (double)s->lim->stall)
		return KILL_STALL;
	return KILL_NONE;
}

static void
kill_worker(struct supervise *s, enum kill_reason why)
{
	if (!s->killed)
		s->killed = why;
	kill(-s->pid, SIGKILL);
	kill(s->pid, SIGKILL);
}

/* 1 once the worker has exited. It stays a zombie (WNOWAIT): as long as
 * it is not reaped, its process group id is not given to anyone else. */
static int
exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
		return errno != EINTR;		/* ECHILD: nothing left to wait for */
	return si.si_pid == pid;
}

/* Waits up to MS for the pipe and reads what it holds into the lines;
 * *OPEN becomes 0 at its end. */
static void
read_pipe(struct supervise *s, int ms, int *open)
{
	char buf[16384];
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, ms) < 0) {
		if (errno != EINTR)
			kill_worker(s, KILL_PROTOCOL);
		return;
	}
	if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	n = read(s->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0)
		*open = 0;
	else
		on_data(s, buf, (size_t)n);
}

/* Reads the pipe until the worker exits or has to be killed, kills its
 * process group, reads what is left and reaps it. Returns its wait status. */
static int
supervise(struct supervise *s)
{
	struct timespec closed = { 0 }, end;
	enum kill_reason r;
	int status = 0, open = 1;
	pid_t w;

	while (!s->killed && !exited(s->pid)) {
		if ((r = overdue(s)) != KILL_NONE) {
			kill_worker(s, r);
			break;
		}
		if (open) {
			read_pipe(s, POLL_MS, &open);
			if (!open)
				clock_gettime(CLOCK_MONOTONIC, &closed);
		} else if (since(&closed) >= EXIT_GRACE_S) {
			kill_worker(s, KILL_LINGER);
		} else {
			nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
		}
	}
	/* nothing of the worker outlives the job, whatever it started */
	kill(-s->pid, SIGKILL);
	/* its last lines may still wait in the pipe; all its writers are
	 * dying, so the end comes soon (DRAIN_S bounds a process that left
	 * the group) */
	clock_gettime(CLOCK_MONOTONIC, &end);
	while (open && !s->killed && since(&end) < DRAIN_S)
		read_pipe(s, POLL_MS, &open);
	for (;;) {
		w = waitpid(s->pid, &status, 0);
		if (w == s->pid)
			break;
		if (w < 0 && errno != EINTR) {
			status = 0;
			break;
		}
	}
	return status;
}

/*
 * Gives the folder open at DIR (taken) and what is in it, DEPTH levels
 * down, to this process's user and group, without following symbolic
 * links (a link is changed itself). Returns the number of entries that
 * could not be changed.
 */
static int
reclaim(int dir, int depth)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	struct dirent *e;
	DIR *d;
	int sub, failed = fchown(dir, uid, gid) != 0;

	if (depth <= 0 || !(d = fdopendir(dir))) {
		close(dir);
		return failed + (depth > 0);
	}
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0)
			failed += reclaim(sub, depth - 1);
		else if (fchownat(dirfd(d), e->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
			failed += errno != ENOENT;
	}
	closedir(d);
	return failed;
}

/* The outcome in words, from how the worker ended. */
static int
verdict(struct supervise *s, int status, char *why, size_t whylen)
{
	const struct media_limits *lim = s->lim;
	int sig;

	switch (s->killed) {
	case KILL_CANCEL:
		snprintf(why, whylen, "processing was cancelled; it will run again");
		return TC_EBUSY;
	case KILL_TIMEOUT:
		snprintf(why, whylen, "processing took longer than %ld s", lim->timeout);
		return TC_EINVALID;
	case KILL_STALL:
		snprintf(why, whylen, "processing made no progress for %ld s", lim->stall);
		return TC_EINVALID;
	case KILL_PROTOCOL:
		snprintf(why, whylen, "the media worker sent an answer that is not understood");
		return TC_EINVALID;
	case KILL_RESULT:
		snprintf(why, whylen, "the media worker sent a result that could not be read");
		return TC_EINVALID;
	case KILL_LINGER:
		snprintf(why, whylen, "the media worker did not exit after its answer");
		return TC_EINVALID;
	case KILL_NONE:
		break;
	}
	if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		if (sig == SIGXCPU)
			snprintf(why, whylen, "processing used more than %ld s of CPU time", lim->cpu_seconds);
		else if (sig == SIGXFSZ)
			snprintf(why, whylen, "processing wrote more than %lld bytes into one file",
				 lim->max_output);
		else
			snprintf(why, whylen, "the media worker crashed (signal %d, SIG%s)", sig,
				 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
		return TC_EINVALID;
	}
	if (WIFEXITED(status)) {
		int code = WEXITSTATUS(status);

		if (code == 0 && s->final == 1)
			return 0;
		if (s->final == -1) {
			clean_text(why, whylen, s->error);
			return s->final_rc;
		}
		if (code == 126 || code == 127) {
			snprintf(why, whylen, "the media worker could not be started");
			return TC_EIO;
		}
		snprintf(why, whylen, "the media worker stopped without an answer (exit status %d)", code);
		return TC_EINVALID;
	}
	snprintf(why, whylen, "the media worker ended in an unknown way");
	return TC_EINVALID;
}

/* Moves FD to a number above the standard ones (close-on-exec kept). */
static int
above_stdio(int fd)
{
	int nfd;

	if (fd < 0 || fd > STDERR_FILENO)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	close(fd);
	return nfd;
}

int
media_sandbox_run(const char *input_path, const char *outdir,
		  const struct media_limits *limits,
		  media_sandbox_progress_fn progress, void *arg,
		  volatile sig_atomic_t *cancel,
		  struct media_result *out, char *why, size_t whylen)
{
	struct spawn sp;
	struct supervise s;
	int in = -1, pfd[2] = { -1, -1 }, status, rc;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	memset(&sp, 0, sizeof(sp));
	memset(&s, 0, sizeof(s));
	if (why && whylen)
		why[0] = '\0';
	if (!worker_path[0]) {
		snprintf(why, whylen, "the media worker could not be started (not initialised)");
		return TC_EIO;
	}
	if (!realpath(outdir, sp.dir)) {
		snprintf(why, whylen, "the output folder cannot be used (%s)", strerror(errno));
		return TC_EIO;
	}
	in = above_stdio(open(input_path, O_RDONLY | O_CLOEXEC | O_NOCTTY));
	if (in < 0) {
		snprintf(why, whylen, "the uploaded file cannot be opened (%s)", strerror(errno));
		return TC_EIO;
	}
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		snprintf(why, whylen, "the media worker could not be started (%s)", strerror(errno));
		close(in);
		return TC_EIO;
	}
	pfd[0] = above_stdio(pfd[0]);
	pfd[1] = above_stdio(pfd[1]);
	if (pfd[0] < 0 || pfd[1] < 0) {
		rc = TC_EIO;
		snprintf(why, whylen, "the media worker could not be started (%s)", strerror(errno));
		goto out;
	}
	sp.argv[0] = "tinchi";
	sp.argv[1] = "media-worker";
	sp.argv[2] = sp.dir;
	sp.argv[3] = NULL;
	if (!(sp.envp = worker_env())) {
		rc = TC_ENOMEM;
		snprintf(why, whylen, "the media worker could not be started (out of memory)");
		goto out;
	}
	sp.in = in;
	sp.out = pfd[1];
	sp.parent = getpid();
	sp.root = geteuid() == 0;
	plan_limits(&sp, limits);

	pid = fork();
	if (pid < 0) {
		rc = errno == ENOMEM || errno == EAGAIN ? TC_ENOMEM : TC_EIO;
		snprintf(why, whylen, "the media worker could not be started (%s)", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child_exec(&sp);
	setpgid(pid, pid);		/* also here: no window before a kill(-pid) */
	close(pfd[1]);
	pfd[1] = -1;
	close(in);
	in = -1;

	s.pid = pid;
	s.fd = pfd[0];
	s.lim = limits;
	s.progress = progress;
	s.arg = arg;
	s.cancel = cancel;
	s.out = out;
	dynbuf_init(&s.line, LINE_MAX_BYTES);
	clock_gettime(CLOCK_MONOTONIC, &s.start);
	s.last_line = s.start;
	status = supervise(&s);
	dynbuf_cleanup(&s.line);
	if (sp.root) {
		int dir = open(sp.dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (dir < 0 || reclaim(dir, RECLAIM_DEPTH))
			log_warn("media: some files the worker made in %s still belong to its user", sp.dir);
	}
	rc = verdict(&s, status, why, whylen);
	if (rc)
		memset(out, 0, sizeof(*out));
out:
	free(sp.envp);
	if (in >= 0)
		close(in);
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	return rc;
}
