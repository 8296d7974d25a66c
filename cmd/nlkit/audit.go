package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/audit"
	"github.com/nlkit/nlkit/netlink"
)

// auditService is what the audit commands need of a client (an
// *audit.Client, or one on package audittest's fake kernel).
type auditService interface {
	Status(ctx context.Context) (audit.Status, error)
	SetStatus(ctx context.Context, s audit.Status) error
	Rules(ctx context.Context) ([]audit.Rule, error)
	AddRule(ctx context.Context, r audit.Rule) error
	DeleteRule(ctx context.Context, r audit.Rule) error
	DeleteAllRules(ctx context.Context) (int, error)
	Close() error
}

// auditError is an error of the audit commands whose text says all a
// user needs, privilege included: describeError must not add the
// CAP_NET_ADMIN hint it gives rtnetlink's EPERM, since audit needs
// CAP_AUDIT_CONTROL (the library's text says so).
type auditError struct{ msg string }

func (e *auditError) Error() string { return e.msg }

// auditErr rewords the errors whose errno would make describeError give
// the wrong hint; others pass as they are.
func auditErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		msg := err.Error()
		if !strings.Contains(msg, "CAP_AUDIT") {
			msg += " (this needs root or CAP_AUDIT_CONTROL)"
		}
		return &auditError{msg: msg}
	}
	return err
}

func (a *app) auditClient() (auditService, error) {
	c, err := audit.Dial(a.config())
	if err != nil {
		return nil, auditErr(err)
	}
	return c, nil
}

func newAuditCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit [status | set ... | rules ... | watch]",
		Short: "The kernel's audit subsystem: status, rules, records (like auditctl, auditd)",
		Long: `Talk to the kernel's audit subsystem (NETLINK_AUDIT) as auditctl and
auditd do: read and change its status, list, add and delete rules in
auditctl's syntax, and receive the records of audited events as the audit
daemon. Everything needs root (CAP_AUDIT_CONTROL), in the initial user and
PID namespaces.

Examples:
  nlkit audit                       the status (like auditctl -s)
  nlkit -j audit status             the status as a JSON object
  nlkit audit set enabled 1         enable auditing (auditctl -e 1)
  nlkit audit rules                 list the rules (auditctl -l)
  nlkit audit rules add -w /etc/passwd -p wa -k passwd
  nlkit audit rules add -a always,exit -F arch=b64 -S openat -k mykey
  nlkit audit rules del -w /etc/passwd -p wa -k passwd
  nlkit audit rules flush           delete every rule (auditctl -D)
  nlkit audit watch                 be the audit daemon: one JSON object per event`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAudit(cmd.Context(), a, auditStatus)
		},
	}
	cmd.AddCommand(newAuditStatusCmd(a), newAuditSetCmd(a), newAuditRulesCmd(a), newAuditWatchCmd(a))
	return cmd
}

// runAudit opens a client, runs f and closes it.
func runAudit(ctx context.Context, a *app, f func(context.Context, *app, auditService) error) error {
	c, err := a.auditClient()
	if err != nil {
		return err
	}
	defer c.Close()
	return auditErr(f(ctx, a, c))
}

func newAuditStatusCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Print the audit status (like auditctl -s)",
		Long: `Print the audit status as auditctl -s does, one "name value" line each:
enabled (0 off, 1 on, 2 locked), failure (0 silent, 1 printk, 2 panic),
the pid of the audit daemon (0: none), rate_limit, backlog_limit, lost,
backlog, backlog_wait_time (kernel ticks) and backlog_wait_time_actual.
With -j, a JSON object with the same names, feature_bitmap and the
features by name.

Examples:
  nlkit audit status
  nlkit -j audit status`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAudit(cmd.Context(), a, auditStatus)
		},
	}
}

// auditStatusJSON is `nlkit -j audit status`: auditctl -s's names, and
// the features by name.
type auditStatusJSON struct {
	audit.Status
	Features []string `json:"features"`
}

