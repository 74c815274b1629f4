/*
 * check_kannel.c: the real Kannel in front of the real paknd. A citizen's
 * phone is Kannel's fakesmsc: what it types goes through bearerbox and
 * smsbox to paknd's get-url callback; what paknd answers through smsbox's
 * sendsms comes back to the phone. Each test asserts what the citizen
 * sees on the phone and what the database holds.
 *
 * main() starts PostgreSQL, paknd and the Kannel chain (bearerbox with a
 * fake SMSC, smsbox, fakesmsc), all on 127.0.0.1 on free ports in the
 * harness's directory; Check forks every test and the tests share them,
 * in order. The test that stops PostgreSQL runs last but one.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

#ifndef PAKN_SRCDIR
#define PAKN_SRCDIR "."
#endif

#define BEARERBOX "/usr/sbin/bearerbox"
#define SMSBOX    "/usr/sbin/smsbox"
#define FAKESMSC  "/usr/lib/kannel/test/fakesmsc"

#define KANNEL_TOKEN "kannel-secret"
#define SEND_USER    "pakn"
#define SEND_PASS    "sendsms-secret"
#define ADMIN_PASS   "admin-secret"
#define SHORTCODE    "8079"
#define QUEUE_DELAY  2 /* smsbox http-queue-delay, seconds */
#define START_WAIT   15.0
#define REPLY_WAIT   15.0

/* Fail with the Kannel, fakesmsc and paknd logs printed first. */
#define kassert(cond, ...)                                                     \
	do {                                                                   \
		if (!(cond))                                                   \
			kannel_dump();                                         \
		ck_assert_msg(cond, __VA_ARGS__);                              \
	} while (0)

/* Fail unless a string contains a substring. */
#define kassert_contains(hay, needle)                                          \
	do {                                                                   \
		const char *h_ = (hay);                                        \
		kassert(h_ != NULL && strstr(h_, (needle)) != NULL,            \
		        "\"%s\" does not contain \"%s\"",                      \
		        h_ != NULL ? h_ : "(null)", (needle));                 \
	} while (0)

/* The Kannel chain and its files. */
static struct {
	pid_t owner; /* the process that stops the chain */
	pid_t bearerbox;
	pid_t smsbox;
	pid_t fakesmsc;
	int phone; /* write end of fakesmsc's standard input */
	int admin_port;
	int box_port;
	int sendsms_port;
	int smsc_port;
	char conf[PATH_MAX];
	char bb_log[PATH_MAX];
	char sb_log[PATH_MAX];
	char phone_log[PATH_MAX];
} K = {.phone = -1};

/* A message as the phone shows it, parts joined. */
struct sms {
	char from[32];
	char to[32];
	int ucs2;  /* arrived as UCS-2 */
	int parts; /* 1, or the number of concatenated parts */
	char *text;
};

/* The messages the phone received after some offset of its log. */
struct inbox {
	struct sms *v;
	size_t n;
};

/* One part of a concatenated message, waiting for the others. */
struct part {
	char from[32];
	char to[32];
	int ref, total, seq;
	unsigned char *data;
	size_t len;
};

/* Return 1 for a line of Kannel's debug dumps of buffers and threads. */
static int
noise(const char *line, size_t len)
{
	static const char *const marks[] = {"DEBUG:   ", "Octet string",
	                                    "DEBUG: Thread ",
	                                    "DEBUG: Started thread"};
	size_t i;

	for (i = 0; i < sizeof marks / sizeof marks[0]; i++)
		if (memmem(line, len, marks[i], strlen(marks[i])) != NULL)
			return 1;
	return 0;
}

/* Print the last n lines of a Kannel log to stderr, without the dumps. */
static void
kannel_tail(const char *path, int n)
{
	size_t len;
	char *text = file_read(path, &len), *line, *end;
	long kept = 0, i = 0;
	int pass;

	if (text == NULL) {
		fprintf(stderr, "---- %s: unreadable\n", path);
		return;
	}
	fprintf(stderr, "---- last lines of %s\n", path);
	for (pass = 0; pass < 2; pass++) {
		for (line = text; *line != '\0'; line = end) {
			end = strchr(line, '\n');
			end = end != NULL ? end + 1 : line + strlen(line);
			if (noise(line, end - line))
				continue;
			if (pass == 0)
				kept++;
			else if (i++ >= kept - n)
				fwrite(line, 1, end - line, stderr);
		}
	}
	fprintf(stderr, "---- end\n");
	free(text);
}

/* Print the end of every log of the chain and of paknd. */
static void
kannel_dump(void)
{
	kannel_tail(K.bb_log, 20);
	kannel_tail(K.sb_log, 30);
	kannel_tail(K.phone_log, 20);
	paknd_dump(harness_main());
}

