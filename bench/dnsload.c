/* SPDX-License-Identifier: MIT
 *
 * dnsload.c — a small UDP DNS load generator for bench/dns.sh.
 *
 *   dnsload SERVER PORT COUNT SECONDS WINDOW NAME...
 *
 * Keeps WINDOW queries in flight (A queries for the NAMEs in turn) until
 * COUNT replies arrived or SECONDS passed, whichever is first.  A window
 * with no reply for 200 ms is counted as lost and refilled.  Prints one
 * line: "sent N replies N lost N errors N seconds S qps Q".
 *
 * Only ever point it at a resolver you started on this machine.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
build_query(uint8_t *buf, uint16_t id, const char *name)
{
	size_t off = 12;
	const char *p = name;

	memset(buf, 0, 12);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[2] = 0x01;              /* RD */
	buf[5] = 1;                 /* one question */
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (n == 0 || n > 63 || off + n + 6 > 300)
			return 0;
		buf[off++] = (uint8_t)n;
		memcpy(buf + off, p, n);
		off += n;
		p += n + (dot ? 1 : 0);
	}
	buf[off++] = 0;
	buf[off++] = 0;
	buf[off++] = 1;             /* A */
	buf[off++] = 0;
	buf[off++] = 1;             /* IN */
	return off;
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	unsigned long count, window, sent = 0, replies = 0, lost = 0, errors = 0, inflight = 0;
	double seconds, t0, elapsed;
	int fd, nnames;
	uint16_t id = 1;
	uint8_t q[512], r[4096];

	if (argc < 7) {
		fprintf(stderr, "usage: dnsload SERVER PORT COUNT SECONDS WINDOW NAME...\n");
		return 2;
	}
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, argv[1], &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)atoi(argv[2]));
		sslen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, argv[1], &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)atoi(argv[2]));
		sslen = sizeof(struct sockaddr_in6);
	} else {
		fprintf(stderr, "dnsload: bad address %s\n", argv[1]);
		return 2;
	}
	count = strtoul(argv[3], NULL, 10);
	seconds = atof(argv[4]);
	window = strtoul(argv[5], NULL, 10);
	nnames = argc - 6;
	if (!count || seconds <= 0 || !window) {
		fprintf(stderr, "dnsload: COUNT, SECONDS and WINDOW must be positive\n");
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sslen) < 0) {
		perror("dnsload: socket");
		return 1;
	}
	t0 = now();
	while (replies < count && now() - t0 < seconds) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n;

		while (inflight < window && sent < count + lost) {
			size_t len = build_query(q, id, argv[6 + (int)(sent % (unsigned long)nnames)]);

			id = (uint16_t)(id + 1) ? (uint16_t)(id + 1) : 1;
			if (!len || send(fd, q, len, 0) < 0) {
				errors++;
				break;
			}
			sent++;
			inflight++;
		}
		n = poll(&pfd, 1, 200);
		if (n < 0 && errno != EINTR) {
			perror("dnsload: poll");
			return 1;
		}
		if (n == 0) {           /* the whole window is gone */
			lost += inflight;
			inflight = 0;
			continue;
		}
		for (;;) {
			ssize_t got = recv(fd, r, sizeof(r), MSG_DONTWAIT);

			if (got < 0) {
				if (errno != EAGAIN && errno != EINTR)
					errors++;
				break;
			}
			if (got >= 12 && (r[2] & 0x80)) {
				replies++;
				if (inflight)
					inflight--;
			}
		}
	}
	elapsed = now() - t0;
	printf("sent %lu replies %lu lost %lu errors %lu seconds %.3f qps %.0f\n", sent, replies,
	       lost, errors, elapsed, (double)replies / elapsed);
	return replies ? 0 : 1;
}