func auditStatus(ctx context.Context, a *app, c auditService) error {
	s, err := c.Status(ctx)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(auditStatusJSON{Status: s, Features: s.FeatureBitmap.Names()})
	}
	_, err = fmt.Fprintf(a.out, "enabled %d\nfailure %d\npid %d\nrate_limit %d\nbacklog_limit %d\nlost %d\nbacklog %d\nbacklog_wait_time %d\nbacklog_wait_time_actual %d\n",
		s.Enabled, s.Failure, s.PID, s.RateLimit, s.BacklogLimit, s.Lost, s.Backlog, s.BacklogWaitTime, s.BacklogWaitTimeActual)
	return err
}

func newAuditSetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "set [enabled 0|1|2] [failure 0|1|2] [rate_limit N] [backlog_limit N] [backlog_wait_time N]",
		Short: "Change the audit status (like auditctl -e, -f, -r, -b)",
		Long: `Change fields of the audit status, named as auditctl -s prints them:
  enabled 0|1|2            0 off, 1 on, 2 locked until reboot (auditctl -e)
  failure 0|1|2            0 silent, 1 printk, 2 panic (auditctl -f)
  rate_limit N             records per second, 0 for no limit (auditctl -r)
  backlog_limit N          records waiting for the daemon (auditctl -b)
  backlog_wait_time N      kernel ticks to wait for room in the backlog
A locked configuration refuses every change.

Examples:
  nlkit audit set enabled 1
  nlkit audit set enabled 1 backlog_limit 8192 rate_limit 0`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
				return cmd.Help()
			}
			s, err := parseAuditSet(args)
			if err != nil {
				return err
			}
			return runAudit(cmd.Context(), a, func(ctx context.Context, a *app, c auditService) error {
				return c.SetStatus(ctx, s)
			})
		},
	}
}

// parseAuditSet reads "enabled 1 failure 1 ..." into a Status and its mask.
func parseAuditSet(args []string) (audit.Status, error) {
	w := newWords("audit set", args)
	var s audit.Status
	if !w.more() {
		return s, errors.New("audit set: nothing to set: want enabled, failure, rate_limit, backlog_limit or backlog_wait_time and a value")
	}
	for w.more() {
		key := w.next()
		var bits int
		var mask audit.StatusMask
		switch key {
		case "enabled":
			bits, mask = 2, audit.StatusEnabled
		case "failure":
			bits, mask = 2, audit.StatusFailure
		case "rate_limit":
			bits, mask = 32, audit.StatusRateLimit
		case "backlog_limit":
			bits, mask = 32, audit.StatusBacklogLimit
		case "backlog_wait_time":
			bits, mask = 32, audit.StatusBacklogWaitTime
		default:
			return s, w.unknown(key)
		}
		if s.Mask&mask != 0 {
			return s, fmt.Errorf("audit set: %s given twice", key)
		}
		v, err := w.uint(key, 32)
		if err != nil {
			return s, err
		}
		if bits == 2 && v > 2 {
			return s, fmt.Errorf("audit set: %s %d: want 0, 1 or 2", key, v)
		}
		s.Mask |= mask
		switch mask {
		case audit.StatusEnabled:
			s.Enabled = audit.EnabledState(v)
		case audit.StatusFailure:
			s.Failure = audit.FailureMode(v)
		case audit.StatusRateLimit:
			s.RateLimit = uint32(v)
		case audit.StatusBacklogLimit:
			s.BacklogLimit = uint32(v)
		case audit.StatusBacklogWaitTime:
			s.BacklogWaitTime = uint32(v)
		}
	}
	return s, nil
}

func newAuditRulesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules [list | add RULE | del RULE | flush]",
		Short: "List, add and delete audit rules (like auditctl -l, -a, -w, -d, -W, -D)",
		Long: `List the audit rules in the syntax auditctl -l prints, one per line ("No
rules" if there are none), or, with -j, as a JSON array. add and del take
a rule in auditctl's syntax (see nlkit audit rules add --help).

Examples:
  nlkit audit rules
  nlkit -j audit rules
  nlkit audit rules add -w /etc/passwd -p wa -k passwd
  nlkit audit rules del -w /etc/passwd -p wa -k passwd
  nlkit audit rules flush`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAudit(cmd.Context(), a, auditRules)
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the rules (like auditctl -l)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAudit(cmd.Context(), a, auditRules)
		},
	}
	flush := &cobra.Command{
		Use:   "flush",
		Short: "Delete every rule (like auditctl -D)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAudit(cmd.Context(), a, func(ctx context.Context, a *app, c auditService) error {
				n, err := c.DeleteAllRules(ctx)
				if err != nil {
					return err
				}
				if !a.json {
					_, err = fmt.Fprintf(a.out, "deleted %d rules\n", n)
				}
				return err
			})
		},
	}
	cmd.AddCommand(list, newAuditRuleChangeCmd(a, "add"), newAuditRuleChangeCmd(a, "del"), flush)
	return cmd
}

// auditRuleFieldJSON is one comparison of a rule in `nlkit -j audit rules`.
type auditRuleFieldJSON struct {
	Field string `json:"field"`
	Op    string `json:"op"`
	Value string `json:"value"`
}

// auditRuleJSON is one rule in `nlkit -j audit rules`; auditctl has no JSON
// output, so the names follow its words: the rule as auditctl -l prints
// it, the list, the action, the syscalls (names where known, "all") and
// the fields with their values as auditctl writes them.
type auditRuleJSON struct {
	Rule     string               `json:"rule"`
	List     string               `json:"list"`
	Action   string               `json:"action"`
	Syscalls []string             `json:"syscalls"`
	Fields   []auditRuleFieldJSON `json:"fields"`
	Keys     []string             `json:"keys"`
}

func toAuditRuleJSON(r audit.Rule) auditRuleJSON {
	j := auditRuleJSON{Rule: r.String(), List: r.Filter.String(), Action: r.Action.String(),
		Syscalls: []string{}, Fields: []auditRuleFieldJSON{}, Keys: r.Keys()}
	if j.Keys == nil {
		j.Keys = []string{}
	}
	arch := r.Arch()
	if arch == 0 {
		arch = audit.NativeArch()
	}
	if r.Syscalls.All() {
		j.Syscalls = append(j.Syscalls, "all")
	} else {
		for _, nr := range r.Syscalls.Numbers() {
			name := audit.SyscallName(arch, nr)
			if name == "" {
				name = strconv.Itoa(nr)
			}
			j.Syscalls = append(j.Syscalls, name)
		}
	}
	for _, f := range r.Fields {
		j.Fields = append(j.Fields, auditRuleFieldJSON{Field: f.Field.String(), Op: f.Op.String(), Value: f.ValueString()})
	}
	return j
}

func auditRules(ctx context.Context, a *app, c auditService) error {
	rules, err := c.Rules(ctx)
	if err != nil {
		return err
	}
	if a.json {
		out := make([]auditRuleJSON, 0, len(rules))
		for _, r := range rules {
			out = append(out, toAuditRuleJSON(r))
		}
		return a.printJSON(out)
	}
	if len(rules) == 0 {
		_, err := fmt.Fprintln(a.out, "No rules")
		return err
	}
	for _, r := range rules {
		if _, err := fmt.Fprintln(a.out, r.String()); err != nil {
			return err
		}
	}
	return nil
}

// auditRuleParser is the parser the CLI uses: the machine's architecture, and
// a -w path that is a directory watched as a tree, as auditctl does.
func auditRuleParser() *audit.RuleParser {
	return &audit.RuleParser{IsDir: func(p string) bool {
		fi, err := os.Stat(p)
		return err == nil && fi.IsDir()
	}}
}