/* Write a whole file; 0 on success. */
static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		return -1;
	}
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -1;
}

/* Start a program in the harness's directory, stdin from in (-1: the null
 * device), stdout and stderr appended to log, killed when we die. */
static pid_t
start(char *const argv[], int in, const char *log)
{
	struct rlimit nocore = {0, 0};
	pid_t parent = getpid(), pid;
	int fd;

	fflush(NULL);
	if ((pid = fork()) != 0) {
		if (pid == -1)
			perror("kannel: fork");
		return pid;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(127);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	/* fakesmsc may abort on its way out: no core files. */
	setrlimit(RLIMIT_CORE, &nocore);
	fd = in >= 0 ? in : open("/dev/null", O_RDONLY);
	dup2(fd, 0);
	if (fd > 2)
		close(fd);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	if (chdir(harness_dir()) == -1)
		_exit(127);
	execv(argv[0], argv);
	fprintf(stderr, "kannel: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Return 1 while a process of the chain runs (a zombie counts as gone). */
static int
alive(pid_t *pid, const char *name)
{
	int status;

	if (*pid <= 0)
		return 0;
	if (waitpid(*pid, &status, WNOHANG) == *pid) {
		fprintf(stderr, "kannel: %s exited, status 0x%x\n", name,
		        status);
		*pid = 0;
		return 0;
	}
	return 1;
}

/* Stop the chain: SIGTERM to all, SIGKILL to what still runs after 4 s. */
static void
kannel_stop(void)
{
	pid_t *pids[] = {&K.fakesmsc, &K.smsbox, &K.bearerbox};
	double end = now_secs() + 4;
	int status, left;
	size_t i;

	if (getpid() != K.owner)
		return;
	if (K.phone >= 0) {
		close(K.phone);
		K.phone = -1;
	}
	for (i = 0; i < 3; i++)
		if (*pids[i] > 0)
			kill(*pids[i], SIGTERM);
	do {
		left = 0;
		for (i = 0; i < 3; i++) {
			if (*pids[i] > 0 &&
			    waitpid(*pids[i], &status, WNOHANG) == *pids[i])
				*pids[i] = 0;
			left += *pids[i] > 0;
		}
		if (left > 0)
			sleep_ms(20);
	} while (left > 0 && now_secs() < end);
	for (i = 0; i < 3; i++) {
		if (*pids[i] > 0) {
			kill(*pids[i], SIGKILL);
			waitpid(*pids[i], &status, 0);
			*pids[i] = 0;
		}
	}
}

/* Write kannel.conf: the groups of contrib/kannel/kannel.conf on our
 * ports, with quick retries of failed callbacks. No wdp-interface-name:
 * it binds the fixed UDP ports 9200-9201, and a second bearerbox on the
 * machine would panic. */
static int
kannel_write_conf(int paknd_port)
{
	char *text =
	    strf("# Kannel for the pakn suite, written by check_kannel\n"
	         "group = core\n"
	         "admin-port = %d\n"
	         "admin-password = " ADMIN_PASS "\n"
	         "admin-interface = 127.0.0.1\n"
	         "smsbox-port = %d\n"
	         "smsbox-interface = 127.0.0.1\n"
	         "box-allow-ip = \"127.0.0.1\"\n"
	         "dlr-storage = internal\n"
	         "\n"
	         "group = smsc\n"
	         "smsc = fake\n"
	         "smsc-id = fake\n"
	         "host = 127.0.0.1\n"
	         "port = %d\n"
	         "connect-allow-ip = 127.0.0.1\n"
	         "\n"
	         "group = smsbox\n"
	         "bearerbox-host = 127.0.0.1\n"
	         "bearerbox-port = %d\n"
	         "sendsms-port = %d\n"
	         "sendsms-interface = 127.0.0.1\n"
	         "http-request-retry = 10\n"
	         "http-queue-delay = %d\n"
	         "mo-recode = false\n"
	         "\n"
	         "group = sms-service\n"
	         "keyword = default\n"
	         "catch-all = true\n"
	         "max-messages = 0\n"
	         "get-url = "
	         "\"http://127.0.0.1:%d/v1/gw/kannel/sms?token=" KANNEL_TOKEN
	         "&from=%%p&to=%%P&text=%%b&coding=%%c&charset=%%C&id=%%I"
	         "&smsc=%%i&ts=%%T\"\n"
	         "accept-x-kannel-headers = true\n"
	         "concatenation = true\n"
	         "omit-empty = true\n"
	         "\n"
	         "group = sendsms-user\n"
	         "username = " SEND_USER "\n"
	         "password = " SEND_PASS "\n"
	         "max-messages = 3\n"
	         "concatenation = true\n",
	         K.admin_port, K.box_port, K.smsc_port, K.box_port,
	         K.sendsms_port, QUEUE_DELAY, paknd_port);
	int rc = write_file(K.conf, text);

	free(text);
	return rc;
}

/* Return bearerbox's status page, malloc'd; NULL if it does not answer. */
static char *
kannel_status(void)
{
	struct http_resp r;
	char *text = NULL;

	if (http_get(K.admin_port, "/status.txt?password=" ADMIN_PASS, &r) ==
	    200)
		text = strdup(r.body);
	http_resp_free(&r);
	return text;
}

/* Wait until bearerbox's status page contains needle while pid runs. */
static int
wait_status(const char *needle, pid_t *pid, const char *name)
{
	double end = now_secs() + START_WAIT;
	char *text;
	int found;

	for (;;) {
		text = kannel_status();
		found = text != NULL && strstr(text, needle) != NULL;
		free(text);
		if (found)
			return 0;
		if (!alive(pid, name) || now_secs() > end)
			break;
		sleep_ms(50);
	}
	fprintf(stderr, "kannel: bearerbox status never showed \"%s\"\n",
	        needle);
	return -1;
}

/* Wait until smsbox's sendsms interface answers HTTP. */
static int
wait_sendsms(void)
{
	double end = now_secs() + START_WAIT;
	struct http_resp r;
	long status;

	for (;;) {
		status = http_get(K.sendsms_port, "/cgi-bin/sendsms", &r);
		http_resp_free(&r);
		if (status != 0)
			return 0;
		if (!alive(&K.smsbox, "smsbox") || now_secs() > end)
			break;
		sleep_ms(50);
	}
	fprintf(stderr, "kannel: smsbox's sendsms does not answer\n");
	return -1;
}

/* Start bearerbox, smsbox and fakesmsc and wait until they are joined. */
static int
kannel_start(void)
{
	char port[16], online[48];
	char *bb[] = {BEARERBOX, "-v", "0", K.conf, NULL};
	char *sb[] = {SMSBOX, "-v", "0", K.conf, NULL};
	char *fs[] = {FAKESMSC, "-H", "127.0.0.1", "-r", port, "-v", "0", NULL};
	int fds[2];

	snprintf(port, sizeof port, "%d", K.smsc_port);
	snprintf(online, sizeof online, "FAKE:%d (online", K.smsc_port);
	if ((K.bearerbox = start(bb, -1, K.bb_log)) == -1 ||
	    wait_status("Status: running", &K.bearerbox, "bearerbox") == -1)
		return -1;
	if ((K.smsbox = start(sb, -1, K.sb_log)) == -1 ||
	    wait_status("smsbox:", &K.smsbox, "smsbox") == -1 ||
	    wait_sendsms() == -1)
		return -1;
	if (pipe2(fds, O_CLOEXEC) == -1) {
		perror("kannel: pipe");
		return -1;
	}
	K.fakesmsc = start(fs, fds[0], K.phone_log);
	close(fds[0]);
	K.phone = fds[1];
	if (K.fakesmsc == -1 || wait_status(online, &K.fakesmsc, "fakesmsc"))
		return -1;
	return 0;
}

/* Return paknd's configuration: the Kannel gateway sends through smsbox
 * with diacritics; the outbox looks for work often and retries soon. */
static char *
paknd_conf_text(int port)
{
	char conninfo[256];

	pg_conninfo(conninfo, sizeof conninfo, "pakn");
	return strf("# paknd for the Kannel suite\n"
	            "[server]\n"
	            "listen = 127.0.0.1:%d\n"
	            "timeout = 10\n"
	            "drain_timeout = 5\n"
	            "\n"
	            "[database]\n"
	            "conninfo = \"%s\"\n"
	            "pool_size = 4\n"
	            "migrate = yes\n"
	            "reconnect_max = 1\n"
	            "\n"
	            "[abuse]\n"
	            "complaints_per_hour = 0\n"
	            "complaints_per_day = 0\n"
	            "replies_per_day = 0\n"
	            "repeat_window = 0\n"
	            "\n"
	            "[summary]\n"
	            "weekly = no\n"
	            "monthly = no\n"
	            "\n"
	            "[outbox]\n"
	            "interval = 200\n"
	            "retry_base = 1\n"
	            "send_timeout = 5\n"
	            "\n"
	            "[gateway.kannel]\n"
	            "type = kannel\n"
	            "token = " KANNEL_TOKEN "\n"
	            "send_url = http://127.0.0.1:%d/cgi-bin/sendsms\n"
	            "username = " SEND_USER "\n"
	            "password = " SEND_PASS "\n"
	            "sender = " SHORTCODE "\n"
	            "public_url = http://127.0.0.1:%d\n"
	            "diacritics = yes\n",
	            port, conninfo, K.sendsms_port, port);
}

/* Migrate the database of a configuration with paknctl; 0 on success. */
static int
migrate(const char *conf)
{
	struct ctl c = paknctl_conf(conf, "migrate", NULL);
	int ok = WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0;

	if (!ok)
		fprintf(stderr, "kannel: paknctl migrate failed: %s%s\n", c.out,
		        c.err);
	ctl_clear(&c);
	return ok ? 0 : -1;
}

/* Pick the ports, write both configurations, migrate, import the sample
 * units and routing, and start paknd. */
static int
setup(struct paknd *d)
{
	char *text;
	int rc;

	if (paknd_config(d, "kannel", "pakn", 1, NULL) == -1 ||
	    (K.admin_port = free_port()) == -1 ||
	    (K.box_port = free_port()) == -1 ||
	    (K.sendsms_port = free_port()) == -1 ||
	    (K.smsc_port = free_port()) == -1)
		return -1;
	harness_path(K.conf, sizeof K.conf, "kannel.conf");
	harness_path(K.bb_log, sizeof K.bb_log, "bearerbox.log");
	harness_path(K.sb_log, sizeof K.sb_log, "smsbox.log");
	harness_path(K.phone_log, sizeof K.phone_log, "fakesmsc.log");
	text = paknd_conf_text(d->port);
	rc = write_file(d->conf, text);
	free(text);
	if (rc == -1 || kannel_write_conf(d->port) == -1 ||
	    migrate(d->conf) == -1 || harness_import_samples(d->conf, 0) == -1)
		return -1;
	if (paknd_spawn(d) == -1 || paknd_wait_ready(d, 10) == -1)
		return -1;
	return 0;
}

/* Type one message on the phone: a line of fakesmsc's input. */
static void
phone_send(const char *from, const char *type, const char *data)
{
	char *line = strf("%s " SHORTCODE " %s %s\n", from, type, data);
	size_t len = strlen(line);

	/* fakesmsc reads 255-byte pieces: a longer line would wait. */
	ck_assert_msg(len < 255, "fakesmsc line of %zu bytes", len);
	ck_assert_msg(write(K.phone, line, len) == (ssize_t)len,
	              "write to fakesmsc: %s", strerror(errno));
	free(line);
}

/* Percent-encode every byte, as fakesmsc's ucs2 input expects. */
static char *
pct_all(const unsigned char *data, size_t len)
{
	char *out = malloc(len * 3 + 1);
	size_t i;

	if (out == NULL)
		abort();
	for (i = 0; i < len; i++)
		sprintf(out + 3 * i, "%%%02X", data[i]);
	out[3 * len] = '\0';
	return out;
}

/* Type a message on the phone in UCS-2. */
static void
phone_send_ucs2(const char *from, const char *utf8)
{
	size_t len;
	unsigned char *u16 = utf8_to_utf16be(utf8, &len);
	char *enc;

	ck_assert_ptr_nonnull(u16);
	enc = pct_all(u16, len);
	phone_send(from, "ucs2", enc);
	free(enc);
	free(u16);
}

/* Return the value of a hex digit, -1 if it is not one. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode fakesmsc's URL encoding ('+' is a space); *len gets the size. */
static unsigned char *
pct_decode(const char *s, size_t n, size_t *len)
{
	unsigned char *out = malloc(n + 1), *o = out;
	size_t i;

	if (out == NULL)
		abort();
	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		         hexval(s[i + 2]) >= 0) {
			*o++ = hexval(s[i + 1]) << 4 | hexval(s[i + 2]);
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	*len = o - out;
	return out;
}

/* Append one code point to a UTF-8 buffer. */
static char *
utf8_put(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		*o++ = cp;
	} else if (cp < 0x800) {
		*o++ = 0xc0 | cp >> 6;
		*o++ = 0x80 | (cp & 0x3f);
	} else if (cp < 0x10000) {
		*o++ = 0xe0 | cp >> 12;
		*o++ = 0x80 | (cp >> 6 & 0x3f);
		*o++ = 0x80 | (cp & 0x3f);
	} else {
		*o++ = 0xf0 | cp >> 18;
		*o++ = 0x80 | (cp >> 12 & 0x3f);
		*o++ = 0x80 | (cp >> 6 & 0x3f);
		*o++ = 0x80 | (cp & 0x3f);
	}
	return o;
}

/* Decode UTF-16BE into a new UTF-8 string; a lone surrogate is U+FFFD. */
static char *
utf16be_decode(const unsigned char *p, size_t len)
{
	char *out = malloc(len * 2 + 4), *o = out;
	unsigned long cp, lo;
	size_t i;

	if (out == NULL)
		abort();
	for (i = 0; i + 1 < len; i += 2) {
		cp = (unsigned long)p[i] << 8 | p[i + 1];
		if (cp >= 0xd800 && cp < 0xdc00 && i + 3 < len &&
		    (lo = (unsigned long)p[i + 2] << 8 | p[i + 3]) >= 0xdc00 &&
		    lo < 0xe000) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			i += 2;
		} else if (cp >= 0xd800 && cp < 0xe000) {
			cp = 0xfffd;
		}
		o = utf8_put(o, cp);
	}
	*o = '\0';
	return out;
}

/* Guess whether the bytes of a concatenated part are UTF-16BE: fakesmsc
 * prints parts as "udh ... data" whatever their coding, and Vietnamese
 * or ASCII in UTF-16BE has zero high bytes where 7-bit text has none. */
static int
looks_utf16(const unsigned char *p, size_t len)
{
	size_t i;

	if (len == 0 || len % 2 != 0)
		return 0;
	for (i = 0; i < len; i += 2)
		if (p[i] == 0)
			return 1;
	return 0;
}

/* Add a whole message to an inbox; data is taken over. */
static void
inbox_add(struct inbox *box, const char *from, const char *to, int ucs2,
          int parts, unsigned char *data, size_t len)
{
	struct sms *m;

	box->v = realloc(box->v, (box->n + 1) * sizeof *box->v);
	if (box->v == NULL)
		abort();
	m = &box->v[box->n++];
	memset(m, 0, sizeof *m);
	snprintf(m->from, sizeof m->from, "%s", from);
	snprintf(m->to, sizeof m->to, "%s", to);
	m->ucs2 = ucs2;
	m->parts = parts;
	m->text = ucs2 ? utf16be_decode(data, len) : strndup((char *)data, len);
	free(data);
}

/* Free an inbox. */
static void
inbox_free(struct inbox *box)
{
	size_t i;

	for (i = 0; i < box->n; i++)
		free(box->v[i].text);
	free(box->v);
	box->v = NULL;
	box->n = 0;
}

/* Find the concatenation header of a UDH: reference, total, sequence. */
static int
udh_concat(const unsigned char *udh, size_t len, int *ref, int *total, int *seq)
{
	size_t i = 1;

	if (len < 1 || udh[0] + 1u > len)
		return -1;
	while (i + 1 < len && i + 2 + udh[i + 1] <= len) {
		if (udh[i] == 0x00 && udh[i + 1] == 3) {
			*ref = udh[i + 2];
			*total = udh[i + 3];
			*seq = udh[i + 4];
			return 0;
		}
		if (udh[i] == 0x08 && udh[i + 1] == 4) {
			*ref = udh[i + 2] << 8 | udh[i + 3];
			*total = udh[i + 4];
			*seq = udh[i + 5];
			return 0;
		}
		i += 2 + udh[i + 1];
	}
	return -1;
}

/* Add a part; when all parts of its message are in, add the message. */
static void
part_add(struct inbox *box, struct part **parts, size_t *n,
         const struct part *p)
{
	unsigned char *data;
	size_t i, j, have = 0, len = 0;

	*parts = realloc(*parts, (*n + 1) * sizeof **parts);
	if (*parts == NULL)
		abort();
	(*parts)[(*n)++] = *p;
	for (i = 0; i < *n; i++)
		if ((*parts)[i].ref == p->ref && !strcmp((*parts)[i].to, p->to))
			have++, len += (*parts)[i].len;
	if (have < (size_t)p->total)
		return;
	if ((data = malloc(len + 1)) == NULL)
		abort();
	len = 0;
	for (j = 1; j <= (size_t)p->total; j++) {
		for (i = 0; i < *n; i++) {
			struct part *q = &(*parts)[i];

			if (q->ref == p->ref && !strcmp(q->to, p->to) &&
			    q->seq == (int)j) {
				memcpy(data + len, q->data, q->len);
				len += q->len;
			}
		}
	}
	for (i = 0; i < *n;) {
		if ((*parts)[i].ref == p->ref &&
		    !strcmp((*parts)[i].to, p->to)) {
			free((*parts)[i].data);
			(*parts)[i] = (*parts)[--*n];
		} else
			i++;
	}
	inbox_add(box, p->from, p->to, looks_utf16(data, len), p->total, data,
	          len);
}

/* Read one "Got message N: <FROM TO TYPE DATA>" line of fakesmsc. */
static void
phone_line(struct inbox *box, struct part **parts, size_t *nparts,
           const char *line, const char *end)
{
	char from[32], to[32], type[16], utype[16];
	const char *s = memmem(line, end - line, "Got message ", 12), *close;
	struct part p;
	unsigned char *udh, *data;
	size_t udhlen, len;
	int off = 0;

	if (s == NULL || (s = memmem(s, end - s, ": <", 3)) == NULL ||
	    (close = memrchr(s, '>', end - s)) == NULL)
		return;
	s += 3;
	if (sscanf(s, "%31s %31s %15s %n", from, to, type, &off) != 3 ||
	    s + off > close)
		return;
	s += off;
	if (!strcmp(type, "text")) {
		inbox_add(box, from, to, 0, 1,
		          (unsigned char *)strndup(s, close - s), close - s);
	} else if (!strcmp(type, "ucs-2") || !strcmp(type, "data")) {
		data = pct_decode(s, close - s, &len);
		inbox_add(box, from, to, type[0] == 'u', 1, data, len);
	} else if (!strcmp(type, "udh")) {
		const char *sp = memchr(s, ' ', close - s);

		if (sp == NULL || sscanf(sp + 1, "%15s %n", utype, &off) != 1)
			return;
		udh = pct_decode(s, sp - s, &udhlen);
		data = pct_decode(sp + 1 + off, close - (sp + 1 + off), &len);
		memset(&p, 0, sizeof p);
		if (udh_concat(udh, udhlen, &p.ref, &p.total, &p.seq) == 0 &&
		    p.total > 1) {
			snprintf(p.from, sizeof p.from, "%s", from);
			snprintf(p.to, sizeof p.to, "%s", to);
			p.data = data;
			p.len = len;
			part_add(box, parts, nparts, &p);
		} else {
			inbox_add(box, from, to, looks_utf16(data, len), 1,
			          data, len);
		}
		free(udh);
	}
}

/* Read the messages fakesmsc received after byte offset from. */
static void
phone_inbox(size_t from, struct inbox *box)
{
	struct part *parts = NULL;
	size_t len, nparts = 0, i;
	char *text = file_read(K.phone_log, &len), *line, *end;

	memset(box, 0, sizeof *box);
	if (text == NULL)
		return;
	for (line = text + (from < len ? from : len); *line != '\0';
	     line = end) {
		end = strchr(line, '\n');
		end = end != NULL ? end + 1 : line + strlen(line);
		phone_line(box, &parts, &nparts, line, end);
	}
	for (i = 0; i < nparts; i++)
		free(parts[i].data);
	free(parts);
	free(text);
}

/* Bring a phone number to national form: +84912..., 84912... -> 0912... */
static void
national(const char *in, char *out, size_t size)
{
	const char *p = in[0] == '+' ? in + 1 : in;

	if (!strncmp(p, "84", 2) && strlen(p) >= 11)
		snprintf(out, size, "0%s", p + 2);
	else
		snprintf(out, size, "%s", p);
}

/* Return 1 if two phone numbers are the same line. */
static int
same_number(const char *a, const char *b)
{
	char x[40], y[40];

	national(a, x, sizeof x);
	national(b, y, sizeof y);
	return !strcmp(x, y);
}

/* Wait until the phone received a message to msisdn after offset from
 * whose text contains needle; it, or NULL. box holds all it received. */
static const struct sms *
phone_wait(size_t from, const char *msisdn, const char *needle, double timeout,
           struct inbox *box)
{
	double end = now_secs() + timeout;
	size_t i;

	for (;;) {
		phone_inbox(from, box);
		for (i = 0; i < box->n; i++)
			if (same_number(box->v[i].to, msisdn) &&
			    strstr(box->v[i].text, needle) != NULL)
				return &box->v[i];
		if (now_secs() > end)
			return NULL;
		inbox_free(box);
		sleep_ms(100);
	}
}

/* Describe what the phone received, for a failure message; malloc'd. */
static char *
inbox_text(const struct inbox *box)
{
	char *s = strdup(box->n == 0 ? " nothing" : ""), *next;
	size_t i;

	for (i = 0; i < box->n; i++) {
		next =
		    strf("%s\n  to %s (%s, %d part%s): %s", s, box->v[i].to,
		         box->v[i].ucs2 ? "UCS-2" : "7/8-bit", box->v[i].parts,
		         box->v[i].parts == 1 ? "" : "s", box->v[i].text);
		free(s);
		s = next;
	}
	return s;
}

/* Return the largest id of pakn.inbound_message, 0 if none. */
static long
last_inbound(void)
{
	return sql_long("SELECT coalesce(max(id), 0) FROM pakn.inbound_message",
	                NULL);
}

/* Wait for the first message stored after id; its row (msisdn,
 * shortcode, body, gateway, smsc), or NULL after timeout. */
static PGresult *
inbound_wait(long after, double timeout)
{
	double end = now_secs() + timeout;
	char id[32];
	PGresult *res;

	snprintf(id, sizeof id, "%ld", after);
	for (;;) {
		res = sql_query("SELECT msisdn, shortcode, body, gateway, smsc "
		                "FROM pakn.inbound_message WHERE id > $1 "
		                "ORDER BY id LIMIT 1",
		                id, NULL);
		if (res != NULL && PQntuples(res) > 0)
			return res;
		PQclear(res);
		if (now_secs() > end)
			return NULL;
		sleep_ms(50);
	}
}

/* Wait until a query with one parameter returns a value; it, or NULL. */
static char *
value_wait(double timeout, const char *query, const char *param)
{
	double end = now_secs() + timeout;
	char *v;

	for (;;) {
		if ((v = sql_value(query, param, NULL)) != NULL)
			return v;
		if (now_secs() > end)
			return NULL;
		sleep_ms(100);
	}
}

/* Fail unless column col of res is want. */
static void
assert_col(PGresult *res, int col, const char *want)
{
	const char *got = sql_col(res, col);

	kassert(got != NULL && !strcmp(got, want), "%s is \"%s\", want \"%s\"",
	        PQfname(res, col), got != NULL ? got : "(null)", want);
}

/* A plain-text SMS typed on the phone is stored as the citizen sent it. */
START_TEST(test_inbound_text)
{
	const char *body = "PA Duong Nguyen Trai ngap nuoc #00004";
	long before = last_inbound();
	PGresult *res;

	ck_assert_int_ge(before, 0);
	phone_send("0912345678", "text", body);
	res = inbound_wait(before, 10);
	kassert(res != NULL, "nothing stored 10 s after the phone sent it");
	assert_col(res, 0, "+84912345678");
	assert_col(res, 1, SHORTCODE);
	assert_col(res, 2, body);
	assert_col(res, 3, "kannel");
	assert_col(res, 4, "fake");
	PQclear(res);
}
END_TEST

/* A Vietnamese SMS sent as UCS-2 is stored as the same UTF-8 text. */
START_TEST(test_inbound_ucs2)
{
	const char *body = "PA Đường Nguyễn Trãi ngập nước";
	long before = last_inbound();
	PGresult *res;

	ck_assert_int_ge(before, 0);
	phone_send_ucs2("0912345678", body);
	res = inbound_wait(before, 10);
	kassert(res != NULL, "nothing stored 10 s after the phone sent it");
	assert_col(res, 0, "+84912345678");
	assert_col(res, 1, SHORTCODE);
	assert_col(res, 2, body);
	assert_col(res, 3, "kannel");
	PQclear(res);
}
END_TEST

/* Describe pakn.outbox's messages to a number, for a failure message. */
static char *
outbox_text(const char *e164)
{
	char *s = sql_value("SELECT string_agg(kind || ' ' || state || "
	                    "coalesce(' (' || last_error || ')', ''), ', ' "
	                    "ORDER BY id) FROM pakn.outbox WHERE msisdn = $1",
	                    e164, NULL);

	return s != NULL ? s : strdup("none");
}

/* Wait for the reply to a complaint's citizen that carries its ticket. */
static void
assert_reply(size_t from, const char *msisdn, const char *e164,
             const char *ticket, const char *needle, double timeout)
{
	struct inbox box;
	const struct sms *m = phone_wait(from, msisdn, ticket, timeout, &box);
	char *all = inbox_text(&box), *outbox = outbox_text(e164);

	kassert(m != NULL,
	        "no SMS to %s with ticket %s within %.0f s; the phone got:%s\n"
	        "pakn.outbox to %s: %s",
	        msisdn, ticket, timeout, all, e164, outbox);
	kassert(m->ucs2, "the reply to %s is not UCS-2 (diacritics = yes): %s",
	        msisdn, m->text);
	kassert_contains(m->text, needle);
	free(outbox);
	free(all);
	inbox_free(&box);
}

/* A complaint is acknowledged on the phone with its ticket, and TT
 * <ticket> answers with the ticket's status. */
START_TEST(test_full_loop)
{
	const char *phone = "0912345679", *e164 = "+84912345679";
	double end = now_secs() + REPLY_WAIT;
	size_t from = file_size(K.phone_log);
	char *ticket, *tt, *want;

	phone_send(phone, "text", "PA Duong Nguyen Trai ngap nuoc #00004");
	ticket = value_wait(REPLY_WAIT,
	                    "SELECT ticket FROM pakn.complaint "
	                    "WHERE msisdn = $1 ORDER BY id LIMIT 1",
	                    e164);
	kassert(ticket != NULL,
	        "no complaint of %s %.0f s after the phone "
	        "sent it",
	        e164, REPLY_WAIT);
	assert_reply(from, phone, e164, ticket, "Đã nhận phản ánh",
	             end > now_secs() ? end - now_secs() : 1);

	from = file_size(K.phone_log);
	tt = strf("TT %s", ticket);
	phone_send(phone, "text", tt);
	want = strf("Phản ánh %s", ticket);
	assert_reply(from, phone, e164, ticket, want, REPLY_WAIT);
	free(want);
	free(tt);
	free(ticket);
}
END_TEST

/* Wait until smsbox logs a retry of a callback whose URL has needle. */
static int
retry_wait(size_t from, const char *needle, double timeout)
{
	double end = now_secs() + timeout;
	char *found;
	int hit;

	for (;;) {
		found = log_grep(K.sb_log, from, "Retrying request");
		hit = found != NULL && strstr(found, needle) != NULL;
		free(found);
		if (hit)
			return 0;
		if (now_secs() > end)
			return -1;
		sleep_ms(50);
	}
}

/* When paknd cannot store a message (the database is down, it answers
 * 503), Kannel retries it and it is stored exactly once. */
START_TEST(test_retry_once)
{
	const char *body = "PA Vo ong nuoc tren pho Hue";
	size_t from = file_size(K.sb_log);
	char *found;
	long n;
	double t0;

	/* PostgreSQL stops on purpose: paknd says so, and so does libpq. */
	harness_expect_log("db conn ");
	harness_expect_log("database unavailable");
	ck_assert_int_eq(pg_stop(), 0);
	phone_send("0912345677", "text", body);
	/* smsbox logs each retry of a callback with its URL. */
	kassert(retry_wait(from, "text=PA+Vo+ong+nuoc", 10) == 0,
	        "smsbox did not retry the callback paknd refused");
	found = log_grep(K.sb_log, from, "Status line: <HTTP/1.1 503 ");
	kassert(found != NULL, "paknd did not answer 503 without its database");
	free(found);
	ck_assert_int_eq(pg_start(), 0);
	t0 = now_secs();
	found = value_wait(20,
	                   "SELECT id FROM pakn.inbound_message "
	                   "WHERE msisdn = $1",
	                   "+84912345677");
	kassert(found != NULL, "not stored %.0f s after PostgreSQL returned",
	        now_secs() - t0);
	free(found);
	/* Let one more retry period pass: nothing comes twice. */
	sleep_ms((QUEUE_DELAY + 1) * 1000);
	n = sql_long("SELECT count(*) FROM pakn.inbound_message "
	             "WHERE msisdn = $1 AND body = $2",
	             "+84912345677", body, NULL);
	kassert(n == 1, "stored %ld times", n);
	n = sql_long("SELECT count(*) FROM pakn.complaint WHERE msisdn = $1",
	             "+84912345677", NULL);
	kassert(n <= 1, "%ld complaints from one message", n);
}
END_TEST

/* paknd's log holds no error and neither of the gateway's secrets. */
START_TEST(test_logs_clean)
{
	static const char *const needles[] = {"[error]", KANNEL_TOKEN,
	                                      SEND_PASS};
	const char *log = harness_main()->log;
	char *found;
	size_t i;

	for (i = 0; i < sizeof needles / sizeof needles[0]; i++) {
		found = log_grep(log, 0, needles[i]);
		ck_assert_msg(found == NULL, "%s shows \"%s\":\n%s", log,
		              needles[i], found);
	}
}
END_TEST

/* Build the suite, in the order the tests must run. */
static Suite *
kannel_suite(void)
{
	Suite *s = suite_create("kannel");
	TCase *tc;

	tc = tcase(s, "inbound", 25);
	tcase_add_test(tc, test_inbound_text);
	tcase_add_test(tc, test_inbound_ucs2);

	tc = tcase(s, "replies", 40);
	tcase_add_test(tc, test_full_loop);

	tc = tcase(s, "retries", 45);
	tcase_add_unchecked_fixture(tc, NULL, harness_ensure_pg);
	tcase_add_test(tc, test_retry_once);

	tc = tcase(s, "logs", 10);
	tcase_add_test(tc, test_logs_clean);
	return s;
}

/* Stop paknd; 0 if it exited 0. */
static int
finish_paknd(struct paknd *d)
{
	int status = paknd_stop(d, 10);

	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	fprintf(stderr, "paknd kannel: wait status 0x%x after SIGTERM\n",
	        status);
	paknd_dump(d);
	return -1;
}

/* Start the servers and the chain, run the suite, stop them all. */
int
main(void)
{
	struct paknd *d = harness_main();
	SRunner *sr;
	int failed;

	if (harness_init() == -1 || pg_setup() == -1) {
		fprintf(stderr, "kannel: cannot start PostgreSQL\n");
		return 99;
	}
	K.owner = getpid();
	atexit(kannel_stop);
	if (setup(d) == -1) {
		fprintf(stderr, "kannel: paknd does not start\n");
		return EXIT_FAILURE;
	}
	if (kannel_start() == -1) {
		fprintf(stderr, "kannel: the Kannel chain does not start\n");
		kannel_dump();
		return EXIT_FAILURE;
	}
	sr = srunner_create(kannel_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	kannel_stop();
	if (finish_paknd(d) == -1)
		failed++;
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
