package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/ids"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nflog"
)

func newNflogCmd(a *app) *cobra.Command {
	var count, snaplen int
	var qthresh uint32
	cmd := &cobra.Command{
		Use:   "nflog GROUP",
		Short: "Print the packets log rules send to an NFLOG group",
		Long: `Bind NFLOG group GROUP and print one line per packet that log rules copy
to it (nft "log group N prefix ...", iptables "-j NFLOG --nflog-group N"):
time, prefix, hook, interfaces, addresses, protocol and ports, length and
mark; -j prints one JSON object per line with every field the kernel sent
(payload in hex). Logging never holds traffic back: if nlkit falls behind,
the kernel drops log entries (a "lost" line) and packets flow on. One
program per group and namespace (tcpdump -i nflog:N, ulogd) can bind it.
Needs root or CAP_NET_ADMIN. Stops after -c packets, or on Ctrl-C.

Examples:
  nft add rule inet filter input tcp dport 22 log group 5 prefix '"ssh "'
  nlkit nflog 5
  nlkit -n blue -j nflog 5 -c 10
  nlkit nflog 5 --snaplen 128 --qthreshold 20`,
		Args: needArgs(1, "GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return fmt.Errorf("nflog: unexpected argument %q (usage: %s)", args[1], cmd.UseLine())
			}
			g, err := strconv.ParseUint(args[0], 10, 16)
			if err != nil {
				return fmt.Errorf("nflog: group %q: want a number from 0 to 65535", args[0])
			}
			if count < 0 {
				return fmt.Errorf("nflog: -c %d: want a number of packets, 0 for no limit", count)
			}
			if snaplen < 0 {
				return fmt.Errorf("nflog: --snaplen %d: want a number of bytes, 0 for whole packets", snaplen)
			}
			ctx := cmd.Context()
			grp, err := nflog.Open(ctx, uint16(g), nflog.Config{CopyRange: uint32(snaplen), QThreshold: qthresh}, a.config())
			if err != nil {
				return err
			}
			defer grp.Close()
			names := newIfNames(a)
			defer names.close()
			return a.nflogWatch(ctx, grp, names.name, count)
		},
	}
	cmd.Flags().IntVarP(&count, "count", "c", 0, "stop after `N` packets (0: no limit)")
	cmd.Flags().IntVar(&snaplen, "snaplen", 0, "copy at most `BYTES` of each packet (0: whole packets)")
	cmd.Flags().Uint32Var(&qthresh, "qthreshold", 0, "packets the kernel gathers per message (default 1: at once)")
	return cmd
}

// nflogJSON is one packet in `nlkit -j nflog`.
type nflogJSON struct {
	Time       string  `json:"time,omitempty"`
	Group      uint16  `json:"group"`
	Prefix     string  `json:"prefix"`
	Family     string  `json:"family"`
	Hook       string  `json:"hook"`
	HWProtocol string  `json:"hw_protocol"`
	InDev      string  `json:"indev,omitempty"`
	OutDev     string  `json:"outdev,omitempty"`
	InIndex    uint32  `json:"indev_index,omitempty"`
	OutIndex   uint32  `json:"outdev_index,omitempty"`
	HWAddr     string  `json:"hwaddr,omitempty"`
	Mark       uint32  `json:"mark,omitempty"`
	UID        *uint32 `json:"uid,omitempty"`
	GID        *uint32 `json:"gid,omitempty"`
	Src        string  `json:"src,omitempty"`
	Dst        string  `json:"dst,omitempty"`
	Proto      string  `json:"proto,omitempty"`
	SrcPort    *uint16 `json:"sport,omitempty"`
	DstPort    *uint16 `json:"dport,omitempty"`
	Len        int     `json:"len"`
	Payload    string  `json:"payload,omitempty"`
}