func newAuditRuleChangeCmd(a *app, op string) *cobra.Command {
	short, verb := "Add a rule (like auditctl -a, -w)", "add"
	if op == "del" {
		short, verb = "Delete a rule (like auditctl -d, -W)", "delete"
	}
	return &cobra.Command{
		Use:   op + " RULE",
		Short: short,
		Long: fmt.Sprintf(`%s a rule, written as for auditctl (and as nlkit audit rules prints it):

  -w PATH [-p PERMS] [-k KEY]      watch a file, or a directory tree; PERMS
                                   are r, w, x and a (attributes), default rwxa
  -a LIST,ACTION [-S SYSCALL[,SYSCALL]] [-F FIELD OP VALUE]... [-k KEY]
                                   LIST exit, task, user, exclude, filesystem
                                   or io_uring; ACTION always or never
  -A LIST,ACTION ...               the same, at the front of the list

SYSCALL is a name of the rule's arch (-F arch=b64 or b32; else the
machine's), a number or all. FIELD OP VALUE has no spaces: auid>=1000,
auid!=unset, exit=-EACCES, success=0, path=/etc/shadow, perm=wa, key=k.
To delete a rule, give it as it was added (or as nlkit audit rules prints
it); -d and -W may stand for -a and -w.

Examples:
  nlkit audit rules %[2]s -w /etc/passwd -p wa -k passwd
  nlkit audit rules %[2]s -a always,exit -F arch=b64 -S openat -k mykey
  nlkit audit rules %[2]s -a always,exit -F arch=b64 -S unlink,unlinkat -F auid>=1000 -F auid!=unset -k delete`,
			strings.ToUpper(verb[:1])+verb[1:], op),
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
				return cmd.Help()
			}
			r, err := parseAuditRule(op, args)
			if err != nil {
				return err
			}
			return runAudit(cmd.Context(), a, func(ctx context.Context, a *app, c auditService) error {
				return auditRuleChange(ctx, c, op, r)
			})
		},
	}
}

// parseAuditRule reads the rule of `nlkit audit rules add|del`.
func parseAuditRule(op string, args []string) (audit.Rule, error) {
	if len(args) == 0 {
		return audit.Rule{}, fmt.Errorf("audit rules %s: missing rule (usage: nlkit audit rules %s -w PATH -p PERMS -k KEY, or -a always,exit -S SYSCALL -k KEY)", op, op)
	}
	r, err := auditRuleParser().Parse(args)
	if err != nil {
		return audit.Rule{}, fmt.Errorf("audit rules %s: %w", op, err)
	}
	return r, nil
}

// auditRuleChange adds (op "add") or deletes a rule.
func auditRuleChange(ctx context.Context, c auditService, op string, r audit.Rule) error {
	if op == "del" {
		return c.DeleteRule(ctx, r)
	}
	return c.AddRule(ctx, r)
}

// auditWatchOpts are the options of `nlkit audit watch`.
type auditWatchOpts struct {
	count   int
	readLog bool
	log     bool
	maxAge  time.Duration
	rcvbuf  int
}

