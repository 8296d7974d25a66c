package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// runNlkit runs the nlkit binary as a user would and logs the command
// line and what it printed.
func runNlkit(e *env, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.nlkit, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	logf("$ nlkit %s", strings.Join(args, " "))
	for _, l := range strings.Split(strings.TrimRight(out.String()+errOut.String(), "\n"), "\n") {
		logf("  %s", l)
	}
	return out.String(), errOut.String(), err
}

// checkCLI runs `nlkit hello` and its subcommands against the module.
func checkCLI(e *env) error {
	if _, err := os.Stat(e.nlkit); err != nil {
		return fmt.Errorf("nlkit binary: %w (give its path with -nlkit)", err)
	}
	for _, args := range [][]string{
		{"hello"},
		{"hello", "Hi from the VM"},
		{"hello", "--genl"},
		{"hello", "--protocol", strconv.Itoa(e.protocol), "Hello world"},
	} {
		out, _, err := runNlkit(e, args...)
		if err != nil || out != "Thank you\n" {
			return fmt.Errorf("nlkit %s: %v, printed %q", strings.Join(args, " "), err, out)
		}
	}
	// The module's interface is listed like any other, in text and JSON,
	// with the index the kernel gave it.
	ifi, err := net.InterfaceByName(e.ifname)
	if err != nil {
		return fmt.Errorf("interface %s: %w", e.ifname, err)
	}
	out, _, err := runNlkit(e, "link")
	if err != nil || !strings.Contains(out, " "+e.ifname+" ") {
		return fmt.Errorf("nlkit link does not list %s: %v\n%s", e.ifname, err, out)
	}
	out, _, err = runNlkit(e, "-j", "link", "show", e.ifname)
	var links []struct {
		Index int    `json:"ifindex"`
		Name  string `json:"ifname"`
		MTU   int    `json:"mtu"`
	}
	if err != nil || json.Unmarshal([]byte(out), &links) != nil || len(links) != 1 ||
		links[0].Name != e.ifname || links[0].Index != ifi.Index || links[0].MTU != ifi.MTU {
		return fmt.Errorf("nlkit -j link show %s: %v: %q (kernel: index %d mtu %d)", e.ifname, err, out, ifi.Index, ifi.MTU)
	}

	out, _, err = runNlkit(e, "hello", "stats")
	if err != nil || !strings.HasPrefix(out, "COUNTER") || !strings.Contains(out, "msgs_received") {
		return fmt.Errorf("nlkit hello stats: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"-j", "hello", "stats"}, {"-j", "hello", "--genl", "stats"}} {
		out, _, err := runNlkit(e, args...)
		if err != nil {
			return err
		}
		var st map[string]uint64
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			return fmt.Errorf("nlkit %s: %v: %q", strings.Join(args, " "), err, out)
		}
		if len(st) != 7 || st["msgs_received"] == 0 || st["replies_sent"] == 0 {
			return fmt.Errorf("nlkit %s: %v", strings.Join(args, " "), st)
		}
	}

	// Without an endpoint on the protocol: a clear error, exit status 1.
	_, errOut, err := runNlkit(e, "hello", "--protocol", "29")
	var xe *exec.ExitError
	if !errors.As(err, &xe) || xe.ExitCode() != 1 || !strings.Contains(errOut, "protocol 29: is nlhello.ko loaded?") {
		return fmt.Errorf("nlkit hello --protocol 29: %v, stderr %q", err, errOut)
	}

	// watch: one JSON object per packet; packets go out until it has
	// printed the three it was asked for.
	for _, args := range [][]string{
		{"hello", "watch", "-c", "3"},
		{"-j", "hello", "watch", "-c", "3"},
		{"-j", "hello", "--genl", "watch", "-c", "3"},
	} {
		if err := cliWatch(e, args...); err != nil {
			return err
		}
	}
	return nil
}

func cliWatch(e *env, args ...string) error {
	idx, err := prepareIface(e.ifname)
	if err != nil {
		return err
	}
	p, err := newPktSender(idx)
	if err != nil {
		return err
	}
	defer p.Close()
	done := make(chan struct{})
	var out, errOut string
	go func() {
		defer close(done)
		out, errOut, err = runNlkit(e, args...)
	}()
	// The command subscribes some time after it starts; send until it has
	// seen three packets (and ends), at most for 10 s.
	deadline := time.After(10 * time.Second)
	for sending := true; sending; {
		select {
		case <-done:
			sending = false
		case <-deadline:
			return errors.New("nlkit hello watch -c 3 did not end within 10 s")
		case <-time.After(20 * time.Millisecond):
			if err := p.send(unix.ETH_P_IP, []byte{0x45, 0, 0, 20, 1, 2, 3, 4}); err != nil {
				return err
			}
		}
	}
	if err != nil {
		return fmt.Errorf("nlkit %s: %v: %s", strings.Join(args, " "), err, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		return fmt.Errorf("nlkit %s printed %d lines, want 3", strings.Join(args, " "), len(lines))
	}
	for _, l := range lines {
		if args[0] != "-j" {
			want := fmt.Sprintf(" %s(%d) len 8 proto 0x0800 ipv4 data 4500001401020304", e.ifname, idx)
			if !strings.HasSuffix(l, want) {
				return fmt.Errorf("packet line %q; want it to end in %q", l, want)
			}
			continue
		}
		var pk struct {
			IfIndex  int    `json:"ifindex"`
			IfName   string `json:"ifname"`
			Len      int    `json:"len"`
			Protocol string `json:"protocol"`
			Data     string `json:"data"`
		}
		if err := json.Unmarshal([]byte(l), &pk); err != nil {
			return fmt.Errorf("%q: %w", l, err)
		}
		if pk.IfIndex != idx || pk.IfName != e.ifname || pk.Len != 8 || pk.Protocol != "0x0800" || pk.Data != "4500001401020304" {
			return fmt.Errorf("packet line %q; want ifindex %d ifname %s len 8 protocol 0x0800", l, idx, e.ifname)
		}
	}
	return nil
}
