/* config_test.c - tests for server/config.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "courses/errors.h"
#include "server/config.h"
#include "tests/tap.h"

#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Writes TEXT to a fresh temporary file; its name goes to PATH. */
static int
write_temp(char *path, size_t len, const char *text)
{
	FILE *fp;
	int fd;

	snprintf(path, len, "/tmp/tinchi-config-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	fp = fdopen(fd, "w");
	if (!fp) {
		close(fd);
		return -1;
	}
	fputs(text, fp);
	return fclose(fp) == 0 ? 0 : -1;
}

static void
test_defaults(void)
{
	struct config c;

	config_defaults(&c);
	is_str(c.listen_host, "127.0.0.1", "default host");
	is_int(c.listen_port, 8080, "default port");
	is_str(c.data_dir, "./var", "default data folder");
	is_int(c.max_body, 1 << 20, "default max_body is 1 MiB");
	is_int(c.log_level, LOG_INFO, "default log level is info");
	is_int(c.access_log, 1, "access log on by default");
	is_str(c.tls_cert, "", "no TLS certificate by default");
}

static void
test_set(void)
{
	struct config c;
	char err[256];

	config_defaults(&c);
	is_int(config_set(&c, "max_body", "2048", err, sizeof(err)), 0, "set by file key");
	/* every password cost the configuration takes, the hashing accepts */
	is_int(config_set(&c, "password-cost", "20", err, sizeof(err)), 0, "password cost 20 (1 GiB)");
	ok(config_set(&c, "password-cost", "21", err, sizeof(err)) != 0,
	   "password cost 21 refused: scrypt would need 2 GiB, more than the hashing allows");
	is_int(c.max_body, 2048, "file key took effect");
	is_int(config_set(&c, "max-body", "4096", err, sizeof(err)), 0, "set by flag name");
	is_int(c.max_body, 4096, "flag name took effect");
	is_int(config_set(&c, "max_body", "10K", err, sizeof(err)), 0, "K suffix");
	is_int(c.max_body, 10 * 1024, "K is 1024");
	is_int(config_set(&c, "max_body", "3m", err, sizeof(err)), 0, "lower-case m suffix");
	is_int(c.max_body, 3 * 1024 * 1024, "M is 1024^2");
	is_int(config_set(&c, "max_body", "2G", err, sizeof(err)), 0, "G suffix");
	is_int(c.max_body, (int64_t)2 << 30, "G is 1024^3, held in 64 bits");
	is_int(config_set(&c, "max_body", "1024G", err, sizeof(err)), 0, "the maximum is accepted");

	config_defaults(&c);
	err[0] = '\0';
	is_int(config_set(&c, "max_body", "1025G", err, sizeof(err)), TC_EINVALID,
	       "size above the maximum rejected");
	ok(err[0] != '\0', "rejection explains itself");
	is_int(c.max_body, 1 << 20, "rejected size left the setting unchanged");
	is_int(config_set(&c, "max_body", "-1", err, sizeof(err)), TC_EINVALID, "negative size rejected");
	is_int(config_set(&c, "max_body", "12X", err, sizeof(err)), TC_EINVALID, "unknown suffix rejected");
	is_int(config_set(&c, "max_body", "", err, sizeof(err)), TC_EINVALID, "empty value rejected");
	is_int(config_set(&c, "max_body", " 5", err, sizeof(err)), TC_EINVALID, "leading space rejected");
	is_int(config_set(&c, "max_body", "99999999999999999999", err, sizeof(err)), TC_EINVALID,
	       "overflowing number rejected");
	is_int(config_set(&c, "max_body", "9223372036854775807K", err, sizeof(err)), TC_EINVALID,
	       "overflow through the suffix rejected");
	is_int(c.max_body, 1 << 20, "max_body still the default");

	is_int(config_set(&c, "max_connections", "5K", err, sizeof(err)), TC_EINVALID,
	       "plain numbers take no suffix");
	is_int(config_set(&c, "max_connections", "0", err, sizeof(err)), TC_EINVALID,
	       "number below the minimum rejected");
	is_int(config_set(&c, "header-timeout", "3601", err, sizeof(err)), TC_EINVALID,
	       "number above the maximum rejected");
	is_int(config_set(&c, "header_timeout", "abc", err, sizeof(err)), TC_EINVALID,
	       "garbage number rejected");
	is_int(c.header_timeout, 10, "header_timeout unchanged");
	is_int(config_set(&c, "max_header", "16K", err, sizeof(err)), 0, "int-sized size setting");
	is_int(c.max_header, 16384, "max_header set");

	err[0] = '\0';
	is_int(config_set(&c, "no_such_key", "1", err, sizeof(err)), TC_EINVALID, "unknown key rejected");
	ok(strstr(err, "no_such_key") != NULL, "error names the unknown key");

	is_int(config_set(&c, "access_log", "off", err, sizeof(err)), 0, "bool off");
	is_int(c.access_log, 0, "off is 0");
	is_int(config_set(&c, "access-log", "yes", err, sizeof(err)), 0, "bool yes");
	is_int(c.access_log, 1, "yes is 1");
	is_int(config_set(&c, "http2", "on", err, sizeof(err)), 0, "bool on");
	is_int(c.http2, 1, "on is 1");
	is_int(config_set(&c, "http2", "no", err, sizeof(err)), 0, "bool no");
	is_int(c.http2, 0, "no is 0");
	is_int(config_set(&c, "http2", "maybe", err, sizeof(err)), TC_EINVALID, "bool garbage rejected");
	is_int(c.http2, 0, "bool unchanged");

	is_int(config_set(&c, "log_level", "debug", err, sizeof(err)), 0, "log level debug");
	is_int(c.log_level, LOG_DEBUG, "level is debug");
	is_int(config_set(&c, "log-level", "error", err, sizeof(err)), 0, "log level error");
	is_int(c.log_level, LOG_ERROR, "level is error");
	is_int(config_set(&c, "log_level", "loud", err, sizeof(err)), TC_EINVALID, "unknown level rejected");
	is_int(c.log_level, LOG_ERROR, "level unchanged");

	is_int(config_set(&c, "listen", "[::1]:9000", err, sizeof(err)), 0, "listen by key");
	is_str(c.listen_host, "::1", "listen host set");
	is_int(c.listen_port, 9000, "listen port set");
	is_int(config_set(&c, "listen", "nohost", err, sizeof(err)), TC_EINVALID, "bad listen rejected");
	is_str(c.listen_host, "::1", "listen host unchanged");
	is_int(c.listen_port, 9000, "listen port unchanged");
}

static void
test_listen(void)
{
	static const char *const bad[] = {
		"nohost", ":80", "1.2.3.4:65536", "1.2.3.4:-1", "::1:80", "h:8o",
		"1.2.3.4:", "[::1]", "[::1]80", "[]:80",
	};
	char host[64], name[96];
	int port = -7;

	is_int(config_parse_listen("127.0.0.1:8080", host, sizeof(host), &port), 0, "IPv4 listen");
	is_str(host, "127.0.0.1", "IPv4 host");
	is_int(port, 8080, "IPv4 port");
	is_int(config_parse_listen("[::1]:0", host, sizeof(host), &port), 0, "bracketed IPv6 listen");
	is_str(host, "::1", "brackets stripped");
	is_int(port, 0, "port 0 allowed");
	is_int(config_parse_listen("localhost:65535", host, sizeof(host), &port), 0, "name and top port");
	is_str(host, "localhost", "host name kept");
	is_int(port, 65535, "port 65535 allowed");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "'%s' rejected", bad[i]);
		port = -7;
		is_int(config_parse_listen(bad[i], host, sizeof(host), &port), TC_EINVALID, name);
	}
	is_int(port, -7, "port untouched by a rejected address");
	is_int(config_parse_listen("abcdefgh:1", host, 8, &port), TC_EINVALID,
	       "host longer than its buffer rejected");
}

