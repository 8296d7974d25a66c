package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/uevent"
)

// ueventOpts are the options of `nlkit uevent monitor`.
type ueventOpts struct {
	subsystems []string
	devtypes   []string
	properties []string
	kernel     bool
	udev       bool
	count      int
}

// ueventError shows a library error as the command's own: the "uevent: "
// layer is dropped from the text; errors.Is still sees the error.
type ueventError struct {
	prefix string
	err    error
}

func (e *ueventError) Error() string {
	return e.prefix + strings.TrimPrefix(e.err.Error(), "uevent: ")
}

func (e *ueventError) Unwrap() error { return e.err }

// options checks the command line and returns the subscription options;
// rejections are reported on stderr with -d.
func (o *ueventOpts) options(a *app, args []string) (*uevent.Options, error) {
	const cmd = "uevent monitor: "
	if len(args) > 0 {
		return nil, fmt.Errorf("%sunknown argument %q (filters are flags: --subsystem, --devtype, --property; see nlkit uevent monitor --help)", cmd, args[0])
	}
	if o.count < 0 {
		return nil, fmt.Errorf("%s--count %d: want a number of events, 0 for no limit", cmd, o.count)
	}
	opts := &uevent.Options{Filter: uevent.Filter{Subsystems: o.subsystems, DevTypes: o.devtypes}}
	for _, p := range o.properties {
		m, err := uevent.ParseMatch(p)
		if err != nil {
			return nil, &ueventError{cmd, err}
		}
		opts.Filter.Properties = append(opts.Filter.Properties, m)
	}
	if err := opts.Filter.Validate(); err != nil {
		return nil, &ueventError{cmd, err}
	}
	if o.kernel || !o.udev {
		opts.Groups = append(opts.Groups, uevent.GroupKernel)
	}
	if o.udev {
		opts.Groups = append(opts.Groups, uevent.GroupUdev)
	}
	if a.details {
		opts.OnReject = func(from netlink.Addr, reason error) {
			fmt.Fprintf(a.errOut, "nlkit: %s\n", (&ueventError{cmd, reason}).Error())
		}
	}
	return opts, nil
}

func newUeventCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "uevent monitor [flags]",
		Short: "Kernel device events, what udev listens to (like udevadm monitor)",
		Long: `Kernel uevents: the messages the kernel sends for every device that
is added, removed, changed, renamed (move), brought online or offline, or
bound to or unbound from a driver, and that udev listens to. See
nlkit uevent monitor --help.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("uevent: unknown command %q (want monitor)", args[0])
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(newUeventMonitorCmd(a))
	return cmd
}

func newUeventMonitorCmd(a *app) *cobra.Command { return ueventMonitorCmd(a, &ueventOpts{}) }

// ueventMonitorCmd is `uevent monitor` with its flags bound to o.
func ueventMonitorCmd(a *app, o *ueventOpts) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "monitor [--subsystem NAME] [--devtype TYPE] [--property KEY=VALUE] [--kernel] [--udev] [-c N]",
		Short: "Print device events as they happen (like udevadm monitor --kernel --property)",
		Long: `Print the kernel's uevents as they arrive, until interrupted, as
udevadm monitor --kernel --property does: a line with the source, the
time (CLOCK_MONOTONIC, seconds since boot), the action, the device path
and the subsystem, then every property, indented, and an empty line.

  KERNEL[5120.327021] add      /devices/virtual/net/veth0 (net)
    ACTION=add
    DEVPATH=/devices/virtual/net/veth0
    SUBSYSTEM=net
    INTERFACE=veth0
    IFINDEX=4
    SEQNUM=2754

With --udev, print the events udevd sends after running its rules (with
the properties they added; UDEV[...] lines) instead; with --kernel --udev,
both. udevd must run in the same network namespace.

Events of network devices are seen only in the namespace that owns the
device (-n NAME); other devices' events are seen in every namespace.

Filters (the kernel has none; nlkit applies them): --subsystem and
--devtype may be repeated and match any of their values; --property
KEY=VALUE may be repeated and must all match, the value being a shell
glob as in udev rules (* matches / too).

