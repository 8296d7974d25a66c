// SPDX-License-Identifier: GPL-2.0
/*
 * nlhello - a virtual network device that hands every transmitted packet to
 * user space over netlink, and a tiny request/response service, reachable
 * both on the module's own netlink protocol and as a generic netlink family.
 *
 * The contract (message types, attributes, errors) is in nlhello.h and is
 * described byte by byte in README.md.
 *
 * Concurrency: every handler is stateless apart from the atomic64 counters,
 * so requests from many sockets and transmits on many CPUs run in parallel.
 *
 * Lifetime: a user socket of the raw protocol pins this module (the netlink
 * core takes a module reference in netlink_create()), so the module can only
 * be unloaded when no such socket exists. Generic netlink sockets do not pin
 * it; genl_unregister_family() waits for running handlers and removes
 * subscribers from the multicast group.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/netlink.h>
#include <linux/skbuff.h>
#include <linux/string.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "nlhello.h"

static char *ifname = NLHELLO_IFNAME_DEFAULT;
module_param(ifname, charp, 0444);
MODULE_PARM_DESC(ifname, "name of the virtual interface (default \"" NLHELLO_IFNAME_DEFAULT "\"; \"%d\" picks a free number)");

static int protocol = NLHELLO_PROTOCOL_DEFAULT;
module_param(protocol, int, 0444);
MODULE_PARM_DESC(protocol, "netlink protocol number of the module's own endpoint (default 31)");

static struct {
	atomic64_t msgs_received;
	atomic64_t replies_sent;
	atomic64_t packets_passed;
	atomic64_t dropped_no_listener;
	atomic64_t dropped_buffer_full;
	atomic64_t errors_sent;
	atomic64_t dropped_nomem;
} nlhello_stats;

static struct sock *nlhello_sk;		/* kernel end of the raw protocol */
static struct net_device *nlhello_dev;
static struct genl_family nlhello_genl_family;

enum { NLHELLO_GENL_MCGRP_PACKETS_IDX };

/* ------------------------------------------------------------------ */
/* shared payload builders                                             */
/* ------------------------------------------------------------------ */

static size_t nlhello_stats_size(void)
{
	return 7 * nla_total_size_64bit(sizeof(u64));
}

static int nlhello_put_stats(struct sk_buff *skb)
{
	static const struct {
		int type;
		atomic64_t *val;
	} s[] = {
		{ NLHELLO_STATS_MSGS_RECEIVED, &nlhello_stats.msgs_received },
		{ NLHELLO_STATS_REPLIES_SENT, &nlhello_stats.replies_sent },
		{ NLHELLO_STATS_PACKETS_PASSED, &nlhello_stats.packets_passed },
		{ NLHELLO_STATS_PACKETS_DROPPED_NO_LISTENER, &nlhello_stats.dropped_no_listener },
		{ NLHELLO_STATS_PACKETS_DROPPED_BUFFER_FULL, &nlhello_stats.dropped_buffer_full },
		{ NLHELLO_STATS_ERRORS_SENT, &nlhello_stats.errors_sent },
		{ NLHELLO_STATS_PACKETS_DROPPED_NOMEM, &nlhello_stats.dropped_nomem },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(s); i++)
		if (nla_put_u64_64bit(skb, s[i].type, (u64)atomic64_read(s[i].val),
				      NLHELLO_STATS_PAD))
			return -EMSGSIZE;
	return 0;
}

static size_t nlhello_packet_size(u32 caplen)
{
	return nla_total_size(sizeof(u32)) +		/* IFINDEX */
	       nla_total_size(sizeof(u32)) +		/* LEN */
	       nla_total_size_64bit(sizeof(u64)) +	/* TIMESTAMP */
	       nla_total_size(sizeof(u16)) +		/* PROTOCOL */
	       nla_total_size(caplen) +			/* DATA */
	       nla_total_size(sizeof(u32));		/* CAPLEN */
}