func (a *app) nflogWatch(ctx context.Context, g *nflog.Group, name func(context.Context, int32) string, count int) error {
	dec := ids.NewDecoder()
	var ip ids.Packet
	n := 0
	for p, err := range g.Packets(ctx) {
		if errors.Is(err, netlink.ErrOverrun) {
			if a.json {
				err = a.printJSON(struct {
					Lost bool `json:"lost"`
				}{true})
			} else {
				_, err = fmt.Fprintln(a.out, "lost: receive buffer overrun, log entries were dropped")
			}
			if err != nil {
				return err
			}
			continue
		}
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		j := nflogJSON{
			Group: p.Group, Prefix: p.Prefix, Family: p.Family.String(), Hook: p.Hook.String(),
			HWProtocol: fmt.Sprintf("0x%04x", p.HWProtocol), InIndex: p.InDev, OutIndex: p.OutDev,
			Mark: p.Mark, Len: len(p.Payload), Payload: hex.EncodeToString(p.Payload),
		}
		if !p.Timestamp.IsZero() {
			j.Time = p.Timestamp.Format(timeLayout)
		}
		if p.InDev != 0 {
			j.InDev = name(ctx, int32(p.InDev))
		}
		if p.OutDev != 0 {
			j.OutDev = name(ctx, int32(p.OutDev))
		}
		if len(p.HWAddr) > 0 {
			j.HWAddr = p.HWAddr.String()
		}
		if p.HasUID {
			j.UID = &p.UID
		}
		if p.HasGID {
			j.GID = &p.GID
		}
		if dec.Decode(p.Payload, &ip) == nil || ip.Src.IsValid() {
			j.Src, j.Dst = ip.Src.String(), ip.Dst.String()
			j.Proto = protoName(ip.IPProto)
			if (ip.IPProto == 6 || ip.IPProto == 17) && !ip.Fragment && len(p.Payload) > 0 {
				sp, dp := ip.SrcPort, ip.DstPort
				j.SrcPort, j.DstPort = &sp, &dp
			}
		}
		if a.json {
			err = a.printJSON(j)
		} else {
			_, err = fmt.Fprintln(a.out, nflogText(j))
		}
		if err != nil {
			return err
		}
		if n++; count > 0 && n >= count {
			return nil
		}
	}
	return nil
}

func protoName(p uint8) string {
	switch p {
	case 1:
		return "icmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 58:
		return "ipv6-icmp"
	}
	return strconv.Itoa(int(p))
}

// nflogText is the one-line form: time prefix hook IN= OUT= src > dst proto.
func nflogText(j nflogJSON) string {
	var b strings.Builder
	ts := j.Time
	if ts == "" {
		ts = "-"
	}
	fmt.Fprintf(&b, "%s %q %s", ts, j.Prefix, j.Hook)
	if j.InDev != "" || j.InIndex != 0 {
		fmt.Fprintf(&b, " in %s", devText(j.InDev, j.InIndex))
	}
	if j.OutDev != "" || j.OutIndex != 0 {
		fmt.Fprintf(&b, " out %s", devText(j.OutDev, j.OutIndex))
	}
	if j.Src != "" {
		src, dst := j.Src, j.Dst
		if j.SrcPort != nil {
			src = joinHostPort(j.Src, *j.SrcPort)
			dst = joinHostPort(j.Dst, *j.DstPort)
		}
		fmt.Fprintf(&b, " %s %s > %s", j.Proto, src, dst)
	} else {
		fmt.Fprintf(&b, " %s proto %s", j.Family, j.HWProtocol)
	}
	fmt.Fprintf(&b, " len %d", j.Len)
	if j.Mark != 0 {
		fmt.Fprintf(&b, " mark %#x", j.Mark)
	}
	if j.UID != nil {
		fmt.Fprintf(&b, " uid %d", *j.UID)
	}
	if j.GID != nil {
		fmt.Fprintf(&b, " gid %d", *j.GID)
	}
	return b.String()
}

func devText(name string, index uint32) string {
	if name != "" {
		return name
	}
	return fmt.Sprintf("if%d", index)
}

func joinHostPort(host string, port uint16) string {
	if strings.Contains(host, ":") {
		return fmt.Sprintf("[%s]:%d", host, port)
	}
	return fmt.Sprintf("%s:%d", host, port)
}
