package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/rtnl"
)

// app holds the global options and output streams of one invocation.
type app struct {
	json      bool
	pretty    bool
	details   bool
	netns     string
	batchFile string // -batch FILE
	force     bool   // -force: go on after errors in a batch
	out       io.Writer
	errOut    io.Writer

	// batchClient, when set, is the Client of a running batch: changes
	// are queued on it instead of sent one by one.
	batchClient *rtnl.Client
}

// config returns the netlink configuration the global options ask for.
func (a *app) config() *netlink.Config {
	return &netlink.Config{NetNS: a.netns}
}

// rtnl returns an rtnetlink client for one command; the caller closes it
// (closing a batch's client does nothing).
func (a *app) rtnl() (*rtnl.Client, error) {
	if a.batchClient != nil {
		return a.batchClient, nil
	}
	return rtnl.Dial(a.config())
}

// printJSON writes v as JSON, indented with --pretty.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.out)
	if a.pretty {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(v)
}

func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "nlkit",
		Short: "Linux netlink toolkit: interfaces, routes, events and more",
		Long: `nlkit talks netlink to the Linux kernel, as ip, ip monitor, ss,
conntrack and genl do, with JSON output throughout (-j).

Examples:
  nlkit link                 list interfaces (like ip link)
  nlkit -j link              the same as a JSON array (field names as ip -j)
  nlkit -n blue link         inside network namespace "blue" (like ip -n)
  nlkit -batch routes.txt    run the commands in a file, one per line, sent
                             in batches over one socket (like ip -batch);
                             stops at the first failing line unless -force

Set NLKIT_DEBUG=1 to print every netlink message sent and received.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().BoolVarP(&a.json, "json", "j", false, "print JSON")
	root.PersistentFlags().BoolVarP(&a.pretty, "pretty", "p", false, "indent JSON output")
	root.PersistentFlags().BoolVarP(&a.details, "details", "d", false, "show details, such as the link kind (as ip -d)")
	root.PersistentFlags().StringVarP(&a.netns, "netns", "n", "", "run inside network namespace `NAME` (as ip -n)")
	root.Flags().StringVarP(&a.batchFile, "batch", "b", "", "run commands from `FILE`, one per line (- for standard input)")
	root.Flags().BoolVar(&a.force, "force", false, "with -batch: go on after a failing line")
	root.Args = cobra.NoArgs
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if a.batchFile == "" {
			return cmd.Help()
		}
		return a.runBatch(cmd.Context(), a.batchFile)
	}
	root.AddCommand(newLinkCmd(a))
	root.AddCommand(newMonitorCmd(a))
	root.AddCommand(newAddrCmd(a))
	root.AddCommand(newNeighCmd(a))
	root.AddCommand(newRuleCmd(a))
	root.AddCommand(newRouteCmd(a))
	root.AddCommand(newHelloCmd(a))
	root.AddCommand(newGenlCmd(a))
	root.AddCommand(newIDSCmd(a), newNflogCmd(a))
	root.AddCommand(newCtCmd(a))
	root.AddCommand(newUeventCmd(a))
	root.AddCommand(newProcCmd(a), newSSCmd(a))
	root.AddCommand(newAuditCmd(a))
	root.AddCommand(newEthtoolCmd(a), newTaskstatsCmd(a))
	return root
}

// normalizeArgs accepts iproute2's single-dash long options (-json,
// -netns) as aliases of the double-dash ones.
func normalizeArgs(args []string) []string {
	long := map[string]bool{"-json": true, "-netns": true, "-pretty": true, "-help": true, "-batch": true, "-force": true, "-details": true}
	out := make([]string, len(args))
	for i, s := range args {
		name, _, _ := strings.Cut(s, "=")
		if long[name] {
			s = "-" + s
		}
		out[i] = s
	}
	return out
}

// needArgs is a cobra argument check that names what is missing.
func needArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return fmt.Errorf("%s: missing %s (usage: %s)", strings.TrimPrefix(cmd.CommandPath(), "nlkit "), what, cmd.UseLine())
		}
		return nil
	}
}

func run(args []string, stdout, stderr io.Writer) int {
	a := &app{out: stdout, errOut: stderr}
	root := newRoot(a)
	root.SetArgs(normalizeArgs(args))
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "nlkit: %s\n", describeError(err))
		return 1
	}
	return 0
}

// layerPrefix matches the package and operation prefixes library errors
// carry ("rtnl: ", "netlink execute: "), at the start of the message or
// of a wrapped part, and nowhere else (not inside kernel or user text).
// Packages named like their command (taskstats, uevent, audit, ethtool,
// nflog) keep their prefix: it tells the user which command spoke.
// Operations that say nothing to a user (execute, dump, ...) go whole;
// informative ones ("set option strict-check") keep all but "netlink".
var layerPrefix = regexp.MustCompile(`(^|: )(?:(?:rtnl|genl|netfilter|conntrack|nfqueue|connector|sockdiag|netlink (?:execute|dump|batch|receive|send|dial)): |netlink ((?:set|get|join|leave|close) ))`)

// describeError turns an error into a sentence a user can act on.
func describeError(err error) string {
	// Library errors carry their layers ("rtnl: add link: netlink execute:
	// ..."); a user needs what failed and why.
	msg := layerPrefix.ReplaceAllString(err.Error(), "${1}${2}")
	switch {
	case (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES)) && !strings.Contains(msg, "CAP_") && !strings.Contains(msg, "needs root"):
		// Families that know the capability they need say so themselves.
		msg += " (this needs root or CAP_NET_ADMIN)"
	case errors.Is(err, os.ErrNotExist) && strings.Contains(msg, "network namespace"):
		msg += " (see `ip netns list`)"
	}
	return msg
}
