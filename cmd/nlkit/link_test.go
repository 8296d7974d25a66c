package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/nlkit/nlkit/internal/nstest"
)

func nlkit(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestLinkJSONMatchesIP(t *testing.T) {
	ns := nstest.New(t)
	ns.IP(t, "link", "add", "br0", "type", "bridge")
	ns.IP(t, "link", "add", "va", "mtu", "1400", "type", "veth", "peer", "name", "vb")
	ns.IP(t, "link", "set", "va", "master", "br0")
	ns.IP(t, "link", "set", "va", "up")
	ns.IP(t, "link", "set", "dev", "vb", "alias", "the peer")
	other := nstest.New(t)
	ns.IP(t, "link", "add", "vc", "type", "veth", "peer", "name", "vd", "netns", other.Name)

	out, errOut, code := nlkit(t, "-n", ns.Name, "-j", "link")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("nlkit -j link is not a JSON array: %v\n%s", err, out)
	}
	var want []map[string]any
	ns.IPJSON(t, &want, "link", "show")
	if len(got) != len(want) {
		t.Fatalf("nlkit %d links, ip %d", len(got), len(want))
	}
	fields := []string{"ifindex", "ifname", "flags", "mtu", "qdisc", "master", "operstate", "group", "txqlen", "link_type", "address", "broadcast", "ifalias", "link", "link_index", "link_netnsid"}
	for i := range want {
		for _, f := range fields {
			if !reflect.DeepEqual(got[i][f], want[i][f]) {
				t.Errorf("link %v field %q: nlkit %v, ip %v", want[i]["ifname"], f, got[i][f], want[i][f])
			}
		}
	}

	// The text form lists the same interfaces, one per line under a header.
	text, _, code := nlkit(t, "-n", ns.Name, "link")
	if code != 0 || !strings.HasPrefix(text, "INDEX") || strings.Count(text, "\n") != len(want)+1 {
		t.Fatalf("text output:\n%s", text)
	}
	one, _, code := nlkit(t, "-n", ns.Name, "-json", "link", "show", "va")
	if code != 0 || !strings.Contains(one, `"master":"br0"`) || strings.Count(one, "ifindex") != 1 || strings.Contains(one, "linkinfo") {
		t.Fatalf("link show va: %s", one)
	}
	// -d adds the kind, as ip -d does.
	var d, ipd []map[string]any
	detail, _, _ := nlkit(t, "-n", ns.Name, "-j", "-d", "link", "show", "va")
	if err := json.Unmarshal([]byte(detail), &d); err != nil {
		t.Fatal(err)
	}
	ns.IPJSON(t, &ipd, "-d", "link", "show", "va")
	gi, _ := d[0]["linkinfo"].(map[string]any)
	wi, _ := ipd[0]["linkinfo"].(map[string]any)
	if gi == nil || gi["info_kind"] != wi["info_kind"] || gi["info_slave_kind"] != wi["info_slave_kind"] {
		t.Fatalf("-d linkinfo: nlkit %v, ip %v", d[0]["linkinfo"], wi)
	}
}

func TestLinkBadInput(t *testing.T) {
	ns := nstest.New(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-n", ns.Name, "link", "show", "nosuch0"}, `device "nosuch0" does not exist`},
		{[]string{"-n", "nlkit-no-such-ns", "link"}, `network namespace "nlkit-no-such-ns"`},
		{[]string{"link", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"link", "show", "a", "b"}, "accepts at most 2 arg"},
		{[]string{"--no-such-flag"}, "unknown flag"},
	}
	for _, tt := range tests {
		out, errOut, code := nlkit(t, tt.args...)
		if code == 0 || !strings.Contains(errOut, tt.want) || !strings.HasPrefix(errOut, "nlkit: ") {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want an error containing %q", tt.args, code, errOut, out, tt.want)
		}
		if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
			t.Errorf("%v: stack trace: %s", tt.args, errOut)
		}
	}
}

func TestUnprivilegedNetNS(t *testing.T) {
	ns := nstest.New(t)
	bin := buildNlkit(t)
	cmd := exec.Command(bin, "-n", ns.Name, "link")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "needs root or CAP_NET_ADMIN") {
		t.Fatalf("as nobody: err %v, output %q; want a privilege hint", err, out)
	}
	// Listing in one's own namespace needs no privilege.
	cmd = exec.Command(bin, "link")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "lo") {
		t.Fatalf("unprivileged link list: %v %s", err, out)
	}
}

func TestDescribeErrorStripsOnlyLayers(t *testing.T) {
	tests := []struct{ in, want string }{
		{"rtnl: add link \"x\": netlink execute: file exists", `add link "x": file exists`},
		{"netlink dial: network namespace \"a\": no such file", `network namespace "a": no such file`},
		{"netlink set option strict-check: bad", "set option strict-check: bad"},
		{`add: kernel says "rtnl: netlink rocks"`, `add: kernel says "rtnl: netlink rocks"`},
	}
	for _, tt := range tests {
		if got := describeError(errors.New(tt.in)); got != tt.want {
			t.Errorf("describeError(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// buildNlkit builds the nlkit binary into a directory every user can
// read, for tests that run it as a user would (another uid, signals).
func buildNlkit(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nlkit-bin")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil { // nobody must reach the binary
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "nlkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v: %s", err, out)
	}
	return bin
}
