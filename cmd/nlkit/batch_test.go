package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nlkit/nlkit/internal/nstest"
)

func TestSplitLine(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		bad  bool
	}{
		{"link set va up", []string{"link", "set", "va", "up"}, false},
		{"  link\tset  va  ", []string{"link", "set", "va"}, false},
		{`link set va alias "two words"`, []string{"link", "set", "va", "alias", "two words"}, false},
		{`link set va alias 'it''s'`, []string{"link", "set", "va", "alias", "its"}, false},
		{`link set va alias a\ b`, []string{"link", "set", "va", "alias", "a b"}, false},
		{"# a comment", nil, false},
		{"link show # trailing", []string{"link", "show"}, false},
		{"link set va alias a#b", []string{"link", "set", "va", "alias", "a#b"}, false},
		{"", nil, false},
		{`alias "open`, nil, true},
		{`ends\`, nil, true},
	}
	for _, tt := range tests {
		got, err := splitLine(tt.in)
		if (err != nil) != tt.bad || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitLine(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func writeBatch(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "batch.txt")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func linkNamesIn(t *testing.T, ns *nstest.NS) map[string]bool {
	t.Helper()
	var links []struct {
		Name string `json:"ifname"`
	}
	ns.IPJSON(t, &links, "link", "show")
	out := map[string]bool{}
	for _, l := range links {
		out[l.Name] = true
	}
	return out
}

func TestBatch(t *testing.T) {
	ns := nstest.New(t)
	var lines []string
	for i := 0; i < 50; i++ {
		lines = append(lines, fmt.Sprintf("link add br%d type bridge", i))
	}
	lines = append(lines, "# comment", "", "nlkit link set br3 up mtu 1400", "link del br4")
	out, errOut, code := nlkit(t, "-n", ns.Name, "-batch", writeBatch(t, lines...))
	if code != 0 {
		t.Fatalf("batch: exit %d: %s %s", code, out, errOut)
	}
	got := linkNamesIn(t, ns)
	if len(got) != 50 || got["br4"] || !got["br49"] {
		t.Fatalf("after batch: %v", got)
	}
	var br3 []ipDetail
	ns.IPJSON(t, &br3, "link", "show", "br3")
	if br3[0].MTU != 1400 {
		t.Fatalf("br3: %+v", br3)
	}

	// A failing line stops the batch and is named; -force goes on.
	fail := writeBatch(t, "link add x0 type bridge", "link add br0 type bridge", "link set nosuch up", "link add x1 type bridge")
	_, errOut, code = nlkit(t, "-n", ns.Name, "-batch", fail)
	if code == 0 || !strings.Contains(errOut, ":2: link add br0 type bridge: file exists") || !strings.Contains(errOut, "stopped at line 2") {
		t.Fatalf("stop on error: exit %d: %s", code, errOut)
	}
	got = linkNamesIn(t, ns)
	if !got["x0"] {
		t.Fatal("the line before the failure was not applied")
	}
	_, errOut, code = nlkit(t, "-n", ns.Name, "-force", "-batch", fail)
	if code == 0 || !strings.Contains(errOut, "3 of 4 lines failed") || !strings.Contains(errOut, `:3: device "nosuch" does not exist`) {
		t.Fatalf("-force: exit %d: %s", code, errOut)
	}
	if !linkNamesIn(t, ns)["x1"] {
		t.Fatal("-force did not go on past the failures")
	}

	// Errors before anything is sent.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-batch", "/nonexistent/file"}, "no such file"},
		{[]string{"-batch", writeBatch(t, `link set x0 alias "open`)}, ":1: unterminated"},
		{[]string{"-batch", writeBatch(t, "frobnicate now")}, `unknown command "frobnicate"`},
	} {
		_, errOut, code := nlkit(t, append([]string{"-n", ns.Name}, tt.args...)...)
		if code == 0 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, %q; want %q", tt.args, code, errOut, tt.want)
		}
	}
}
