/*
 * sipsend: sends one SIP message (or raw bytes) over UDP or TCP and prints
 * what comes back, for the integration tests' malformed-message checks,
 * where sipsak and SIPp would refuse to send what we want to send.
 *
 *   sipsend [-q] [-v] [-r] [-n] [-k] [-l] [-P] [-w MS] [-c N] [-b PORT] [-a ADDR] [-R N]
 *           udp|tcp HOST PORT FILE|-
 *
 * The message is read from FILE (- for stdin); bare LF line ends become
 * CRLF unless -r (raw). Prints the first line of each response (-v: whole
 * response; -q: nothing) and waits up to MS ms (default 2000) for N
 * responses (default: until a final response, status >= 200).
 * Exit status: 0 when a response came (with -n: when none came), 1
 * otherwise, 2 on usage errors. -k: keep-alive check, succeeds when the
 * peer answers exactly CRLF. -R N sends the message N times (load of
 * garbage). -b binds the local port first, so a test can
 * address a request to sipsend itself through the proxy and read what the
 * proxy relayed (the relayed request is printed like a response); -a
 * binds that port on another loopback address than 127.0.0.1 / ::1
 * (127.0.0.0/8 is all loopback), where a fixed port such as 5060 is
 * unlikely to be taken. -l
 * sends nothing and prints what arrives on the -b port (UDP). -P ignores
 * provisional responses (the 100 Trying of a stateful proxy).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int c;

	while (buf && (c = fgetc(f)) != EOF) {
		if (n + 2 >= cap) {
			char *p = realloc(buf, cap *= 2);
			if (!p) {
				free(buf);
				return NULL;
			}
			buf = p;
		}
		buf[n++] = (char)c;
	}
	*len = n;
	return buf;
}

static char *to_crlf(const char *in, size_t len, size_t *out_len)
{
	char *out = malloc(len * 2 + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			out[o++] = '\r';
		out[o++] = in[i];
	}
	*out_len = o;
	return out;
}

static int status_of(const char *msg, size_t len)
{
	if (len >= 12 && memcmp(msg, "SIP/2.0 ", 8) == 0)
		return atoi(msg + 8);
	return 0;
}

/* The Call-ID (or compact i) header's value of msg into out, trimmed;
 * "" when there is none. */
static void call_id_of(const char *msg, size_t len, char *out, size_t cap)
{
	const char *p = msg, *end = msg + len;

	out[0] = '\0';
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		size_t name = 0;

		if (le - p >= 8 && strncasecmp(p, "Call-ID:", 8) == 0)
			name = 8;
		else if (le - p >= 2 && strncasecmp(p, "i:", 2) == 0)
			name = 2;
		if (name) {
			const char *v = p + name;
			size_t n;

			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			n = (size_t)(le - v);
			while (n && (v[n - 1] == '\r' || v[n - 1] == ' '))
				n--;
			if (n >= cap)
				n = cap - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return;
		}
		if (le - p <= 1 || (le - p == 2 && p[0] == '\r'))
			return; /* the end of the headers */
		p = le + 1;
	}
}

static void print_msg(const char *msg, size_t len, bool verbose)
{
	if (verbose) {
		fwrite(msg, 1, len, stdout);
		fputs("\n----\n", stdout);
	} else {
		const char *eol = memchr(msg, '\r', len);
		fwrite(msg, 1, eol ? (size_t)(eol - msg) : len, stdout);
		fputc('\n', stdout);
	}
	fflush(stdout);
}

/* Length of the first complete message in a TCP stream buffer, 0 if
 * incomplete (headers end + Content-Length). */
static size_t stream_frame(const char *buf, size_t len)
{
	const char *end = NULL;
	size_t cl = 0;

	for (size_t i = 0; i + 4 <= len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			end = buf + i + 4;
			break;
		}
	if (!end)
		return 0;
	for (const char *p = buf; p < end; p++) {
		if ((p == buf || p[-1] == '\n') &&
		    (strncasecmp(p, "Content-Length:", 15) == 0 || strncasecmp(p, "l:", 2) == 0)) {
			const char *v = memchr(p, ':', (size_t)(end - p));
			cl = strtoul(v + 1, NULL, 10);
			break;
		}
	}
	if ((size_t)(end - buf) + cl > len)
		return 0;
	return (size_t)(end - buf) + cl;
}

