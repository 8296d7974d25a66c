package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bad arguments and rule files are refused before any socket is opened
// or firewall rule added, with an error naming what is wrong.
func TestIDSBadInput(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.rules")
	bad := filepath.Join(dir, "bad.rules")
	os.WriteFile(good, []byte("alert udp any any -> any any (msg:\"x\"; sid:1;)\n"), 0o644)
	os.WriteFile(bad, []byte("# header\nalert udp any any -> any any (msg:\"x\"; sid:1;)\n\nalert udp any any -> any any (msg:\"y\"; content:\"a\"; depth:0; sid:2;)\nalert tcp any any -> any any (sid:3; flow:established;)\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"ids", "-q", "3", "-r", bad}, []string{"bad.rules:4: option \"depth\"", "bad.rules:5: option \"flow\": unknown or unsupported option"}},
		{[]string{"ids", "-r", good}, []string{"missing --queue"}},
		{[]string{"ids", "-q", "3"}, []string{"missing --rules"}},
		{[]string{"ids", "-q", "x", "-r", good}, []string{`--queue "x"`}},
		{[]string{"ids", "-q", "5:2", "-r", good}, []string{"range 5:2 is empty"}},
		{[]string{"ids", "-q", "70000", "-r", good}, []string{"from 0 to 65535"}},
		{[]string{"ids", "-q", "1", "-r", good, "--install-rule", "pf"}, []string{`--install-rule "pf": want nft or iptables`}},
		{[]string{"ids", "-q", "1", "-r", good, "--match", "-p udp"}, []string{"--match needs --install-rule"}},
		{[]string{"ids", "-q", "1", "-r", good, "--install-rule", "nft", "--hook", "prerouting"}, []string{`unknown hook "prerouting"`}},
		{[]string{"ids", "-q", "1", "-r", good, "--var", "HOME_NET"}, []string{`--var "HOME_NET": want NAME=VALUE`}},
		{[]string{"ids", "-q", "1", "-r", filepath.Join(dir, "missing.rules")}, []string{"missing.rules: no such file"}},
		{[]string{"ids", "-q", "1", "-r", good, "extra"}, []string{`unknown command "extra"`}},
		{[]string{"nflog"}, []string{"missing GROUP"}},
		{[]string{"nflog", "x"}, []string{`group "x": want a number`}},
		{[]string{"nflog", "5", "6"}, []string{`unexpected argument "6"`}},
		{[]string{"nflog", "5", "-c", "-1"}, []string{"-c -1"}},
	} {
		out, errOut, code := nlkit(t, tc.args...)
		if code == 0 {
			t.Errorf("%v: exit 0 (%s)", tc.args, out)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: error %q lacks %q", tc.args, errOut, w)
			}
		}
		if !strings.HasPrefix(errOut, "nlkit: ") {
			t.Errorf("%v: error %q does not start with nlkit:", tc.args, errOut)
		}
	}
}

func TestParseQueueRange(t *testing.T) {
	for _, tc := range []struct {
		in          string
		first, last uint16
		ok          bool
	}{{"0", 0, 0, true}, {"3:7", 3, 7, true}, {"65535", 65535, 65535, true}, {"7:3", 0, 0, false}, {"1:", 0, 0, false}, {"-1", 0, 0, false}} {
		f, l, err := parseQueueRange(tc.in)
		if (err == nil) != tc.ok || f != tc.first || l != tc.last {
			t.Errorf("%q: %d %d %v", tc.in, f, l, err)
		}
	}
}
