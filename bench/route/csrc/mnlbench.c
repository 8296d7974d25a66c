// mnlbench: the practical limit of each route workload, in C on libmnl.
// nlbench compiles it at run time (cc -O2 mnlbench.c -lmnl) and runs it
// in the benchmark's namespace, like the Go workers:
//
//	mnlbench install N IFINDEX [MSGS]   add 11.0.0.1/32 ... via 10.0.0.2,
//	                                    MSGS messages per datagram (256),
//	                                    an ack asked of the last only
//	mnlbench delete N IFINDEX [MSGS]    delete them the same way
//	mnlbench dump                       dump IPv4 routes, count main /32s
//	mnlbench events N                   count route events until N were
//	                                    seen, or stdin is closed and none
//	                                    came for a second
//	mnlbench roundtrip K IFINDEX        K RTM_GETLINK requests by index
//
// Each prints one JSON line: {"count":...,"overrun":...,"wall_s":...}.
//
//	mnlbench run PROG ARGS...           run PROG and write its wall time,
//	                                    CPU time and peak RSS as JSON to
//	                                    file descriptor 3
//
// nlbench starts every measured program through "run": a child's
// ru_maxrss is at least the RSS of the process that forked it (Linux
// carries the old mm's high-water mark over exec), so children forked by
// the Go driver would all report the driver's size; this small process
// makes that floor about a megabyte.
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#define GATEWAY 0x0a000002u /* 10.0.0.2 */
#define DSTBASE 0x0b000000u /* 11.0.0.0: route i is DSTBASE + i + 1 */

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
	perror(what);
	exit(1);
}

static struct mnl_socket *open_route(unsigned groups) {
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	if (nl == NULL)
		die("mnl_socket_open");
	if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0)
		die("mnl_socket_bind");
	return nl;
}

/* pipeline, set by "install-pipelined": send every datagram first, read
 * the acknowledgements after (with a receive buffer big enough for them
 * all). sync, set by "install-sync": after each sendto, try one
 * non-blocking read and count how often the acknowledgement of the
 * datagram just sent is already there. */
static int pipeline, sync_check;

/* change installs or deletes n routes, msgs per datagram. */
static int change(int del, long n, int ifindex, int msgs) {
	struct mnl_socket *nl = open_route(0);
	int one = 1;
	setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	unsigned portid = mnl_socket_get_portid(nl);
	size_t cap = (size_t)msgs * 64 + 4096;
	char *buf = malloc(cap);
	static char rbuf[1 << 16];
	uint32_t seq = (uint32_t)time(NULL);
	long errors = 0, done = 0, datagrams = 0, immediate = 0, pending = 0;
	if (pipeline) {
		int size = 256 << 20;
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	}
	double t0 = now();
	for (long i = 0; i < n;) {
		size_t off = 0;
		struct nlmsghdr *nlh = NULL;
		for (int k = 0; k < msgs && i < n; k++, i++) {
			nlh = mnl_nlmsg_put_header(buf + off);
			nlh->nlmsg_type = del ? RTM_DELROUTE : RTM_NEWROUTE;
			nlh->nlmsg_flags = NLM_F_REQUEST | (del ? 0 : NLM_F_CREATE | NLM_F_EXCL);
			nlh->nlmsg_seq = ++seq;
			struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
			rtm->rtm_family = AF_INET;
			rtm->rtm_dst_len = 32;
			rtm->rtm_table = RT_TABLE_MAIN;
			rtm->rtm_protocol = del ? 0 : RTPROT_BOOT;
			rtm->rtm_scope = del ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE;
			rtm->rtm_type = del ? 0 : RTN_UNICAST;
			mnl_attr_put_u32(nlh, RTA_DST, htonl(DSTBASE + (uint32_t)i + 1));
			mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(GATEWAY));
			mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
			off += NLMSG_ALIGN(nlh->nlmsg_len);
		}
		nlh->nlmsg_flags |= NLM_F_ACK;
		uint32_t last = seq;
		if (mnl_socket_sendto(nl, buf, off) < 0)
			die("sendto");
		datagrams++;
		if (pipeline) {
			pending++;
			done = i;
			if (i < n)
				continue;
		}
		for (int got = 0; !got;) {
			ssize_t r;
			if (sync_check) {
				r = recv(mnl_socket_get_fd(nl), rbuf, sizeof(rbuf), MSG_DONTWAIT);
				if (r > 0)
					immediate++;
				sync_check = r > 0 ? 1 : 2; /* 2: saw one late */
				if (r < 0 && errno == EAGAIN)
					r = mnl_socket_recvfrom(nl, rbuf, sizeof(rbuf));
			} else {
				r = mnl_socket_recvfrom(nl, rbuf, sizeof(rbuf));
			}
			if (r < 0)
				die("recvfrom");
			struct nlmsghdr *h = (struct nlmsghdr *)rbuf;
			int len = (int)r;
			for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
				if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_pid != portid)
					continue;
				struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
				if (e->error != 0)
					errors++;
				if (h->nlmsg_seq == last || (pipeline && e->error == 0 && --pending == 0))
					got = 1;
			}
		}
		done = i;
	}
	printf("{\"count\":%ld,\"errors\":%ld,\"wall_s\":%.6f,\"datagrams\":%ld,\"immediate\":%ld}\n",
	       done - errors, errors, now() - t0, datagrams, immediate);
	mnl_socket_close(nl);
	return errors ? 1 : 0;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data) {
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_type == RTM_NEWROUTE && rtm->rtm_dst_len == 32 && rtm->rtm_table == RT_TABLE_MAIN)
		(*(long *)data)++;
	return MNL_CB_OK;
}

