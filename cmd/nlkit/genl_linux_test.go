//go:build linux

package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/genl/genltest"
	"github.com/nlkit/nlkit/internal/nstest"
)

// genlOracle runs `genl ctrl list` (inside namespace ns if not empty).
func genlOracle(t *testing.T, ns string) []genl.Family {
	t.Helper()
	args := []string{"genl", "ctrl", "list"}
	if ns != "" {
		args = append([]string{"ip", "netns", "exec", ns}, args...)
	}
	out, err := exec.Command(args[0], args[1:]...).Output()
	if err != nil {
		t.Fatalf("%s: %v (genl is in iproute2)", strings.Join(args, " "), err)
	}
	fams, err := genltest.ParseCtrlList(string(out))
	if err != nil || len(fams) == 0 {
		t.Fatalf("parse genl output: %v\n%s", err, out)
	}
	return fams
}

// checkGenlJSON compares `nlkit -j genl` output with genl's families.
func checkGenlJSON(t *testing.T, got []genlFamilyJSON, want []genl.Family) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("nlkit lists %d families, genl %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w.ID || g.Name != w.Name || g.Version != w.Version || g.HeaderSize != w.HeaderSize || g.MaxAttr != w.MaxAttr {
			t.Errorf("family %d: nlkit %+v, genl %+v", i, g, w)
			continue
		}
		wantGroups := []genlGroupJSON{}
		for _, gr := range w.Groups {
			wantGroups = append(wantGroups, genlGroupJSON{ID: gr.ID, Name: gr.Name})
		}
		if !reflect.DeepEqual(g.MCastGroups, wantGroups) {
			t.Errorf("family %s groups: nlkit %+v, genl %+v", w.Name, g.MCastGroups, wantGroups)
		}
		if len(g.Ops) != len(w.Ops) {
			t.Errorf("family %s: nlkit %d ops, genl %d", w.Name, len(g.Ops), len(w.Ops))
			continue
		}
		for j, op := range w.Ops {
			// genl prints flags only for families of version 2 and up.
			if g.Ops[j].ID != op.ID || (op.Flags != 0 && !reflect.DeepEqual(g.Ops[j].Flags, op.Flags.Names())) {
				t.Errorf("family %s op %d: nlkit %+v, genl %+v", w.Name, j, g.Ops[j], op)
			}
		}
	}
}

func runJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out, errOut, code := nlkit(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errOut)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%v: not JSON: %v\n%s", args, err, out)
	}
}

// TestGenlListMatchesGenl lists the host's families (read-only: families
// are global) and compares nlkit's JSON and text with genl ctrl list.
func TestGenlListMatchesGenl(t *testing.T) {
	want := genlOracle(t, "")
	var got []genlFamilyJSON
	runJSON(t, &got, "-j", "genl")
	checkGenlJSON(t, got, want)
	var again []genlFamilyJSON
	runJSON(t, &again, "-j", "genl", "ctrl", "list")
	if !reflect.DeepEqual(again, got) {
		t.Error("genl ctrl list differs from genl")
	}

	text, errOut, code := nlkit(t, "genl", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != len(want)+1 || strings.Join(strings.Fields(lines[0]), " ") != "ID NAME VERSION OPS GROUPS" {
		t.Fatalf("text output:\n%s", text)
	}
	for i, w := range want {
		f := strings.Fields(lines[i+1])
		groups := "-"
		if len(w.Groups) > 0 {
			var names []string
			for _, g := range w.Groups {
				names = append(names, g.Name)
			}
			groups = strings.Join(names, ",")
		}
		wantRow := []string{"0x" + strings.TrimLeft(hex16(w.ID), "0"), w.Name, itoa(int(w.Version)), itoa(len(w.Ops)), groups}
		if !reflect.DeepEqual(f, wantRow) {
			t.Errorf("row %d: %q, want %q", i, f, wantRow)
		}
	}
	// Columns are aligned: every row's NAME starts where the header's does.
	col := strings.Index(lines[0], "NAME")
	for _, l := range lines[1:] {
		if l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("misaligned row %q", l)
		}
	}
}

