/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * nlhello: user-space visible constants of the nlhello kernel module.
 *
 * This header is the contract between the module and its clients; it has no
 * kernel-only dependencies so that C programs in user space can include it.
 * kmod/nlhello/README.md describes every message byte by byte.
 */
#ifndef _NLHELLO_H
#define _NLHELLO_H

/* ---- the module's own netlink protocol (socket(AF_NETLINK, SOCK_RAW, 31)) ---- */

#define NLHELLO_PROTOCOL_DEFAULT	31	/* module parameter "protocol" */
#define NLHELLO_IFNAME_DEFAULT		"my_if0"	/* module parameter "ifname" */

#define NLHELLO_GROUPS			1	/* number of multicast groups used */
#define NLHELLO_GROUP_PACKETS		1	/* group that receives NLHELLO_MSG_PACKET */

/* nlmsg_type values (all >= NLMSG_MIN_TYPE, 0x10) */
enum nlhello_msg_type {
	NLHELLO_MSG_HELLO	= 0x10,	/* request: NUL-terminated text; reply: "Thank you" */
	NLHELLO_MSG_STATS	= 0x11,	/* request: no payload; reply: NLHELLO_STATS_* attrs */
	NLHELLO_MSG_PACKET	= 0x12,	/* kernel -> group 1 only: NLHELLO_PACKET_* attrs */
};

/* Text of every hello reply, sent with its terminating NUL (10 bytes). */
#define NLHELLO_REPLY_TEXT		"Thank you"

/* Attributes of NLHELLO_MSG_STATS replies (and NLHELLO_CMD_GET_STATS). */
enum nlhello_stats_attr {
	NLHELLO_STATS_UNSPEC,
	NLHELLO_STATS_MSGS_RECEIVED,			/* u64 */
	NLHELLO_STATS_REPLIES_SENT,			/* u64 */
	NLHELLO_STATS_PACKETS_PASSED,			/* u64 */
	NLHELLO_STATS_PACKETS_DROPPED_NO_LISTENER,	/* u64 */
	NLHELLO_STATS_PACKETS_DROPPED_BUFFER_FULL,	/* u64 */
	NLHELLO_STATS_ERRORS_SENT,			/* u64 */
	NLHELLO_STATS_PAD,				/* padding, skip */
	NLHELLO_STATS_PACKETS_DROPPED_NOMEM,		/* u64 */

	__NLHELLO_STATS_MAX,
	NLHELLO_STATS_MAX = __NLHELLO_STATS_MAX - 1
};

/* Attributes of NLHELLO_MSG_PACKET (and NLHELLO_CMD_PACKET) notifications. */
enum nlhello_packet_attr {
	NLHELLO_PACKET_UNSPEC,
	NLHELLO_PACKET_IFINDEX,		/* u32, native byte order */
	NLHELLO_PACKET_LEN,		/* u32, original length of the packet */
	NLHELLO_PACKET_TIMESTAMP,	/* u64, CLOCK_REALTIME in ns */
	NLHELLO_PACKET_PROTOCOL,	/* be16, skb->protocol (ETH_P_*) */
	NLHELLO_PACKET_DATA,		/* binary, the first CAPLEN bytes */
	NLHELLO_PACKET_CAPLEN,		/* u32, min(LEN, NLHELLO_PACKET_CAP) */
	NLHELLO_PACKET_PAD,		/* padding, skip */

	__NLHELLO_PACKET_MAX,
	NLHELLO_PACKET_MAX = __NLHELLO_PACKET_MAX - 1
};

/* At most this many bytes of each packet are copied into NLHELLO_PACKET_DATA. */
#define NLHELLO_PACKET_CAP		256

/* ---- the same service as a generic netlink family ---- */

#define NLHELLO_GENL_NAME		"nlhello"
#define NLHELLO_GENL_VERSION		1
#define NLHELLO_GENL_MCGRP_PACKETS	"packets"

enum nlhello_genl_cmd {
	NLHELLO_CMD_UNSPEC,
	NLHELLO_CMD_HELLO,	/* request: NLHELLO_A_TEXT; reply: NLHELLO_A_TEXT "Thank you" */
	NLHELLO_CMD_GET_STATS,	/* request: no attributes; reply: NLHELLO_STATS_* attrs */
	NLHELLO_CMD_PACKET,	/* notification to "packets": NLHELLO_PACKET_* attrs */

	__NLHELLO_CMD_MAX,
	NLHELLO_CMD_MAX = __NLHELLO_CMD_MAX - 1
};

/* Request attributes of the generic netlink family (its policy). */
enum nlhello_genl_attr {
	NLHELLO_A_UNSPEC,
	NLHELLO_A_TEXT,		/* NUL-terminated string */

	__NLHELLO_A_MAX,
	NLHELLO_A_MAX = __NLHELLO_A_MAX - 1
};

#endif /* _NLHELLO_H */