int main(int argc, char **argv)
{
	bool quiet = false, verbose = false, raw = false, expect_none = false, keepalive = false;
	bool listen_only = false, skip_provisional = false;
	char sent_cid[256] = "";
	long wait_ms = 2000;
	int want = 0, got = 0, finals = 0, opt, fd, type, bind_port = 0, repeat = 1;
	const char *bind_addr = NULL;
	struct sockaddr_storage ss;
	socklen_t sl;
	char *msg, *data;
	size_t len, dlen = 0;
	char rbuf[65536];
	size_t rlen = 0;
	FILE *f;
	long deadline;

	while ((opt = getopt(argc, argv, "qvrnklPw:c:b:a:R:")) != -1) {
		switch (opt) {
		case 'q':
			quiet = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'r':
			raw = true;
			break;
		case 'n':
			expect_none = true;
			break;
		case 'k':
			keepalive = true;
			raw = true;
			break;
		case 'w':
			wait_ms = atol(optarg);
			break;
		case 'c':
			want = atoi(optarg);
			break;
		case 'b':
			bind_port = atoi(optarg);
			break;
		case 'a':
			bind_addr = optarg;
			break;
		case 'R':
			repeat = atoi(optarg);
			break;
		case 'l':
			listen_only = true;
			break;
		case 'P':
			skip_provisional = true;
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 4) {
		fprintf(stderr,
			"usage: sipsend [-qvrnklP] [-w MS] [-c N] [-b PORT] [-a ADDR] [-R N] "
			"udp|tcp HOST PORT FILE|-\n");
		return 2;
	}
	type = strcmp(argv[optind], "tcp") == 0 ? SOCK_STREAM : SOCK_DGRAM;
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, argv[optind + 1], &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)atoi(argv[optind + 2]));
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, argv[optind + 1],
			     &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)atoi(argv[optind + 2]));
		sl = sizeof(struct sockaddr_in6);
	} else {
		fprintf(stderr, "sipsend: bad address %s\n", argv[optind + 1]);
		return 2;
	}
	f = strcmp(argv[optind + 3], "-") == 0 ? stdin : fopen(argv[optind + 3], "rb");
	if (!f) {
		perror("sipsend: open");
		return 2;
	}
	msg = read_all(f, &len);
	if (f != stdin)
		fclose(f);
	if (!msg)
		return 2;
	data = raw ? msg : to_crlf(msg, len, &dlen);
	if (raw)
		dlen = len;

	fd = socket(ss.ss_family, type, 0);
	if (fd >= 0 && bind_port) {
		struct sockaddr_storage local;
		int one = 1;

		memset(&local, 0, sizeof(local));
		local.ss_family = ss.ss_family;
		if (ss.ss_family == AF_INET) {
			((struct sockaddr_in *)&local)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			((struct sockaddr_in *)&local)->sin_port = htons((uint16_t)bind_port);
			if (bind_addr &&
			    inet_pton(AF_INET, bind_addr,
				      &((struct sockaddr_in *)&local)->sin_addr) != 1) {
				fprintf(stderr, "sipsend: bad address %s\n", bind_addr);
				return 2;
			}
		} else {
			((struct sockaddr_in6 *)&local)->sin6_addr = in6addr_loopback;
			((struct sockaddr_in6 *)&local)->sin6_port = htons((uint16_t)bind_port);
			if (bind_addr &&
			    inet_pton(AF_INET6, bind_addr,
				      &((struct sockaddr_in6 *)&local)->sin6_addr) != 1) {
				fprintf(stderr, "sipsend: bad address %s\n", bind_addr);
				return 2;
			}
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&local, sl) < 0) {
			perror("sipsend: bind");
			return 1;
		}
	}
	if (fd >= 0) {
		int rcvbuf = 8 * 1024 * 1024;
		/* bursts of answers must not overflow our own socket */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	}
	if (listen_only) {
		repeat = 0; /* -l: only print what arrives on the -b port (UDP) */
	} else if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		perror("sipsend: connect");
		return 1;
	}
	for (int i = 0; i < repeat; i++) {
		if (send(fd, data, dlen, MSG_NOSIGNAL) != (ssize_t)dlen) {
			perror("sipsend: send");
			return 1;
		}
	}
	if (data && !listen_only)
		call_id_of(data, dlen, sent_cid, sizeof(sent_cid));
	deadline = now_ms() + wait_ms;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		n = recv(fd, rbuf + rlen, sizeof(rbuf) - rlen, 0);
		if (n <= 0)
			break;
		if (keepalive) {
			rlen += (size_t)n;
			if (rlen >= 2)
				break;
			continue;
		}
		if (type == SOCK_DGRAM) {
			int st = status_of(rbuf, (size_t)n);
			char cid[256];

			if (skip_provisional && st >= 100 && st < 200)
				continue;
			/* Another request's message (Junction still retransmitting
			 * an earlier test's final response to this port, reused
			 * since): not an answer to ours. A request without a
			 * Call-ID is answered without one. */
			call_id_of(rbuf, (size_t)n, cid, sizeof(cid));
			if (!listen_only && cid[0] && strcmp(cid, sent_cid) != 0)
				continue;
			got++;
			if (!quiet)
				print_msg(rbuf, (size_t)n, verbose);
			if (st >= 200)
				finals++;
		} else {
			size_t fl;

			rlen += (size_t)n;
			while ((fl = stream_frame(rbuf, rlen)) > 0) {
				int st = status_of(rbuf, fl);
				if (!(skip_provisional && st >= 100 && st < 200)) {
					got++;
					if (!quiet)
						print_msg(rbuf, fl, verbose);
					if (st >= 200)
						finals++;
				}
				memmove(rbuf, rbuf + fl, rlen - fl);
				rlen -= fl;
			}
		}
		if (want ? got >= want : finals > 0)
			break;
	}
	close(fd);
	if (data != msg)
		free(data);
	free(msg);
	if (keepalive)
		return rlen == 2 && memcmp(rbuf, "\r\n", 2) == 0 ? 0 : 1;
	if (expect_none)
		return got == 0 ? 0 : 1;
	return got > 0 ? 0 : 1;
}