static int dump(void) {
	struct mnl_socket *nl = open_route(0);
	static char buf[1 << 16]; /* the kernel fills at most ~32 KiB per datagram */
	double t0 = now();
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	uint32_t seq = nlh->nlmsg_seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		die("sendto");
	unsigned portid = mnl_socket_get_portid(nl);
	long count = 0;
	int ret;
	do {
		ssize_t r = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (r < 0)
			die("recvfrom");
		ret = mnl_cb_run(buf, (size_t)r, seq, portid, dump_cb, &count);
	} while (ret > MNL_CB_STOP);
	if (ret < 0)
		die("dump");
	printf("{\"count\":%ld,\"wall_s\":%.6f}\n", count, now() - t0);
	mnl_socket_close(nl);
	return 0;
}

/* held, set by "events-held": read nothing until stdin is closed, to
 * measure how many events the receive buffer holds. */
static int held;

static int events(long n) {
	struct mnl_socket *nl = open_route(1 << (RTNLGRP_IPV4_ROUTE - 1));
	int fd = mnl_socket_get_fd(nl);
	int size = 32 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	static char buf[1 << 16];
	printf("ready\n");
	fflush(stdout);
	if (held) {
		char c[256];
		while (read(0, c, sizeof(c)) > 0)
			;
	}
	long count = 0;
	int overrun = 0, eof = 0;
	double first = 0, last = 0;
	struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
	while (count < n) {
		int r = poll(pfd, eof ? 1 : 2, 100);
		if (r < 0 && errno != EINTR)
			die("poll");
		if (!eof && (pfd[1].revents & (POLLIN | POLLHUP))) {
			char c[64];
			if (read(0, c, sizeof(c)) <= 0)
				eof = 1;
			if (eof && last == 0)
				last = now();
		}
		if (pfd[0].revents & POLLIN) {
			for (;;) {
				ssize_t m = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
				if (m < 0) {
					if (errno == ENOBUFS) {
						overrun = 1;
						continue;
					}
					if (errno == EAGAIN)
						break;
					die("recv");
				}
				struct nlmsghdr *h = (struct nlmsghdr *)buf;
				int len = (int)m;
				for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
					if (h->nlmsg_type != RTM_NEWROUTE)
						continue;
					struct rtmsg *rtm = mnl_nlmsg_get_payload(h);
					if (rtm->rtm_dst_len == 32 && rtm->rtm_table == RT_TABLE_MAIN) {
						if (count == 0)
							first = now();
						count++;
					}
				}
				last = now();
			}
		} else if (eof && now() - last > 1.0) {
			break;
		}
	}
	printf("{\"count\":%ld,\"overrun\":%s,\"wall_s\":%.6f}\n", count, overrun ? "true" : "false",
	       count ? last - first : 0.0);
	mnl_socket_close(nl);
	return 0;
}