Messages that do not come from the kernel (or, with --udev, from a root
process with udevd's header) are rejected: a process can forge uevents.
-d prints each rejection on standard error; a count is printed at the end.

With -j each event is one JSON object per line: timestamp, source
("kernel" or "udev"), action, devpath, subsystem, devtype, seqnum and
properties (an object). Lost events (receive buffer overrun) give a line
{"lost": true, ...} and monitoring goes on.

Examples:
  nlkit uevent monitor
  nlkit uevent monitor --subsystem net
  nlkit -n blue uevent monitor --property INTERFACE=veth*
  nlkit uevent monitor --subsystem block --devtype disk
  nlkit -j uevent monitor --udev -c 1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := o.options(a, args)
			if err != nil {
				return err
			}
			sub, err := uevent.Subscribe(a.config(), opts)
			if err != nil {
				return err
			}
			defer sub.Close()
			return ueventMonitor(cmd.Context(), a, sub, opts, o.count)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.subsystems, "subsystem", "s", nil, "only events of subsystem `NAME` (net, block, usb, ...); repeatable")
	f.StringArrayVar(&o.devtypes, "devtype", nil, "only events of device type `TYPE` (disk, partition, wlan, ...); repeatable")
	f.StringArrayVar(&o.properties, "property", nil, "only events with property `KEY=VALUE` (VALUE a glob); repeatable, all must match")
	f.BoolVarP(&o.kernel, "kernel", "k", false, "print the kernel's events (the default; with --udev, both)")
	f.BoolVarP(&o.udev, "udev", "u", false, "print udevd's events, after its rules ran")
	f.IntVarP(&o.count, "count", "c", 0, "stop after `N` events (0: no limit)")
	return cmd
}

// ueventJSON is one line of `nlkit -j uevent monitor`.
type ueventJSON struct {
	Timestamp  json.Number       `json:"timestamp"`
	Source     uevent.Source     `json:"source"`
	Action     uevent.Action     `json:"action"`
	DevPath    string            `json:"devpath"`
	Subsystem  string            `json:"subsystem"`
	DevType    string            `json:"devtype"`
	SeqNum     uint64            `json:"seqnum"`
	Properties map[string]string `json:"properties"`
}

// ueventLostJSON reports lost events in `nlkit -j uevent monitor`.
type ueventLostJSON struct {
	Lost    bool   `json:"lost"`
	Message string `json:"message"`
}

const ueventLostText = "events were lost (receive buffer overrun): state seen so far may be stale; read it again from /sys"

// seconds formats a monotonic time as udevadm does: seconds and
// microseconds.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%d.%06d", d/time.Second, (d%time.Second)/time.Microsecond)
}

// ueventMonitor prints events from sub until ctx ends, the socket fails
// or count events (if positive) were printed.
func ueventMonitor(ctx context.Context, a *app, sub *uevent.Subscription, opts *uevent.Options, count int) error {
	defer func() {
		if n := sub.Stats().Rejected; n > 0 {
			hint := " (-d shows each)"
			if a.details {
				hint = ""
			}
			fmt.Fprintf(a.errOut, "nlkit: uevent monitor: rejected %d message(s) from untrusted senders%s\n", n, hint)
		}
	}()
	if !a.json {
		fmt.Fprintln(a.out, "monitor will print the received events for:")
		for _, g := range opts.Groups {
			switch g {
			case uevent.GroupKernel:
				fmt.Fprintln(a.out, "KERNEL - the kernel uevent")
			case uevent.GroupUdev:
				fmt.Fprintln(a.out, "UDEV - the event which udev sends out after rule processing")
			}
		}
		fmt.Fprintln(a.out)
	}
	n := 0
	for {
		ev, err := sub.Next(ctx)
		switch {
		case errors.Is(err, netlink.ErrOverrun):
			if a.json {
				err = a.printJSON(ueventLostJSON{Lost: true, Message: ueventLostText})
			} else {
				_, err = fmt.Fprintf(a.out, "LOST: %s\n\n", ueventLostText)
			}
			if err != nil {
				return err
			}
			continue
		case errors.Is(err, uevent.ErrMalformed):
			fmt.Fprintf(a.errOut, "nlkit: uevent monitor: skipped: %s\n", strings.TrimPrefix(err.Error(), "uevent: "))
			continue
		case err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()):
			return nil // interrupted: the normal way to stop
		case err != nil:
			return err
		}
		if err := printUevent(a, &ev); err != nil {
			return err
		}
		if n++; count > 0 && n >= count {
			return nil
		}
	}
}

func printUevent(a *app, ev *uevent.Event) error {
	if a.json {
		j := ueventJSON{
			Timestamp: json.Number(seconds(ev.Received)), Source: ev.Source, Action: ev.Action,
			DevPath: ev.DevPath, Subsystem: ev.Subsystem, DevType: ev.DevType, SeqNum: ev.SeqNum,
			Properties: make(map[string]string, len(ev.Properties)),
		}
		for _, p := range ev.Properties {
			if _, dup := j.Properties[p.Key]; !dup { // the first, as Event.Get
				j.Properties[p.Key] = p.Value
			}
		}
		return a.printJSON(j)
	}
	var b strings.Builder
	subsystem := ev.Subsystem
	if subsystem == "" {
		subsystem = "n/a"
	}
	fmt.Fprintf(&b, "%-6s[%s] %-8s %s (%s)\n", strings.ToUpper(ev.Source.String()), seconds(ev.Received), ev.Action, ev.DevPath, subsystem)
	for _, p := range ev.Properties {
		fmt.Fprintf(&b, "  %s=%s\n", p.Key, p.Value)
	}
	b.WriteString("\n")
	_, err := fmt.Fprint(a.out, b.String())
	return err
}