static void
test_file(void)
{
	struct config c;
	char path[64], err[512], want[128];

	config_defaults(&c);
	if (write_temp(path, sizeof(path),
		       "# a comment\n"
		       "\n"
		       "   \t\n"
		       "  listen   =   10.0.0.1:81  \n"
		       "data = \"/srv/tinchi data\"\n"
		       "max_body=5M\n"
		       "\t# indented comment\n"
		       "access_log = off") != 0) {
		ok(0, "cannot write a temporary config file");
		return;
	}
	is_int(config_load_file(&c, path, err, sizeof(err)), 0, "well-formed file loads");
	is_str(c.listen_host, "10.0.0.1", "listen host from the file");
	is_int(c.listen_port, 81, "listen port from the file (whitespace trimmed)");
	is_str(c.data_dir, "/srv/tinchi data", "quotes removed, inner space kept");
	is_int(c.max_body, 5 << 20, "size from the file");
	is_int(c.access_log, 0, "last line without newline read");
	unlink(path);

	config_defaults(&c);
	write_temp(path, sizeof(path), "max_body = 1K\n# fine\nbogus_key = 1\n");
	err[0] = '\0';
	is_int(config_load_file(&c, path, err, sizeof(err)), TC_EINVALID, "unknown key in a file");
	snprintf(want, sizeof(want), "%s:3:", path);
	ok(strstr(err, want) != NULL, "error names file:line of the unknown key");
	ok(strstr(err, "bogus_key") != NULL, "error names the key");
	unlink(path);

	config_defaults(&c);
	write_temp(path, sizeof(path), "\nlisten 1.2.3.4:5\n");
	err[0] = '\0';
	is_int(config_load_file(&c, path, err, sizeof(err)), TC_EINVALID, "line without '='");
	snprintf(want, sizeof(want), "%s:2:", path);
	ok(strstr(err, want) != NULL, "error names file:line of the line without '='");
	unlink(path);

	write_temp(path, sizeof(path), "max_body = lots\n");
	err[0] = '\0';
	is_int(config_load_file(&c, path, err, sizeof(err)), TC_EINVALID, "bad value in a file");
	snprintf(want, sizeof(want), "%s:1:", path);
	ok(strstr(err, want) != NULL, "error names file:line of the bad value");
	unlink(path);

	err[0] = '\0';
	is_int(config_load_file(&c, "/nonexistent/tinchi.conf", err, sizeof(err)), TC_EIO,
	       "missing file is an I/O error");
	ok(strstr(err, "/nonexistent/tinchi.conf") != NULL, "I/O error names the file");
}