static int roundtrip(long k, int ifindex) {
	struct mnl_socket *nl = open_route(0);
	unsigned portid = mnl_socket_get_portid(nl);
	static char buf[1 << 16];
	char req[256];
	uint32_t seq = (uint32_t)time(NULL);
	double t0 = now();
	long ok = 0;
	for (long i = 0; i < k; i++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
		nlh->nlmsg_type = RTM_GETLINK;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		nlh->nlmsg_seq = ++seq;
		struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
		ifm->ifi_family = AF_UNSPEC;
		ifm->ifi_index = ifindex;
		if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
			die("sendto");
		/* The reply, then the acknowledgement. */
		for (int acked = 0; !acked;) {
			ssize_t r = mnl_socket_recvfrom(nl, buf, sizeof(buf));
			if (r < 0)
				die("recvfrom");
			struct nlmsghdr *h = (struct nlmsghdr *)buf;
			int len = (int)r;
			for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
				if (h->nlmsg_seq != seq || h->nlmsg_pid != portid)
					continue;
				if (h->nlmsg_type == RTM_NEWLINK)
					ok++;
				if (h->nlmsg_type == NLMSG_ERROR) {
					struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
					if (e->error != 0) {
						errno = -e->error;
						die("getlink");
					}
					acked = 1;
				}
			}
		}
	}
	printf("{\"count\":%ld,\"wall_s\":%.6f}\n", ok, now() - t0);
	mnl_socket_close(nl);
	return 0;
}

static pid_t child;

static void forward(int sig) {
	if (child > 0)
		kill(child, sig);
}

static int run(char **argv) {
	if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
		die("fd 3");
	signal(SIGTERM, forward);
	signal(SIGINT, forward);
	double t0 = now();
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(child, &status, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4");
	double wall = now() - t0;
	dprintf(3, "{\"wall_s\":%.6f,\"user_s\":%.6f,\"sys_s\":%.6f,\"maxrss_kib\":%ld,\"status\":%d}\n", wall,
		ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
		ru.ru_maxrss, status);
	close(3);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WTERMSIG(status) == SIGTERM ? 0 : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: mnlbench install|delete|dump|events|roundtrip ...\n");
		return 2;
	}
	const char *w = argv[1];
	if (!strcmp(w, "run") && argc > 2)
		return run(argv + 2);
	long n = argc > 2 ? atol(argv[2]) : 0;
	int ifindex = argc > 3 ? atoi(argv[3]) : 0;
	int msgs = argc > 4 ? atoi(argv[4]) : 256;
	if (!strcmp(w, "install"))
		return change(0, n, ifindex, msgs);
	if (!strcmp(w, "install-pipelined")) {
		pipeline = 1;
		return change(0, n, ifindex, msgs);
	}
	if (!strcmp(w, "install-sync")) {
		sync_check = 1;
		return change(0, n, ifindex, msgs);
	}
	if (!strcmp(w, "delete"))
		return change(1, n, ifindex, msgs);
	if (!strcmp(w, "dump"))
		return dump();
	if (!strcmp(w, "events"))
		return events(n);
	if (!strcmp(w, "events-held")) {
		held = 1;
		return events(n);
	}
	if (!strcmp(w, "roundtrip"))
		return roundtrip(n, ifindex);
	fprintf(stderr, "mnlbench: unknown workload %s\n", w);
	return 2;
}