func hex16(v uint16) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[v>>12&15], digits[v>>8&15], digits[v>>4&15], digits[v&15]})
}

func itoa(v int) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestGenlShow(t *testing.T) {
	want := genlFamilyJSON{
		ID: 0x10, Name: "nlctrl", Version: 2,
		Ops: []genlOpJSON{
			{ID: 3, Flags: []string{"cmd-cap-do", "cmd-cap-dump", "cmd-cap-haspol"}},
			{ID: 10, Flags: []string{"cmd-cap-dump", "cmd-cap-haspol"}},
		},
		MCastGroups: []genlGroupJSON{{ID: 0x10, Name: "notify"}},
	}
	for _, args := range [][]string{
		{"-j", "genl", "show", "nlctrl"},
		{"-j", "genl", "ctrl", "get", "name", "nlctrl"},
		{"-j", "genl", "ctrl", "get", "id", "0x10"},
		{"-j", "genl", "get", "id", "16"},
	} {
		var got genlFamilyJSON
		runJSON(t, &got, args...)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v:\n got %+v\nwant %+v", args, got, want)
		}
	}
	// Field names, as documented.
	out, _, _ := nlkit(t, "-j", "genl", "show", "nlctrl")
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "name", "version", "hdrsize", "maxattr", "ops", "mcast_groups"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, out)
		}
	}
	// A family with no ops or groups prints empty arrays, not null.
	var fams []genlFamilyJSON
	runJSON(t, &fams, "-j", "genl")
	all, _, _ := nlkit(t, "-j", "genl")
	if strings.Contains(all, "null") {
		t.Errorf("null in JSON: %s", all)
	}

	text, errOut, code := nlkit(t, "genl", "show", "nlctrl")
	wantText := "nlctrl: id 0x10 version 2 hdrsize 0 maxattr 0\n\n" +
		"OP   FLAGS\n0x3  cmd-cap-do,cmd-cap-dump,cmd-cap-haspol\n0xa  cmd-cap-dump,cmd-cap-haspol\n\n" +
		"GROUP  NAME\n0x10   notify\n"
	if code != 0 || text != wantText {
		t.Fatalf("exit %d %s\n got %q\nwant %q", code, errOut, text, wantText)
	}
}

func TestGenlUnknownFamily(t *testing.T) {
	for _, args := range [][]string{
		{"genl", "show", "nlkit-nosuch"},
		{"genl", "ctrl", "get", "name", "nlkit-nosuch"},
		{"-j", "genl", "show", "nlkit-nosuch"},
	} {
		out, errOut, code := nlkit(t, args...)
		if code == 0 || out != "" || errOut != "nlkit: generic netlink family \"nlkit-nosuch\" not found\n" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	out, errOut, code := nlkit(t, "genl", "ctrl", "get", "id", "0xfff0")
	if code == 0 || out != "" || !strings.Contains(errOut, "family with id 0xfff0 not found") {
		t.Errorf("unknown id: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	var buf strings.Builder
	err := runGenl(&app{out: &buf, errOut: &buf}, context.Background(), []string{"show", "nlkit-nosuch"})
	if err == nil || err.Error() != `generic netlink family "nlkit-nosuch" not found` {
		t.Fatalf("got %v", err)
	}
}

// TestGenlInNetNS lists the families visible inside a fresh namespace
// (the namespace-aware ones) and compares with genl run there.
func TestGenlInNetNS(t *testing.T) {
	ns := nstest.New(t)
	var got []genlFamilyJSON
	runJSON(t, &got, "-n", ns.Name, "-j", "genl")
	checkGenlJSON(t, got, genlOracle(t, ns.Name))
	_, errOut, code := nlkit(t, "-n", "nlkit-no-such-ns", "genl")
	if code == 0 || !strings.Contains(errOut, "nlkit-no-such-ns") {
		t.Errorf("missing namespace: exit %d: %s", code, errOut)
	}
}