static void
test_args(void)
{
	struct config c;
	char path[64], err[512];

	if (write_temp(path, sizeof(path),
		       "listen = 5.6.7.8:1\nmax_body = 2K\nidle_timeout = 99\n") != 0) {
		ok(0, "cannot write a temporary config file");
		return;
	}

	{
		char *argv[] = { "serve", "--listen", "1.2.3.4:9", "--config", path };
		config_defaults(&c);
		is_int(config_parse_args(&c, NARGS(argv), argv, err, sizeof(err)), 0,
		       "flag before --config");
		is_str(c.listen_host, "1.2.3.4", "flag host beats the file");
		is_int(c.listen_port, 9, "flag port beats the file");
		is_int(c.max_body, 2048, "file setting without a flag applies");
		is_int(c.idle_timeout, 99, "another file setting applies");
	}
	{
		char *argv[] = { "serve", "--config", path, "--max-body=3K", "--log-level", "warn" };
		config_defaults(&c);
		is_int(config_parse_args(&c, NARGS(argv), argv, err, sizeof(err)), 0,
		       "flag after --config, --flag=value form");
		is_int(c.max_body, 3072, "later flag beats the file too");
		is_str(c.listen_host, "5.6.7.8", "file listen applies without a flag");
		is_int(c.log_level, LOG_WARN, "log level flag");
	}
	{
		char *argv[] = { "serve", "--listen", "0.0.0.0:1", "--help" };
		config_defaults(&c);
		is_int(config_parse_args(&c, NARGS(argv), argv, err, sizeof(err)), CONFIG_HELP,
		       "--help returns CONFIG_HELP");
	}
	{
		char *argv[] = { "serve", "-hx" };
		config_defaults(&c);
		is_int(config_parse_args(&c, NARGS(argv), argv, err, sizeof(err)), CONFIG_HELP,
		       "-h returns CONFIG_HELP");
	}
	{
		char *argv[] = { "serve", "--port-file", "/tmp/p" };
		config_defaults(&c);
		is_int(config_parse_args(&c, NARGS(argv), argv, err, sizeof(err)), 0,
		       "a parse after an interrupted one starts afresh");
		is_str(c.port_file, "/tmp/p", "and sees its flags");
	}
	{
		char *argv[] = { "serve", "--bogus" };
		config_defaults(&c);
		err[0] = '\0';
		is_int(config_parse_args(&c, NARGS(argv), argv, err, sizeof(err)), TC_EINVALID,
		       "unknown flag rejected");
		ok(strstr(err, "--bogus") != NULL, "error names the unknown flag");
	}
	{
		char *argv[] = { "serve", "--listen" };
		config_defaults(&c);
		err[0] = '\0';
		is_int(config_parse_args(&c, NARGS(argv), argv, err, sizeof(err)), TC_EINVALID,
		       "flag without its value rejected");
		ok(err[0] != '\0', "missing value explained");
	}
	{
		char *argv[] = { "serve", "--listen", "1.2.3.4:9", "stray" };
		config_defaults(&c);
		err[0] = '\0';
		is_int(config_parse_args(&c, NARGS(argv), argv, err, sizeof(err)), TC_EINVALID,
		       "stray argument rejected");
		ok(strstr(err, "stray") != NULL, "error names the stray argument");
	}
	{
		char *argv[] = { "serve", "--tls-cert", "/etc/cert.pem" };
		config_defaults(&c);
		is_int(config_parse_args(&c, NARGS(argv), argv, err, sizeof(err)), TC_EINVALID,
		       "--tls-cert without --tls-key rejected");
	}
	{
		char *argv[] = { "serve", "--tls-cert", "/etc/cert.pem", "--tls-key", "/etc/key.pem" };
		config_defaults(&c);
		is_int(config_parse_args(&c, NARGS(argv), argv, err, sizeof(err)), 0,
		       "--tls-cert with --tls-key accepted");
		is_str(c.tls_key, "/etc/key.pem", "key path stored");
	}
	{
		char *argv[] = { "serve", "--max-body", "1025G" };
		config_defaults(&c);
		is_int(config_parse_args(&c, NARGS(argv), argv, err, sizeof(err)), TC_EINVALID,
		       "out-of-range flag value rejected");
		is_int(c.max_body, 1 << 20, "and left unchanged");
	}
	{
		char *argv[] = { "serve", "--config", "/nonexistent/tinchi.conf" };
		config_defaults(&c);
		is_int(config_parse_args(&c, NARGS(argv), argv, err, sizeof(err)), TC_EIO,
		       "unreadable --config file is an I/O error");
	}
	{
		char *argv[] = { "serve" };
		config_defaults(&c);
		is_int(config_parse_args(&c, NARGS(argv), argv, err, sizeof(err)), 0, "no flags at all");
		is_int(c.listen_port, 8080, "defaults kept");
	}
	unlink(path);
}

/* --verify-kept-lists: for tests only, so not in --help; 256 unless set */
static void
test_hidden(void)
{
	struct config c;
	char err[256], *text = NULL;
	size_t len = 0;
	FILE *fp;

	config_defaults(&c);
	is_int(c.verify_kept_lists, 256, "256 status lists kept for the verify workers by default");
	is_int(config_set(&c, "verify-kept-lists", "2", err, sizeof(err)), 0,
	       "a test may keep fewer");
	is_int(c.verify_kept_lists, 2, "... and it took effect");
	ok(config_set(&c, "verify-kept-lists", "0", err, sizeof(err)) != 0 &&
	   config_set(&c, "verify-kept-lists", "257", err, sizeof(err)) != 0,
	   "none, or more than 256, refused");
	if ((fp = open_memstream(&text, &len))) {
		config_usage(fp);
		fclose(fp);
	}
	ok(text && strstr(text, "--wal-checkpoint-ms") && !strstr(text, "verify-kept-lists"),
	   "--help names the others, not the hidden one");
	free(text);
}

int
main(void)
{
	test_defaults();
	test_set();
	test_listen();
	test_file();
	test_args();
	test_hidden();
	return done_testing();
}
