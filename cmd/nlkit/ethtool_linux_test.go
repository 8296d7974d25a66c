//go:build linux

package main

import (
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/nlkit/nlkit/internal/nstest"
)

// ethtoolNS returns a namespace with a veth pair va/vb, both up; ethtool(8)
// must be installed (scripts/install-deps.sh): it is the oracle.
func ethtoolNS(t *testing.T) *nstest.NS {
	t.Helper()
	if _, err := exec.LookPath("ethtool"); err != nil {
		t.Fatalf("ethtool(8) is the oracle of these tests: %v (apt-get install ethtool)", err)
	}
	ns := nstest.New(t)
	ns.Batch(t, "link add va type veth peer name vb\nlink set va up\nlink set vb up\n")
	return ns
}

// jsonKeys returns the member names of each object of a JSON array, in
// order.
func jsonKeys(t *testing.T, text string) [][]string {
	t.Helper()
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, text)
	}
	var out [][]string
	for _, r := range raw {
		dec := json.NewDecoder(strings.NewReader(string(r)))
		var keys []string
		depth := 0
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			switch v := tok.(type) {
			case json.Delim:
				if v == '{' || v == '[' {
					depth++
				} else {
					depth--
				}
			case string:
				if depth == 1 && dec.More() {
					keys = append(keys, v)
					// Skip the value.
					var skip json.RawMessage
					if err := dec.Decode(&skip); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		out = append(out, keys)
	}
	return out
}

// `nlkit ethtool -k` prints what `ethtool -k` prints, text and JSON,
// before and after features are changed with ethtool -K.
func TestEthtoolFeaturesMatchEthtool(t *testing.T) {
	ns := ethtoolNS(t)
	for _, step := range [][]string{nil, {"ethtool", "-K", "va", "gro", "on", "tx", "off"}} {
		if step != nil {
			ns.Exec(t, step[0], step[1:]...)
		}
		want := string(ns.Exec(t, "ethtool", "-k", "va"))
		for _, args := range [][]string{{"ethtool", "-k", "va"}, {"ethtool", "va", "--show-features"}, {"ethtool", "--show-offload", "va"}} {
			out, errOut, code := nlkit(t, append([]string{"-n", ns.Name}, args...)...)
			if code != 0 || out != want {
				t.Errorf("%v after %v: exit %d %s\n got:\n%s\nwant:\n%s", args, step, code, errOut, out, want)
			}
		}
		wantJSON := string(ns.Exec(t, "ethtool", "--json", "-k", "va"))
		out, errOut, code := nlkit(t, "-n", ns.Name, "-j", "ethtool", "-k", "va")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var got, w []map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("nlkit: %v\n%s", err, out)
		}
		if err := json.Unmarshal([]byte(wantJSON), &w); err != nil {
			t.Fatalf("ethtool: %v\n%s", err, wantJSON)
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("JSON after %v differs:\n got %v\nwant %v", step, got, w)
		}
		if k, wk := jsonKeys(t, out), jsonKeys(t, wantJSON); len(k) != 1 || len(k[0]) < 50 || k[0][0] != "ifname" || !reflect.DeepEqual(k, wk) {
			t.Errorf("JSON member order after %v:\n got %q\nwant %q", step, k, wk)
		}
	}
}

// settings parses the "\tKey: value" lines of `ethtool DEV`.
func settings(text string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "\t"), ":"); ok && strings.HasPrefix(line, "\t") {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// Every line `nlkit ethtool DEV` prints, ethtool prints too, with the
// link up and with it down.
func TestEthtoolSettingsMatchEthtool(t *testing.T) {
	ns := ethtoolNS(t)
	for _, step := range []struct {
		ip   []string
		link string
	}{
		{nil, "yes"},
		{[]string{"link", "set", "vb", "down"}, "no"},
	} {
		if step.ip != nil {
			ns.IP(t, step.ip...)
		}
		want := settings(string(ns.Exec(t, "ethtool", "va")))
		out, errOut, code := nlkit(t, "-n", ns.Name, "ethtool", "va")
		if code != 0 || !strings.HasPrefix(out, "Settings for va:\n") {
			t.Fatalf("exit %d %s\n%s", code, errOut, out)
		}
		got := settings(out)
		if len(got) != 12 {
			t.Errorf("%d lines, want 12:\n%s", len(got), out)
		}
		for k, v := range got {
			if want[k] != v {
				t.Errorf("%s: nlkit %q, ethtool %q", k, v, want[k])
			}
		}
		if got["Link detected"] != step.link || got["Speed"] != "10000Mb/s" || got["Duplex"] != "Full" {
			t.Errorf("settings: %v", got)
		}
		// JSON: the same values, under ethtool's JSON names.
		out, errOut, code = nlkit(t, "-n", ns.Name, "-j", "ethtool", "va")
		if code != 0 {
			t.Fatalf("exit %d %s", code, errOut)
		}
		var j []map[string]any
		if err := json.Unmarshal([]byte(out), &j); err != nil || len(j) != 1 {
			t.Fatalf("JSON: %v\n%s", err, out)
		}
		for k, v := range map[string]any{
			"ifname": "va", "speed": 10000.0, "duplex": "Full", "auto-negotiation": false, "port": "Twisted Pair",
			"phyad": 0.0, "transceiver": "internal", "link-detected": step.link == "yes",
			"supported-link-modes": []any{}, "advertised-link-modes": []any{},
			"supports-auto-negotiation": false, "advertised-auto-negotiation": false,
		} {
			if !reflect.DeepEqual(j[0][k], v) {
				t.Errorf("JSON %s: %#v, want %#v", k, j[0][k], v)
			}
		}
		if len(j[0]) != 12 {
			t.Errorf("JSON members: %v", j[0])
		}
	}
}

// Bad input: a clear error on stderr, exit 1, nothing on stdout, and
// nothing changed (the features are as they were).
func TestEthtoolErrors(t *testing.T) {
	ns := ethtoolNS(t)
	before := string(ns.Exec(t, "ethtool", "-k", "va"))
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-n", ns.Name, "ethtool", "nosuch"}, `nlkit: device "nosuch" does not exist (kernel: no device matches name)`},
		{[]string{"-n", ns.Name, "ethtool", "-k", "nosuch"}, `nlkit: device "nosuch" does not exist (kernel: no device matches name)`},
		{[]string{"-n", ns.Name, "-j", "ethtool", "-k", "nosuch"}, `nlkit: device "nosuch" does not exist (kernel: no device matches name)`},
		{[]string{"ethtool"}, "nlkit: ethtool: missing device (usage: nlkit ethtool [-k] DEV [flags])"},
		{[]string{"ethtool", "-k"}, "nlkit: ethtool: missing device (usage: nlkit ethtool [-k] DEV [flags])"},
		{[]string{"-n", ns.Name, "ethtool", "va", "vb"}, `nlkit: ethtool: unknown argument "vb" (see nlkit ethtool --help)`},
		{[]string{"-n", ns.Name, "ethtool", "-K", "va"}, "nlkit: unknown shorthand flag: 'K' in -K"},
		{[]string{"-n", "nlkit-nosuch-ns", "ethtool", "va"}, `network namespace "nlkit-nosuch-ns"`},
	} {
		out, errOut, code := nlkit(t, tt.args...)
		if code != 1 || out != "" || !strings.HasPrefix(errOut, "nlkit: ") || !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %q", tt.args, code, out, errOut, tt.want)
		}
	}
	if after := string(ns.Exec(t, "ethtool", "-k", "va")); after != before {
		t.Errorf("features changed:\n%s\n%s", before, after)
	}
}
