package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/genl"
)

// genlOpJSON is one command of a family.
type genlOpJSON struct {
	ID    uint32   `json:"id"`
	Flags []string `json:"flags"`
}

// genlGroupJSON is one multicast group of a family.
type genlGroupJSON struct {
	ID   uint32 `json:"id"`
	Name string `json:"name"`
}

// genlFamilyJSON is one generic netlink family. genl has no JSON output;
// the names follow the controller's attributes (CTRL_ATTR_HDRSIZE,
// CTRL_ATTR_MAXATTR, CTRL_ATTR_MCAST_GROUPS) and the flag names the
// kernel's netlink spec for nlctrl.
type genlFamilyJSON struct {
	ID          uint16          `json:"id"`
	Name        string          `json:"name"`
	Version     uint8           `json:"version"`
	HeaderSize  uint32          `json:"hdrsize"`
	MaxAttr     uint32          `json:"maxattr"`
	Ops         []genlOpJSON    `json:"ops"`
	MCastGroups []genlGroupJSON `json:"mcast_groups"`
}

func toGenlJSON(f *genl.Family) genlFamilyJSON {
	j := genlFamilyJSON{
		ID: f.ID, Name: f.Name, Version: f.Version, HeaderSize: f.HeaderSize, MaxAttr: f.MaxAttr,
		Ops: []genlOpJSON{}, MCastGroups: []genlGroupJSON{},
	}
	for _, op := range f.Ops {
		j.Ops = append(j.Ops, genlOpJSON{ID: op.ID, Flags: op.Flags.Names()})
	}
	for _, g := range f.Groups {
		j.MCastGroups = append(j.MCastGroups, genlGroupJSON{ID: g.ID, Name: g.Name})
	}
	return j
}

func newGenlCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "genl [list | show FAMILY | ctrl list | ctrl get name NAME | ctrl get id ID]",
		Short: "List generic netlink families (like genl ctrl list)",
		Long: `List the generic netlink families the kernel has registered (ethtool,
nl80211, TASKSTATS, drivers' own ...), with their IDs, versions, commands
and multicast groups, as genl ctrl list does.

Family, command and multicast group IDs are given in hexadecimal in text
output, as genl prints them, and as decimal numbers in JSON.

Command flags: admin-perm and uns-admin-perm mean the command needs
CAP_NET_ADMIN; cmd-cap-do and cmd-cap-dump that it can answer a request
or a dump; cmd-cap-haspol that the kernel validates its attributes.

Examples:
  nlkit genl                        table of all families
  nlkit genl show nlctrl            one family: its commands and groups
  nlkit genl ctrl get name ethtool  the same, in genl's words
  nlkit genl ctrl get id 0x10       by family ID
  nlkit -j genl                     JSON array: id, name, version, hdrsize,
                                    maxattr, ops [{id, flags}],
                                    mcast_groups [{id, name}]`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGenl(a, cmd.Context(), args)
		},
	}
	return cmd
}

// runGenl parses the arguments as genl does and runs the command.
func runGenl(a *app, ctx context.Context, args []string) error {
	w := newWords("genl", args)
	if w.more() && w.peek() == "ctrl" {
		w.next()
		w.cmd = "genl ctrl"
	}
	verb := "list"
	if w.more() {
		verb = w.next()
	}
	var byName string
	var byID int = -1
	switch verb {
	case "list", "ls", "lst":
	case "show", "get":
		if !w.more() {
			if verb == "show" {
				break // "show" alone lists, as "ip link show" does
			}
			return fmt.Errorf("%s get: missing family (usage: nlkit genl ctrl get name NAME | id ID)", w.cmd)
		}
		switch key := w.next(); key {
		case "name":
			v, err := w.value(key)
			if err != nil {
				return err
			}
			byName = v
		case "id":
			s, err := w.value(key)
			if err != nil {
				return err
			}
			v, err := strconv.ParseUint(s, 0, 16)
			if err != nil {
				return fmt.Errorf("%s get: id %q: not a family ID from 0 to 0xffff", w.cmd, s)
			}
			byID = int(v)
		default:
			byName = key
		}
	default:
		return fmt.Errorf("genl: unknown command %q (try: nlkit genl list, nlkit genl show FAMILY)", verb)
	}
	if w.more() {
		return w.unknown(w.next())
	}

	c, err := genl.Dial(a.config())
	if err != nil {
		return err
	}
	defer c.Close()
	switch {
	case byName != "":
		f, err := c.Family(ctx, byName)
		if errors.Is(err, genl.ErrFamilyNotFound) {
			return fmt.Errorf("generic netlink family %q not found", byName)
		}
		if err != nil {
			return err
		}
		return genlShow(a, f)
	case byID >= 0:
		fams, err := c.ListFamilies(ctx)
		if err != nil {
			return err
		}
		for _, f := range fams {
			if int(f.ID) == byID {
				return genlShow(a, f)
			}
		}
		return fmt.Errorf("generic netlink family with id %#x not found", byID)
	}
	fams, err := c.ListFamilies(ctx)
	if err != nil {
		return err
	}
	return genlList(a, fams)
}

func genlList(a *app, fams []*genl.Family) error {
	if a.json {
		out := make([]genlFamilyJSON, 0, len(fams))
		for _, f := range fams {
			out = append(out, toGenlJSON(f))
		}
		return a.printJSON(out)
	}
	tw := a.table("ID", "NAME", "VERSION", "OPS", "GROUPS")
	for _, f := range fams {
		var groups []string
		for _, g := range f.Groups {
			groups = append(groups, g.Name)
		}
		fmt.Fprintf(tw, "%#x\t%s\t%d\t%d\t%s\n", f.ID, f.Name, f.Version, len(f.Ops), dash(strings.Join(groups, ",")))
	}
	return tw.Flush()
}

func genlShow(a *app, f *genl.Family) error {
	if a.json {
		return a.printJSON(toGenlJSON(f))
	}
	fmt.Fprintf(a.out, "%s: id %#x version %d hdrsize %d maxattr %d\n", f.Name, f.ID, f.Version, f.HeaderSize, f.MaxAttr)
	if len(f.Ops) > 0 {
		fmt.Fprintln(a.out)
		tw := a.table("OP", "FLAGS")
		for _, op := range f.Ops {
			fmt.Fprintf(tw, "%#x\t%s\n", op.ID, dash(strings.Join(op.Flags.Names(), ",")))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(f.Groups) > 0 {
		fmt.Fprintln(a.out)
		tw := a.table("GROUP", "NAME")
		for _, g := range f.Groups {
			fmt.Fprintf(tw, "%#x\t%s\n", g.ID, g.Name)
		}
		return tw.Flush()
	}
	return nil
}
