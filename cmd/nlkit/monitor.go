package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/rtnl"
)

// eventJSON is one line of `nlkit -j monitor`.
type eventJSON struct {
	Time     string `json:"time"`
	Event    string `json:"event"` // "new", "del" or "lost"
	Type     string `json:"type"`  // "link", "addr", "route", "neigh", "rule"
	Link     any    `json:"link,omitempty"`
	Address  any    `json:"addr,omitempty"`
	Route    any    `json:"route,omitempty"`
	Neighbor any    `json:"neigh,omitempty"`
	Rule     any    `json:"rule,omitempty"`
	Message  string `json:"message,omitempty"`
}

const lostText = "events were lost (receive buffer overrun): state shown so far may be stale; dump again"

func newMonitorCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "monitor [link] [addr] [route] [neigh] [rule] [all]",
		Short: "Print kernel events as they happen (like ip monitor)",
		Long: `Print changes to links, addresses, routes, neighbours and rules as the
kernel announces them, until interrupted. With no arguments, all of them.

Each line starts with the object type ([LINK], [ADDR], [ROUTE], [NEIGH],
[RULE]); removals start with "Deleted". With -j each event is one JSON
object per line: {"time", "event": "new"|"del"|"lost", "type", and the
object under its type name, with the fields of the matching show -j}.

If the kernel drops events because nlkit fell behind (a receive buffer
overrun), nlkit says so with a [LOST] line (event "lost" in JSON) and goes
on: whatever you mirror from the events must then be dumped again.

Examples:
  nlkit monitor
  nlkit monitor route
  nlkit -n blue -j monitor link addr`,
		RunE: func(cmd *cobra.Command, args []string) error {
			groups, err := rtnl.ParseGroups(args)
			if err != nil {
				return fmt.Errorf("monitor: %w", err)
			}
			return a.monitor(cmd.Context(), groups)
		},
	}
}

func (a *app) monitor(ctx context.Context, groups []rtnl.Group) error {
	sub, err := rtnl.Subscribe(a.config(), groups...)
	if err != nil {
		return err
	}
	defer sub.Close()
	// Interface names for output, kept current from link events.
	c, err := a.rtnl()
	if err != nil {
		return err
	}
	names, err := linkNames(ctx, c)
	c.Close()
	if err != nil {
		return err
	}
	links := map[int32]*rtnl.Link{}
	ipn := newIPNames()
	for ev, err := range sub.Events(ctx) {
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil // interrupted: a normal end
			}
			return err
		}
		if ev.Link != nil {
			names[ev.Link.Index] = ev.Link.Name
			links[ev.Link.Index] = ev.Link
		}
		if a.json {
			err = a.printJSON(a.eventJSON(ev, names, links, ipn))
		} else {
			_, err = fmt.Fprintln(a.out, a.eventText(ev, names, links, ipn))
		}
		if err != nil {
			return err
		}
		if ev.Link != nil && ev.Deleted {
			delete(names, ev.Link.Index)
			delete(links, ev.Link.Index)
		}
	}
	return nil
}

func (a *app) eventJSON(ev rtnl.Event, names map[int32]string, links map[int32]*rtnl.Link, ipn *ipNames) eventJSON {
	j := eventJSON{Time: time.Now().Format(time.RFC3339Nano), Event: "new", Type: ev.Kind()}
	if ev.Deleted {
		j.Event = "del"
	}
	switch {
	case ev.Lost:
		j.Event, j.Type, j.Message = "lost", "", lostText
	case ev.Link != nil:
		j.Link = toLinkJSON(ev.Link, links, a.details)
	case ev.Address != nil:
		info := toAddrJSON(ev.Address)
		j.Address = struct {
			Index int32  `json:"ifindex"`
			Dev   string `json:"dev,omitempty"`
			addrInfoJSON
		}{ev.Address.Index, names[ev.Address.Index], info}
	case ev.Route != nil:
		j.Route = toRouteJSON(ev.Route, &routeView{allTables: true, details: a.details, names: names})
	case ev.Neighbor != nil:
		j.Neighbor = toNeighJSON(ev.Neighbor, names, ipn, true)
	case ev.Rule != nil:
		j.Rule = toRuleJSON(ev.Rule, ipn, a.details)
	}
	return j
}

func (a *app) eventText(ev rtnl.Event, names map[int32]string, links map[int32]*rtnl.Link, ipn *ipNames) string {
	if ev.Lost {
		return "[LOST] " + lostText
	}
	var body string
	switch {
	case ev.Link != nil:
		l := toLinkJSON(ev.Link, links, a.details)
		body = fmt.Sprintf("%d: %s: <%s> mtu %d state %s", l.Index, l.Name, strings.Join(l.Flags, ","), l.MTU, l.OperState)
		if l.Master != "" {
			body += " master " + l.Master
		}
		if l.Address != "" {
			body += " link/" + l.LinkType + " " + l.Address
		}
	case ev.Address != nil:
		j := toAddrJSON(ev.Address)
		dev := names[ev.Address.Index]
		if dev == "" {
			dev = fmt.Sprintf("if%d", ev.Address.Index)
		}
		body = fmt.Sprintf("%d: %s    %s %s/%d scope %s", ev.Address.Index, dev, j.Family, j.Local, j.PrefixLen, j.Scope)
		if j.Label != "" && j.Label != dev {
			body += " " + j.Label
		}
	case ev.Route != nil:
		j := toRouteJSON(ev.Route, &routeView{allTables: true, details: a.details, names: names})
		body = strings.ReplaceAll(strings.TrimRight(j.text(), "\n"), "\n", " ")
	case ev.Neighbor != nil:
		j := toNeighJSON(ev.Neighbor, names, ipn, true)
		body = j.Dst
		if j.Dev != "" {
			body += " dev " + j.Dev
		}
		if j.LLAddr != nil {
			body += " lladdr " + *j.LLAddr
		}
		if len(j.State) > 0 {
			body += " " + strings.Join(j.State, ",")
		}
	case ev.Rule != nil:
		sel, act := ruleText(toRuleJSON(ev.Rule, ipn, a.details))
		body = strings.TrimSpace(sel + " " + act)
	}
	tag := "[" + strings.ToUpper(ev.Kind()) + "] "
	if ev.Deleted {
		return tag + "Deleted " + body
	}
	return tag + body
}
