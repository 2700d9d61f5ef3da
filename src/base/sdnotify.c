/*
 * sdnotify: sd_notify(3)'s wire protocol in a page, so that the daemon
 * needs no libsystemd (and runs the same without systemd). Each call
 * opens a datagram socket, sends one message and closes it: the node
 * notifies a handful of times at start and stop and once every few
 * seconds for the watchdog, so a kept socket would buy nothing.
 */
#include "base/sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static struct sockaddr_un addr;
static socklen_t addr_len;
static uint64_t watchdog_usec;

bool sdnotify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	const char *wd = getenv("WATCHDOG_USEC");
	const char *wpid = getenv("WATCHDOG_PID");
	size_t n;

	addr_len = 0;
	watchdog_usec = 0;
	if (path && (path[0] == '/' || path[0] == '@') &&
	    (n = strlen(path)) < sizeof(addr.sun_path)) {
		memset(&addr, 0, sizeof(addr));
		addr.sun_family = AF_UNIX;
		memcpy(addr.sun_path, path, n);
		if (path[0] == '@')
			addr.sun_path[0] = '\0'; /* abstract namespace */
		addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	if (addr_len && wd && (!wpid || strtol(wpid, NULL, 10) == (long)getpid())) {
		char *end;
		unsigned long long v = strtoull(wd, &end, 10);

		if (end != wd && *end == '\0')
			watchdog_usec = v;
	}
	/* Our threads and children (none today) must not notify for us. */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return addr_len != 0;
}

int sdnotify(const char *state)
{
	int fd, rc = 0;

	if (!addr_len)
		return 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (const struct sockaddr *)&addr,
		   addr_len) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

uint64_t sdnotify_watchdog_usec(void)
{
	return watchdog_usec;
}
