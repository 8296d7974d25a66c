package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/rtnl"
)

// linkJSON is one interface as `ip -j link` prints it.
type linkJSON struct {
	Index      int32    `json:"ifindex"`
	Name       string   `json:"ifname"`
	Flags      []string `json:"flags"`
	MTU        uint32   `json:"mtu"`
	Qdisc      string   `json:"qdisc,omitempty"`
	Master     string   `json:"master,omitempty"`
	OperState  string   `json:"operstate"`
	Group      string   `json:"group"`
	TxQueueLen uint32   `json:"txqlen"`
	LinkType   string   `json:"link_type"`
	Address    string   `json:"address,omitempty"`
	Broadcast  string   `json:"broadcast,omitempty"`
	Alias      string   `json:"ifalias,omitempty"`
	Link       string   `json:"link,omitempty"`
	LinkIndex  int32    `json:"link_index,omitempty"`
	NetNSID    *int32   `json:"link_netnsid,omitempty"`
	// LinkInfo only with -d, as ip prints it.
	LinkInfo *linkInfoJSON `json:"linkinfo,omitempty"`
}

type linkInfoJSON struct {
	Kind      string `json:"info_kind,omitempty"`
	SlaveKind string `json:"info_slave_kind,omitempty"`
}

func toLinkJSON(l *rtnl.Link, byIndex map[int32]*rtnl.Link, details bool) linkJSON {
	j := linkJSON{
		Index: l.Index, Name: l.Name, Flags: l.Flags.Names(), MTU: l.MTU, Qdisc: l.Qdisc,
		OperState: l.OperState.String(), TxQueueLen: l.TxQueueLen, LinkType: l.Type.String(),
		Alias: l.Alias, Group: "default",
	}
	if l.Group != 0 {
		j.Group = fmt.Sprint(l.Group)
	}
	// The lower device: by name in this namespace, by index and
	// namespace ID otherwise (as ip prints it).
	if l.ParentIndex != 0 && l.ParentIndex != l.Index {
		if p := byIndex[l.ParentIndex]; p != nil && !l.HasNetNSID {
			j.Link = p.Name
		} else {
			j.LinkIndex = l.ParentIndex
		}
	}
	if l.Master != 0 {
		j.Master = fmt.Sprintf("if%d", l.Master)
		if m := byIndex[l.Master]; m != nil {
			j.Master = m.Name
		}
	}
	// As ip does: M-DOWN when the lower device (in this namespace) is down.
	if p := byIndex[l.ParentIndex]; p != nil && l.ParentIndex != l.Index && !l.HasNetNSID && p.Flags&rtnl.FlagUp == 0 {
		j.Flags = append(j.Flags, "M-DOWN")
	}
	if len(l.HardwareAddr) > 0 {
		j.Address = l.HardwareAddr.String()
	}
	if len(l.Broadcast) > 0 {
		j.Broadcast = l.Broadcast.String()
	}
	if l.HasNetNSID {
		id := l.NetNSID
		j.NetNSID = &id
	}
	if details && l.Info != nil {
		j.LinkInfo = &linkInfoJSON{Kind: l.Info.Kind, SlaveKind: l.Info.SlaveKind}
	}
	return j
}

func newLinkCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "link [show [DEVICE] | add | set | del]",
		Aliases: []string{"l"},
		Short:   "List network interfaces (like ip link)",
		Long: `List the network interfaces registered with the kernel, as ip link and
ifconfig -a show them.

Examples:
  nlkit link
  nlkit link show lo
  nlkit link add veth0 type veth peer name veth1
  nlkit link set veth0 up mtu 1400
  nlkit link del veth0
  nlkit -j link           JSON array; field names follow ip -j link`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && args[0] != "show" && args[0] != "list" && args[0] != "ls" {
				return fmt.Errorf("link: unknown command %q (try: nlkit link show [DEVICE])", args[0])
			}
			dev := ""
			if len(args) == 2 {
				dev = args[1]
			}
			return linkShow(a, cmd, dev)
		},
	}
	cmd.AddCommand(newLinkAddCmd(a), newLinkSetCmd(a), newLinkDelCmd(a))
	return cmd
}

func linkShow(a *app, cmd *cobra.Command, dev string) error {
	ctx := cmd.Context()
	c, err := a.rtnl()
	if err != nil {
		return err
	}
	defer c.Close()
	var links []*rtnl.Link
	if dev != "" {
		l, err := c.LinkByName(ctx, dev)
		if errors.Is(err, rtnl.ErrNoLink) {
			return fmt.Errorf("device %q does not exist", dev)
		}
		if err != nil {
			return err
		}
		links = []*rtnl.Link{l}
	} else if links, err = c.ListLinks(ctx); err != nil {
		return err
	}
	byIndex := map[int32]*rtnl.Link{}
	for _, l := range links {
		byIndex[l.Index] = l
	}
	if dev != "" {
		// Name the master and lower device of a single link.
		for _, i := range []int32{links[0].Master, links[0].ParentIndex} {
			if i != 0 && byIndex[i] == nil {
				if m, err := c.LinkByIndex(ctx, i); err == nil {
					byIndex[i] = m
				}
			}
		}
	}
	if a.json {
		out := make([]linkJSON, 0, len(links))
		for _, l := range links {
			out = append(out, toLinkJSON(l, byIndex, a.details))
		}
		return a.printJSON(out)
	}
	tw := a.table("INDEX", "NAME", "STATE", "MTU", "ADDRESS", "MASTER", "FLAGS")
	for _, l := range links {
		j := toLinkJSON(l, byIndex, a.details)
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\n", j.Index, j.Name, j.OperState, j.MTU,
			dash(j.Address), dash(j.Master), strings.Join(j.Flags, ","))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
