// nfqbench: the smallest useful libnetfilter_queue consumer, for the
// benchmark: bind a queue, accept every packet, count them. Prints
// "ready" once bound and "verdicts N" when SIGTERM or SIGINT arrives.
//
//	cc -O2 -o nfqbench nfqbench.c -lnetfilter_queue
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/types.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

static volatile sig_atomic_t stop;
static unsigned long long verdicts;

static void on_signal(int sig) { (void)sig; stop = 1; }

static int cb(struct nfq_q_handle *qh, struct nfgenmsg *nfmsg, struct nfq_data *nfa, void *data) {
	(void)nfmsg; (void)data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	unsigned char *payload;
	if (!ph) return -1;
	nfq_get_payload(nfa, &payload); /* as a real consumer would */
	verdicts++;
	return nfq_set_verdict(qh, ntohl(ph->packet_id), NF_ACCEPT, 0, NULL);
}

int main(int argc, char **argv) {
	int queue = argc > 1 ? atoi(argv[1]) : 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: recv returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct nfq_handle *h = nfq_open();
	if (!h) { perror("nfq_open"); return 1; }
	struct nfq_q_handle *qh = nfq_create_queue(h, queue, &cb, NULL);
	if (!qh) { perror("nfq_create_queue"); return 1; }
	if (nfq_set_mode(qh, NFQNL_COPY_PACKET, 0xffff) < 0) { perror("nfq_set_mode"); return 1; }
	int fd = nfq_fd(h);
	int one = 1;
	setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
	int size = 16 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	printf("ready\n");
	fflush(stdout);
	static char buf[65536 + 4096] __attribute__((aligned));
	while (!stop) {
		int rv = recv(fd, buf, sizeof buf, 0);
		if (rv < 0) {
			if (errno == EINTR || errno == ENOBUFS) continue;
			perror("recv");
			break;
		}
		nfq_handle_packet(h, buf, rv);
	}
	printf("verdicts %llu\n", verdicts);
	nfq_destroy_queue(qh);
	nfq_close(h);
	return 0;
}