static int nlhello_put_packet(struct sk_buff *msg, const struct sk_buff *skb,
			      const struct net_device *dev, u64 tstamp, u32 caplen)
{
	struct nlattr *data;

	if (nla_put_u32(msg, NLHELLO_PACKET_IFINDEX, dev->ifindex) ||
	    nla_put_u32(msg, NLHELLO_PACKET_LEN, skb->len) ||
	    nla_put_u64_64bit(msg, NLHELLO_PACKET_TIMESTAMP, tstamp, NLHELLO_PACKET_PAD) ||
	    nla_put_be16(msg, NLHELLO_PACKET_PROTOCOL, skb->protocol))
		return -EMSGSIZE;
	data = nla_reserve(msg, NLHELLO_PACKET_DATA, caplen);
	if (!data)
		return -EMSGSIZE;
	if (skb_copy_bits(skb, 0, nla_data(data), caplen))
		return -EFAULT;
	if (nla_put_u32(msg, NLHELLO_PACKET_CAPLEN, caplen))
		return -EMSGSIZE;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the raw netlink protocol                                            */
/* ------------------------------------------------------------------ */

/* nlhello_unicast sends a reply to the sender of in_skb; it consumes skb. */
static int nlhello_unicast(struct sk_buff *in_skb, struct sk_buff *skb)
{
	int err = nlmsg_unicast(in_skb->sk, skb, NETLINK_CB(in_skb).portid);

	if (!err)
		atomic64_inc(&nlhello_stats.replies_sent);
	return err;
}

static int nlhello_raw_hello(struct sk_buff *in_skb, const struct nlmsghdr *nlh,
			     struct netlink_ext_ack *extack)
{
	int len = nlmsg_len(nlh);
	struct nlmsghdr *rep;
	struct sk_buff *skb;

	if (len <= 0) {
		NL_SET_ERR_MSG(extack, "hello: empty payload, expected NUL-terminated text");
		return -EINVAL;
	}
	if (!memchr(nlmsg_data(nlh), '\0', len)) {
		NL_SET_ERR_MSG(extack, "hello: text is not NUL-terminated");
		return -EINVAL;
	}

	skb = nlmsg_new(sizeof(NLHELLO_REPLY_TEXT), GFP_KERNEL);
	if (!skb)
		return -ENOMEM;
	rep = nlmsg_put(skb, 0, nlh->nlmsg_seq, NLHELLO_MSG_HELLO,
			sizeof(NLHELLO_REPLY_TEXT), 0);
	if (!rep) {
		kfree_skb(skb);
		return -EMSGSIZE;
	}
	/*
	 * nlmsg_put() set nlmsg_len to 16 + 10 and zeroed the 2 padding bytes;
	 * no nlmsg_end(): that would count the padding in nlmsg_len.
	 */
	memcpy(nlmsg_data(rep), NLHELLO_REPLY_TEXT, sizeof(NLHELLO_REPLY_TEXT));
	return nlhello_unicast(in_skb, skb);
}

static int nlhello_raw_stats(struct sk_buff *in_skb, const struct nlmsghdr *nlh,
			     struct netlink_ext_ack *extack)
{
	struct nlmsghdr *rep;
	struct sk_buff *skb;

	if (nlmsg_len(nlh) != 0) {
		NL_SET_ERR_MSG(extack, "stats: request takes no payload");
		return -EINVAL;
	}

	skb = nlmsg_new(nlhello_stats_size(), GFP_KERNEL);
	if (!skb)
		return -ENOMEM;
	rep = nlmsg_put(skb, 0, nlh->nlmsg_seq, NLHELLO_MSG_STATS, 0, 0);
	if (!rep || nlhello_put_stats(skb)) {
		kfree_skb(skb);
		return -EMSGSIZE;
	}
	nlmsg_end(skb, rep);
	return nlhello_unicast(in_skb, skb);
}

/*
 * Called by netlink_rcv_skb() for every well-formed request message
 * (nlmsg_len within the datagram, NLM_F_REQUEST set, type >= NLMSG_MIN_TYPE).
 * A non-zero return makes netlink_rcv_skb() answer with NLMSG_ERROR carrying
 * that errno and the extack message.
 */
static int nlhello_rcv_msg(struct sk_buff *skb, struct nlmsghdr *nlh,
			   struct netlink_ext_ack *extack)
{
	int err;

	atomic64_inc(&nlhello_stats.msgs_received);

	switch (nlh->nlmsg_type) {
	case NLHELLO_MSG_HELLO:
	case NLHELLO_MSG_STATS:
		if ((nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP) {
			NL_SET_ERR_MSG(extack, "dump is not supported");
			err = -EOPNOTSUPP;
			break;
		}
		if (nlh->nlmsg_type == NLHELLO_MSG_HELLO)
			err = nlhello_raw_hello(skb, nlh, extack);
		else
			err = nlhello_raw_stats(skb, nlh, extack);
		break;
	case NLHELLO_MSG_PACKET:
		NL_SET_ERR_MSG(extack, "packet messages are sent by the kernel only");
		err = -EOPNOTSUPP;
		break;
	default:
		NL_SET_ERR_MSG(extack, "unknown message type");
		err = -EOPNOTSUPP;
		break;
	}

	if (err)
		atomic64_inc(&nlhello_stats.errors_sent);
	return err;
}

static void nlhello_rcv(struct sk_buff *skb)
{
	netlink_rcv_skb(skb, nlhello_rcv_msg);
}

/* ------------------------------------------------------------------ */
/* generic netlink family                                              */
/* ------------------------------------------------------------------ */

static const struct nla_policy nlhello_genl_policy[NLHELLO_A_MAX + 1] = {
	[NLHELLO_A_TEXT] = { .type = NLA_NUL_STRING },
};

static int nlhello_genl_reply_err(int err)
{
	if (err)
		atomic64_inc(&nlhello_stats.errors_sent);
	else
		atomic64_inc(&nlhello_stats.replies_sent);
	return err;
}

static int nlhello_genl_hello(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	atomic64_inc(&nlhello_stats.msgs_received);

	if (GENL_REQ_ATTR_CHECK(info, NLHELLO_A_TEXT)) {
		NL_SET_ERR_MSG(info->extack, "hello: missing TEXT attribute");
		return nlhello_genl_reply_err(-EINVAL);
	}

	msg = genlmsg_new(nla_total_size(sizeof(NLHELLO_REPLY_TEXT)), GFP_KERNEL);
	if (!msg)
		return nlhello_genl_reply_err(-ENOMEM);
	hdr = genlmsg_put_reply(msg, info, &nlhello_genl_family, 0, NLHELLO_CMD_HELLO);
	if (!hdr || nla_put_string(msg, NLHELLO_A_TEXT, NLHELLO_REPLY_TEXT)) {
		nlmsg_free(msg);
		return nlhello_genl_reply_err(-EMSGSIZE);
	}
	genlmsg_end(msg, hdr);
	return nlhello_genl_reply_err(genlmsg_reply(msg, info));
}

static int nlhello_genl_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	atomic64_inc(&nlhello_stats.msgs_received);

	msg = genlmsg_new(nlhello_stats_size(), GFP_KERNEL);
	if (!msg)
		return nlhello_genl_reply_err(-ENOMEM);
	hdr = genlmsg_put_reply(msg, info, &nlhello_genl_family, 0, NLHELLO_CMD_GET_STATS);
	if (!hdr || nlhello_put_stats(msg)) {
		nlmsg_free(msg);
		return nlhello_genl_reply_err(-EMSGSIZE);
	}
	genlmsg_end(msg, hdr);
	return nlhello_genl_reply_err(genlmsg_reply(msg, info));
}

static const struct genl_small_ops nlhello_genl_ops[] = {
	{
		.cmd	= NLHELLO_CMD_HELLO,
		.doit	= nlhello_genl_hello,
	},
	{
		.cmd	= NLHELLO_CMD_GET_STATS,
		.doit	= nlhello_genl_get_stats,
	},
};

static const struct genl_multicast_group nlhello_genl_mcgrps[] = {
	[NLHELLO_GENL_MCGRP_PACKETS_IDX] = {
		.name	= NLHELLO_GENL_MCGRP_PACKETS,
		.flags	= GENL_MCAST_CAP_NET_ADMIN,
	},
};

static struct genl_family nlhello_genl_family __ro_after_init = {
	.name		= NLHELLO_GENL_NAME,
	.version	= NLHELLO_GENL_VERSION,
	.maxattr	= NLHELLO_A_MAX,
	.policy		= nlhello_genl_policy,
	.netnsok	= false,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.small_ops	= nlhello_genl_ops,
	.n_small_ops	= ARRAY_SIZE(nlhello_genl_ops),
	/* every command is new: strict validation, reserved header field must be 0 */
	.resv_start_op	= NLHELLO_CMD_HELLO,
	.mcgrps		= nlhello_genl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(nlhello_genl_mcgrps),
};

/* ------------------------------------------------------------------ */
/* packet notifications                                                */
/* ------------------------------------------------------------------ */

/* Returns 0 if at least one listener got the message, else a negative errno. */
static int nlhello_notify_raw(const struct sk_buff *skb, struct net_device *dev,
			      u64 tstamp, u32 caplen)
{
	struct nlmsghdr *nlh;
	struct sk_buff *msg;

	msg = nlmsg_new(nlhello_packet_size(caplen), GFP_ATOMIC);
	if (!msg)
		return -ENOMEM;
	nlh = nlmsg_put(msg, 0, 0, NLHELLO_MSG_PACKET, 0, 0);
	if (!nlh || nlhello_put_packet(msg, skb, dev, tstamp, caplen)) {
		kfree_skb(msg);
		return -EMSGSIZE;
	}
	nlmsg_end(msg, nlh);
	return nlmsg_multicast(nlhello_sk, msg, 0, NLHELLO_GROUP_PACKETS, GFP_ATOMIC);
}

static int nlhello_notify_genl(const struct sk_buff *skb, struct net_device *dev,
			       u64 tstamp, u32 caplen)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(nlhello_packet_size(caplen), GFP_ATOMIC);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put(msg, 0, 0, &nlhello_genl_family, 0, NLHELLO_CMD_PACKET);
	if (!hdr || nlhello_put_packet(msg, skb, dev, tstamp, caplen)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_multicast(&nlhello_genl_family, msg, 0,
				 NLHELLO_GENL_MCGRP_PACKETS_IDX, GFP_ATOMIC);
}

/*
 * Accounting is per packet: PASSED if at least one listener (on either
 * endpoint) received it, DROPPED_NO_LISTENER if nobody was subscribed, else
 * DROPPED_NOMEM if the notification could not be built, else
 * DROPPED_BUFFER_FULL (every subscriber's receive buffer was full, reported
 * by netlink_broadcast() as -ESRCH, or -ENOBUFS for sockets that set
 * NETLINK_BROADCAST_ERROR). Subscribers that overflow also get ENOBUFS on
 * their socket, the standard netlink overrun signal.
 */
static void nlhello_pass_packet(const struct sk_buff *skb, struct net_device *dev)
{
	bool raw = netlink_has_listeners(nlhello_sk, NLHELLO_GROUP_PACKETS);
	bool genl = genl_has_listeners(&nlhello_genl_family, &init_net,
				       NLHELLO_GENL_MCGRP_PACKETS_IDX) > 0;
	int err_raw = -ESRCH, err_genl = -ESRCH;
	u32 caplen;
	u64 tstamp;

	if (!raw && !genl) {
		atomic64_inc(&nlhello_stats.dropped_no_listener);
		return;
	}

	tstamp = ktime_get_real_ns();
	caplen = min_t(u32, skb->len, NLHELLO_PACKET_CAP);
	if (raw)
		err_raw = nlhello_notify_raw(skb, dev, tstamp, caplen);
	if (genl)
		err_genl = nlhello_notify_genl(skb, dev, tstamp, caplen);

	if (!err_raw || !err_genl)
		atomic64_inc(&nlhello_stats.packets_passed);
	else if (err_raw == -ENOMEM || err_genl == -ENOMEM ||
		 err_raw == -EMSGSIZE || err_genl == -EMSGSIZE ||
		 err_raw == -EFAULT || err_genl == -EFAULT)
		atomic64_inc(&nlhello_stats.dropped_nomem);
	else
		atomic64_inc(&nlhello_stats.dropped_buffer_full);
}

/* ------------------------------------------------------------------ */
/* the virtual network device                                          */
/* ------------------------------------------------------------------ */

static netdev_tx_t nlhello_xmit(struct sk_buff *skb, struct net_device *dev)
{
	dev_sw_netstats_tx_add(dev, 1, skb->len);
	nlhello_pass_packet(skb, dev);
	dev_consume_skb_any(skb);
	return NETDEV_TX_OK;
}

static int nlhello_dev_init(struct net_device *dev)
{
	dev->tstats = netdev_alloc_pcpu_stats(struct pcpu_sw_netstats);
	return dev->tstats ? 0 : -ENOMEM;
}

static void nlhello_dev_uninit(struct net_device *dev)
{
	free_percpu(dev->tstats);
	dev->tstats = NULL;
}

static const struct net_device_ops nlhello_netdev_ops = {
	.ndo_init	 = nlhello_dev_init,
	.ndo_uninit	 = nlhello_dev_uninit,
	.ndo_start_xmit	 = nlhello_xmit,
	.ndo_get_stats64 = dev_get_tstats64,
};

static void nlhello_get_drvinfo(struct net_device *dev, struct ethtool_drvinfo *info)
{
	strscpy(info->driver, KBUILD_MODNAME, sizeof(info->driver));
	strscpy(info->bus_info, "virtual", sizeof(info->bus_info));
}

static const struct ethtool_ops nlhello_ethtool_ops = {
	.get_drvinfo	= nlhello_get_drvinfo,
	.get_link	= ethtool_op_get_link,
};

/*
 * A raw point-to-point device like tun in TUN mode: no link-layer header,
 * no hardware address, no ARP. Transmitted packets start with the network
 * header; skb->protocol says which.
 */
static void nlhello_setup(struct net_device *dev)
{
	dev->netdev_ops = &nlhello_netdev_ops;
	dev->ethtool_ops = &nlhello_ethtool_ops;
	dev->type = ARPHRD_NONE;
	dev->hard_header_len = 0;
	dev->addr_len = 0;
	dev->mtu = ETH_DATA_LEN;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = ETH_MAX_MTU;
	dev->flags = IFF_POINTOPOINT | IFF_NOARP | IFF_MULTICAST;
	dev->priv_flags |= IFF_NO_QUEUE;
	dev->features |= NETIF_F_LLTX | NETIF_F_NETNS_LOCAL;
}

/* ------------------------------------------------------------------ */
/* module init / exit                                                  */
/* ------------------------------------------------------------------ */

static int __init nlhello_init(void)
{
	struct netlink_kernel_cfg cfg = {
		.groups	= NLHELLO_GROUPS,
		.input	= nlhello_rcv,
	};
	int err;

	if (protocol < 0 || protocol >= MAX_LINKS) {
		pr_err("protocol %d out of range [0, %d)\n", protocol, MAX_LINKS);
		return -EINVAL;
	}
	if (!ifname || !dev_valid_name(ifname)) {
		pr_err("invalid interface name\n");
		return -EINVAL;
	}

	nlhello_sk = netlink_kernel_create(&init_net, protocol, &cfg);
	if (!nlhello_sk) {
		pr_err("cannot create netlink protocol %d (in use?)\n", protocol);
		return -EBUSY;
	}

	err = genl_register_family(&nlhello_genl_family);
	if (err) {
		pr_err("cannot register generic netlink family: %d\n", err);
		goto out_release;
	}

	nlhello_dev = alloc_netdev(0, ifname, NET_NAME_USER, nlhello_setup);
	if (!nlhello_dev) {
		err = -ENOMEM;
		goto out_genl;
	}
	err = register_netdev(nlhello_dev);
	if (err) {
		pr_err("cannot register interface %s: %d\n", ifname, err);
		free_netdev(nlhello_dev);
		goto out_genl;
	}

	pr_info("interface %s (ifindex %d), netlink protocol %d, genl family %s (id %d)\n",
		nlhello_dev->name, nlhello_dev->ifindex, protocol,
		nlhello_genl_family.name, nlhello_genl_family.id);
	return 0;

out_genl:
	genl_unregister_family(&nlhello_genl_family);
out_release:
	netlink_kernel_release(nlhello_sk);
	return err;
}

/*
 * Order: first stop the packet source (after unregister_netdev() no transmit
 * is running or can start), then the generic netlink family (waits for
 * running handlers), then the raw endpoint (no user socket of the protocol
 * can exist here, each one holds a module reference).
 */
static void __exit nlhello_exit(void)
{
	unregister_netdev(nlhello_dev);
	free_netdev(nlhello_dev);
	genl_unregister_family(&nlhello_genl_family);
	netlink_kernel_release(nlhello_sk);
	pr_info("unloaded\n");
}

module_init(nlhello_init);
module_exit(nlhello_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("nlkit authors");
MODULE_DESCRIPTION("virtual interface that passes transmitted packets to user space over netlink");
MODULE_ALIAS_GENL_FAMILY(NLHELLO_GENL_NAME);