func newAuditWatchCmd(a *app) *cobra.Command {
	o := &auditWatchOpts{}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Be the audit daemon: print one JSON object per event",
		Long: `Register as the audit daemon, as auditd does, and print each event the
kernel sends: one JSON object per line, {"serial":N,"time":"...",
"records":[{"type":"SYSCALL","fields":{...}},...]}, the records of one
serial grouped (an event ends at its EOE record; a record of a type that
is never part of a syscall event is an event by itself; an event without
EOE is printed once no record came for it for --max-age). Hex-encoded
values (proctitle, names with spaces) are decoded. With --log, the records
are printed as auditd writes audit.log, one line each.

The kernel takes one daemon: if auditd runs, registering fails; then
--readlog listens to the read-log multicast group instead (as journald
does), which needs CAP_AUDIT_READ and changes nothing. On exit (Ctrl-C,
or after -c events) the daemon unregisters, and the kernel goes back to
logging records to the kernel log. Records are sent only for audited
events: auditing must be enabled (nlkit audit set enabled 1) and rules
must match.

Examples:
  nlkit audit watch
  nlkit audit watch -c 1
  nlkit audit watch --readlog --log`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.count < 0 {
				return fmt.Errorf("audit watch: -c %d: want a number of events, 0 for no limit", o.count)
			}
			if o.maxAge < 0 {
				return fmt.Errorf("audit watch: --max-age %v: want a positive duration", o.maxAge)
			}
			if o.rcvbuf < 0 {
				return fmt.Errorf("audit watch: --rcvbuf %d: want a size in bytes", o.rcvbuf)
			}
			ctx := cmd.Context()
			cfg := a.config()
			if o.rcvbuf > 0 {
				cfg.ReceiveBuffer, cfg.ForceReceiveBuffer = o.rcvbuf, true
			}
			var l *audit.Listener
			var err error
			if o.readLog {
				l, err = audit.ReadLog(cfg)
			} else {
				l, err = audit.Register(ctx, cfg)
			}
			if err != nil {
				var dr *audit.DaemonRegisteredError
				if errors.As(err, &dr) {
					who := "another process"
					if dr.PID != 0 {
						who = fmt.Sprintf("pid %d", dr.PID)
					}
					return &auditError{msg: fmt.Sprintf("audit watch: %s is registered as the audit daemon already (auditd?); use --readlog to listen alongside it", who)}
				}
				return auditErr(err)
			}
			l.MaxAge = o.maxAge
			err = auditWatch(ctx, a, l, o)
			if cerr := l.Close(); err == nil {
				err = cerr
			}
			return auditErr(err)
		},
	}
	cmd.Flags().IntVarP(&o.count, "count", "c", 0, "stop after `N` events (0: no limit)")
	cmd.Flags().BoolVar(&o.readLog, "readlog", false, "listen to the read-log multicast group instead of registering as the daemon")
	cmd.Flags().BoolVar(&o.log, "log", false, "print records as audit.log lines instead of JSON events")
	cmd.Flags().DurationVar(&o.maxAge, "max-age", audit.DefaultMaxAge, "how long an event without EOE waits for more records")
	cmd.Flags().IntVar(&o.rcvbuf, "rcvbuf", 0, "receive buffer in `BYTES` (default 8 MiB)")
	return cmd
}

// auditLostJSON reports an overrun in `nlkit audit watch`.
type auditLostJSON struct {
	Lost bool `json:"lost"`
}

// auditWatch prints events (or, with o.log, records) from l until ctx
// ends, the stream fails or o.count events were printed.
func auditWatch(ctx context.Context, a *app, l *audit.Listener, o *auditWatchOpts) error {
	n := 0
	handle := func(err error) (stop bool, _ error) {
		switch {
		case errors.Is(err, netlink.ErrOverrun):
			if o.log {
				_, err := fmt.Fprintln(a.out, "lost: receive buffer overrun, records were dropped")
				return false, err
			}
			return false, a.printJSON(auditLostJSON{Lost: true})
		case errors.Is(err, audit.ErrMalformedRecord):
			fmt.Fprintf(a.errOut, "nlkit: %v\n", err)
			return false, nil
		case errors.Is(err, context.Canceled) && ctx.Err() != nil:
			return true, nil // Ctrl-C: the normal way to stop
		}
		return true, err
	}
	if o.log {
		for r, err := range l.Records(ctx) {
			if err != nil {
				if stop, err := handle(err); stop || err != nil {
					return err
				}
				continue
			}
			if _, err := fmt.Fprintln(a.out, r.String()); err != nil {
				return err
			}
			// With --log, -c counts events: an event ends at its EOE or
			// is a single record of a standalone type.
			if one := (audit.Event{Records: []audit.Record{r}}); one.Complete() {
				if n++; o.count > 0 && n >= o.count {
					return nil
				}
			}
		}
		return nil
	}
	for ev, err := range l.Events(ctx) {
		if err != nil {
			if stop, err := handle(err); stop || err != nil {
				return err
			}
			continue
		}
		if err := a.printJSON(ev); err != nil {
			return err
		}
		if n++; o.count > 0 && n >= o.count {
			return nil
		}
	}
	return nil
}
