package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/ids"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nfqueue"
)

// idsOpts are the options of `nlkit ids`.
type idsOpts struct {
	queue       string
	rules       string
	eve         string
	evePayload  bool
	failOpen    bool
	maxLen      uint32
	install     string
	match       []string
	hooks       string
	vars        []string
	first, last uint16
}

func newIDSCmd(a *app) *cobra.Command {
	o := &idsOpts{}
	cmd := &cobra.Command{
		Use:   "ids --queue N[:M] --rules FILE [--eve FILE] [--fail-open] [--install-rule nft|iptables [--match \"...\"]]",
		Short: "Inline intrusion detection on NFQUEUE with Suricata/Snort rules",
		Long: `Inspect the packets netfilter sends to NFQUEUE queue N (or queues N to M,
one socket and goroutine each) with rules in the Suricata/Snort language:
drop the packets a drop rule matches, accept the rest, and write one
Suricata EVE JSON line (event_type "alert") per matching alert or drop
rule, to --eve FILE (default: standard output), readable by every tool
that reads Suricata's eve.json.

Rules (a subset of Suricata's; see the ids package documentation):
  ACTION PROTO SRC SPORT -> DST DPORT (OPTIONS)
  actions alert, drop, pass; protocols ip, tcp, udp, icmp; addresses and
  ports as any, 10.0.0.0/8, [list], !negation, ranges 1024: and 80:90,
  $VARIABLES; -> or <>; options msg, sid, rev, gid, classtype, priority,
  content (with nocase, offset, depth, distance, within, fast_pattern,
  |41 42| hex, !negation), pcre ("/re/ism", Go RE2 syntax), reference and
  metadata (kept, not used). A line nlkit cannot use is an error naming the
  line and option: nothing is skipped silently. HOME_NET and EXTERNAL_NET
  default to any; set variables with --var NAME=VALUE or "var NAME VALUE"
  lines in the rules file.

nlkit ids changes no firewall rule unless --install-rule asks: then it adds
NFQUEUE rules for the --hook chains (iptables and ip6tables, or an nft
table) sending the traffic --match selects to the queue(s), in the
namespace it runs in (-n), and removes them on exit, SIGINT and SIGTERM.
This kernel's nftables needs nft_queue (CONFIG_NFT_QUEUE) for "nft".

Signals: SIGUSR1 prints the counters (also printed on exit) to standard
error; SIGHUP reloads the rules file without stopping traffic (a file with
errors is refused and the old rules stay).

When nlkit falls behind: each queue holds at most --maxlen packets waiting
for a verdict. Past that the kernel drops new packets (counted as
queue_dropped), or with --fail-open accepts them uninspected (the kernel
counts those nowhere). If the socket's receive buffer overruns, the
packets that did not fit are dropped (user_dropped), or accepted with
--fail-open; nlkit counts them as "lost" from the gaps in packet IDs. With
--fail-open the installed rules also get the bypass flag, so traffic keeps
flowing if nlkit dies.

Examples:
  nlkit ids --queue 0 --rules local.rules
  nlkit ids --queue 0:3 --rules local.rules --eve /var/log/eve.json --fail-open
  nlkit -n blue ids -q 5 -r local.rules --install-rule iptables --match "-p tcp --dport 80" --match "-p udp"
  nlkit ids -q 1 -r local.rules --var HOME_NET=10.0.0.0/8 --hook input,forward --install-rule nft --match "tcp dport 80"

  # local.rules
  drop tcp any any -> $HOME_NET 23 (msg:"telnet"; sid:1000001; rev:1;)
  alert udp any any -> any 53 (msg:"DNS query for evil"; content:"|04|evil"; nocase; classtype:trojan-activity; sid:1000002;)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			return a.ids(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.queue, "queue", "q", "", "queue `N`, or N:M for queues N to M (one socket each)")
	f.StringVarP(&o.rules, "rules", "r", "", "rules `FILE` (Suricata/Snort syntax)")
	f.StringVar(&o.eve, "eve", "-", "write EVE JSON alerts to `FILE` (- for standard output), appending")
	f.BoolVar(&o.evePayload, "eve-payload", false, "add the payload to alerts (payload, payload_printable)")
	f.BoolVar(&o.failOpen, "fail-open", false, "accept packets the queue cannot hold (NFQA_CFG_F_FAIL_OPEN); bypass installed rules")
	f.Uint32Var(&o.maxLen, "maxlen", 0, "packets that may wait for a verdict per queue (default: the kernel's 1024)")
	f.StringVar(&o.install, "install-rule", "", "add NFQUEUE rules while running, with `TOOL`: nft or iptables")
	f.StringArrayVar(&o.match, "match", nil, "with --install-rule: what to queue, in the tool's syntax (`EXPR`, split on spaces); repeatable, one rule each (default: everything)")
	f.StringVar(&o.hooks, "hook", "input", "with --install-rule: `HOOKS` to queue from: input, output, forward (comma-separated)")
	f.StringArrayVar(&o.vars, "var", nil, "set a rule variable: `NAME=VALUE` (HOME_NET=10.0.0.0/8); repeatable")
	return cmd
}

// check validates the options before anything is opened.
func (o *idsOpts) check() error {
	if o.queue == "" {
		return errors.New("ids: missing --queue N[:M]")
	}
	var err error
	if o.first, o.last, err = parseQueueRange(o.queue); err != nil {
		return fmt.Errorf("ids: --queue %q: %w", o.queue, err)
	}
	if o.rules == "" {
		return errors.New("ids: missing --rules FILE")
	}
	switch o.install {
	case "", "nft", "iptables":
	default:
		return fmt.Errorf("ids: --install-rule %q: want nft or iptables", o.install)
	}
	if len(o.match) > 0 && o.install == "" {
		return errors.New("ids: --match needs --install-rule")
	}
	if _, err := parseHooks(o.hooks); err != nil {
		return fmt.Errorf("ids: --hook: %w", err)
	}
	for _, v := range o.vars {
		if name, _, ok := strings.Cut(v, "="); !ok || name == "" {
			return fmt.Errorf("ids: --var %q: want NAME=VALUE", v)
		}
	}
	return nil
}

// parseQueueRange parses "N" or "N:M".
func parseQueueRange(s string) (uint16, uint16, error) {
	lo, hi, isRange := strings.Cut(s, ":")
	first, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return 0, 0, errors.New("want a queue number from 0 to 65535, or N:M")
	}
	last := first
	if isRange {
		if last, err = strconv.ParseUint(hi, 10, 16); err != nil {
			return 0, 0, errors.New("want a queue number from 0 to 65535, or N:M")
		}
		if last < first {
			return 0, 0, fmt.Errorf("range %d:%d is empty", first, last)
		}
	}
	return uint16(first), uint16(last), nil
}

func parseHooks(s string) ([]string, error) {
	var out []string
	for _, h := range strings.Split(s, ",") {
		switch h = strings.ToLower(strings.TrimSpace(h)); h {
		case "input", "output", "forward":
			out = append(out, h)
		default:
			return nil, fmt.Errorf("unknown hook %q (want input, output or forward)", h)
		}
	}
	return out, nil
}

// loadRules parses the rules file with the --var variables.
func (o *idsOpts) loadRules() (*ids.Engine, error) {
	vars := map[string]string{}
	for _, v := range o.vars {
		name, value, _ := strings.Cut(v, "=")
		vars[strings.TrimPrefix(name, "$")] = value
	}
	rs, err := ids.ParseFile(o.rules, &ids.Options{Vars: vars})
	if err != nil {
		return nil, err
	}
	return ids.NewEngine(rs), nil
}

// idsCounters is the counters report (JSON with -j).
type idsCounters struct {
	Packets      uint64 `json:"packets"`
	Accepted     uint64 `json:"accepted"`
	Dropped      uint64 `json:"dropped"`
	Alerts       uint64 `json:"alerts"`
	Passed       uint64 `json:"passed"`
	Undecodable  uint64 `json:"undecodable"`
	Lost         uint64 `json:"lost"`
	QueueDropped uint64 `json:"queue_dropped"`
	UserDropped  uint64 `json:"user_dropped"`
	Waiting      uint64 `json:"waiting"`
	Rules        int    `json:"rules"`
}

func (a *app) ids(ctx context.Context, o *idsOpts) error {
	// Catch the signals before anything else, so that an early one does
	// not kill the process (their default action) with rules installed.
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGHUP, syscall.SIGUSR1)
	defer signal.Stop(sig)
	engine, err := o.loadRules()
	if err != nil {
		return err
	}
	var eveOut io.Writer = a.out
	if o.eve != "-" {
		f, err := os.OpenFile(o.eve, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			return fmt.Errorf("ids: --eve: %w", err)
		}
		defer f.Close()
		eveOut = f
	}
	eve := ids.NewEVEWriter(eveOut)
	eve.Payload = o.evePayload
	defer eve.Flush()
	det := ids.NewDetector(engine, eve)

	cfg := nfqueue.Config{MaxLen: o.maxLen}
	if o.failOpen {
		cfg.Flags |= nfqueue.FailOpen
	}
	qs, err := nfqueue.OpenRange(ctx, o.first, o.last, cfg, a.config())
	if err != nil {
		return err
	}
	defer func() {
		for _, q := range qs {
			q.Close()
		}
	}()
	var fw *firewall
	removeRules := func() {
		if fw == nil {
			return
		}
		if err := fw.remove(); err != nil {
			fmt.Fprintf(a.errOut, "nlkit: ids: %s\n", describeError(err))
		}
		fw = nil
	}
	if o.install != "" {
		fw = &firewall{a: a, o: o}
		if err := fw.install(ctx); err != nil {
			return err
		}
		defer removeRules()
	}
	fmt.Fprintf(a.errOut, "nlkit ids: %d rules, queue %s: inspecting\n", len(engine.Rules()), o.queue)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, len(qs))
	var lostMu sync.Mutex
	for _, q := range qs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.idsLoop(ctx, q, det, &lostMu); err != nil {
				errc <- err
				cancel()
			}
		}()
	}
	flush := time.NewTicker(200 * time.Millisecond)
	defer flush.Stop()
	var loopErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-flush.C:
			if err := eve.Flush(); err != nil {
				loopErr = err
				cancel()
			}
		case s := <-sig:
			switch s {
			case syscall.SIGHUP:
				e, err := o.loadRules()
				if err != nil {
					fmt.Fprintf(a.errOut, "nlkit ids: reload: %s; keeping the %d rules in use\n", describeError(err), len(det.Engine().Rules()))
					continue
				}
				det.Swap(e)
				fmt.Fprintf(a.errOut, "nlkit ids: reloaded %d rules\n", len(e.Rules()))
			case syscall.SIGUSR1:
				_ = eve.Flush()
				a.printIDSCounters(det, qs)
			}
		}
	}
	// The kernel's counters vanish with the queues: read them first.
	a.printIDSCounters(det, qs)
	// Stop diverting traffic before the queues go: closing a queue drops
	// the packets still waiting in it, and new packets sent to a queue
	// nobody reads are dropped unless the rule has the bypass flag.
	removeRules()
	for _, q := range qs {
		q.Close()
	}
	wg.Wait()
	select {
	case err := <-errc:
		if loopErr == nil {
			loopErr = err
		}
	default:
	}
	return loopErr
}

// idsLoop inspects the packets of one queue until ctx ends.
func (a *app) idsLoop(ctx context.Context, q *nfqueue.Queue, det *ids.Detector, mu *sync.Mutex) error {
	w := det.NewWorker()
	names := newIfNames(a)
	defer names.close()
	var lastErr error
	for p, err := range q.Packets(ctx) {
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var le *nfqueue.LostError
			var oe *netlink.OpError
			var errno syscall.Errno
			switch {
			case errors.As(err, &le):
				continue // counted in the queue's Stats
			case errors.As(err, &oe) && oe.Sequence != 0 && errors.As(oe.Err, &errno):
				// The kernel refused a verdict (it no longer had the
				// packet): report it and go on.
				fmt.Fprintf(a.errOut, "nlkit ids: %s\n", describeError(err))
				continue
			}
			// Fatal errors end the stream; others (an undecodable
			// message, an overrun) do not.
			lastErr = err
			fmt.Fprintf(a.errOut, "nlkit ids: %s\n", describeError(err))
			continue
		}
		iface := ""
		if p.InDev != 0 {
			iface = names.name(ctx, int32(p.InDev))
		}
		v := nfqueue.Accept
		if w.Inspect(p.Payload, p.Timestamp, iface) == ids.Drop {
			v = nfqueue.Drop
		}
		if err := q.SetVerdict(p.ID, v); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return lastErr
}

// printIDSCounters writes the counters to standard error: a line of text,
// or a JSON object with -j.
func (a *app) printIDSCounters(det *ids.Detector, qs []*nfqueue.Queue) {
	c := det.Counters()
	out := idsCounters{
		Packets: c.Packets, Accepted: c.Accepted, Dropped: c.Dropped, Alerts: c.Alerts,
		Passed: c.Passed, Undecodable: c.Undecodable, Rules: len(det.Engine().Rules()),
	}
	for _, q := range qs {
		out.Lost += q.Stats().Lost
		if ks, err := q.KernelStats(a.config()); err == nil {
			out.QueueDropped += uint64(ks.QueueDropped)
			out.UserDropped += uint64(ks.UserDropped)
			out.Waiting += uint64(ks.Waiting)
		}
	}
	if a.json {
		sa := *a
		sa.out = a.errOut
		_ = sa.printJSON(out)
		return
	}
	fmt.Fprintf(a.errOut, "nlkit ids: packets %d accepted %d dropped %d alerts %d passed %d undecodable %d lost %d kernel: queue_dropped %d user_dropped %d waiting %d\n",
		out.Packets, out.Accepted, out.Dropped, out.Alerts, out.Passed, out.Undecodable, out.Lost, out.QueueDropped, out.UserDropped, out.Waiting)
}

// firewall adds and removes the NFQUEUE rules of --install-rule by
// running nft or iptables in the namespace nlkit runs in.
type firewall struct {
	a     *app
	o     *idsOpts
	added [][]string // commands that undo what was added, in order
}

// tool runs a firewall command in the namespace, returning its output.
func (f *firewall) tool(args ...string) (string, error) {
	name := args[0]
	if f.a.netns != "" {
		args = append([]string{"ip", "netns", "exec", f.a.netns}, args...)
	}
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("%s is not installed: %w", name, err)
		}
		return string(out), fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func (f *firewall) install(ctx context.Context) error {
	hooks, _ := parseHooks(f.o.hooks)
	matches := [][]string{nil}
	if len(f.o.match) > 0 {
		matches = nil
		for _, m := range f.o.match {
			matches = append(matches, strings.Fields(m))
		}
	}
	if f.o.install == "iptables" {
		target := []string{"-j", "NFQUEUE"}
		if f.o.first == f.o.last {
			target = append(target, "--queue-num", strconv.Itoa(int(f.o.first)))
		} else {
			target = append(target, "--queue-balance", fmt.Sprintf("%d:%d", f.o.first, f.o.last), "--queue-cpu-fanout")
		}
		if f.o.failOpen {
			target = append(target, "--queue-bypass")
		}
		comment := []string{"-m", "comment", "--comment", fmt.Sprintf("nlkit ids %d", os.Getpid())}
		var errs []error
		for _, tool := range []string{"iptables", "ip6tables"} {
			for _, h := range hooks {
				for _, match := range matches {
					spec := append(append(append([]string{strings.ToUpper(h)}, match...), comment...), target...)
					if _, err := f.tool(append([]string{tool, "-w", "-I"}, spec...)...); err != nil {
						errs = append(errs, err)
						continue
					}
					f.added = append(f.added, append([]string{tool, "-w", "-D"}, spec...))
				}
			}
		}
		if len(f.added) == 0 {
			return fmt.Errorf("ids: --install-rule iptables: %w", errors.Join(errs...))
		}
		for _, err := range errs {
			// A match only one family understands (-s 10.0.0.0/8).
			fmt.Fprintf(f.a.errOut, "nlkit ids: warning: %v\n", err)
		}
		return nil
	}
	table := fmt.Sprintf("nlkit_ids_%d", os.Getpid())
	var b strings.Builder
	fmt.Fprintf(&b, "add table inet %s\n", table)
	queue := fmt.Sprintf("queue num %d", f.o.first)
	if f.o.first != f.o.last {
		queue = fmt.Sprintf("queue num %d-%d fanout", f.o.first, f.o.last)
	}
	if f.o.failOpen {
		queue += " bypass"
	}
	for _, h := range hooks {
		fmt.Fprintf(&b, "add chain inet %s %s { type filter hook %s priority 0; }\n", table, h, h)
		for _, match := range matches {
			fmt.Fprintf(&b, "add rule inet %s %s %s\n", table, h, strings.Join(append(append([]string(nil), match...), queue), " "))
		}
	}
	cmd := exec.CommandContext(ctx, "nft", "-f", "-")
	if f.a.netns != "" {
		cmd = exec.CommandContext(ctx, "ip", "netns", "exec", f.a.netns, "nft", "-f", "-")
	}
	cmd.Stdin = strings.NewReader(b.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("ids: --install-rule nft: nft is not installed: %w", err)
		}
		msg := nftError(string(out))
		hint := ""
		if strings.Contains(msg, "queue") && strings.Contains(msg, "No such file") {
			hint = " (this kernel lacks nft_queue, CONFIG_NFT_QUEUE; use --install-rule iptables)"
		}
		return fmt.Errorf("ids: --install-rule nft: %s%s (%w)", msg, hint, err)
	}
	f.added = append(f.added, []string{"nft", "delete", "table", "inet", table})
	return nil
}

// remove undoes install.
func (f *firewall) remove() error {
	var errs []error
	for i := len(f.added) - 1; i >= 0; i-- {
		if _, err := f.tool(f.added[i]...); err != nil {
			errs = append(errs, err)
		}
	}
	f.added = nil
	if len(errs) > 0 {
		return fmt.Errorf("remove installed rules: %w", errors.Join(errs...))
	}
	return nil
}

// nftError makes nft's error output one line: the first error and the
// command it was about ("Could not process rule: ...: add rule ...").
func nftError(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i, l := range lines {
		if _, e, ok := strings.Cut(l, "Error: "); ok {
			if i+1 < len(lines) {
				return e + ": " + strings.TrimSpace(lines[i+1])
			}
			return e
		}
	}
	return strings.Join(strings.Fields(out), " ")
}
