package uevent_test

import (
	"strings"
	"testing"

	"github.com/nlkit/nlkit/uevent"
)

func TestParseMatch(t *testing.T) {
	good := []struct {
		in   string
		want uevent.Match
	}{
		{"INTERFACE=veth0", uevent.Match{Key: "INTERFACE", Pattern: "veth0"}},
		{"ID_NET_NAME=en*", uevent.Match{Key: "ID_NET_NAME", Pattern: "en*"}},
		{"DEVTYPE=", uevent.Match{Key: "DEVTYPE", Pattern: ""}},
		{"A=b=c", uevent.Match{Key: "A", Pattern: "b=c"}},
	}
	for _, tc := range good {
		m, err := uevent.ParseMatch(tc.in)
		if err != nil || m != tc.want || m.String() != tc.in {
			t.Errorf("%q: %+v %v", tc.in, m, err)
		}
	}
	bad := []struct{ in, want string }{
		{"INTERFACE", `property filter "INTERFACE": want KEY=VALUE`},
		{"", `property filter "": want KEY=VALUE`},
		{"=veth0", "empty key"},
		{"INTERFACE!=veth0", "negation (KEY!=VALUE) is not supported"},
		{"MY KEY=x", "must not hold =, NUL or white space"},
		{"K=[abc", "bad pattern"},
		{`K=abc\`, "bad pattern"},
		{"K=a\x00b", "must not hold NUL"},
	}
	for _, tc := range bad {
		if _, err := uevent.ParseMatch(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{"veth0", "veth0", true},
		{"veth0", "veth01", false},
		{"veth*", "veth0", true},
		{"veth*", "eth0", false},
		{"*", "", true},
		{"", "", true},
		{"", "x", false},
		{"/devices/*", "/devices/virtual/net/v0", true}, // * crosses /, as in udev rules
		{"/devices/*/net/?0", "/devices/virtual/net/v0", true},
		{"/devices/?", "/devices//", true}, // and so does ?
		{"v[0-3]", "v2", true},
		{"v[0-3]", "v7", false},
		{"v[!0-3]", "v7", true}, // fnmatch's negation
		{"v[^0-3]", "v2", false},
		{"a[/]b", "a/b", true},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{`a\/b`, "a/b", true},
		{"[!]", "!", false}, // an unclosed class is a bad pattern: matches nothing
	}
	for _, tc := range tests {
		ev := uevent.Event{Properties: []uevent.Property{{Key: "K", Value: tc.value}}}
		m := uevent.Match{Key: "K", Pattern: tc.pattern}
		if got := m.Matches(&ev); got != tc.want {
			t.Errorf("%q on %q: %v, want %v", tc.pattern, tc.value, got, tc.want)
		}
	}
	// The key must be present; any of several properties of that key may
	// match.
	ev := uevent.Event{Properties: []uevent.Property{{Key: "K", Value: "a"}, {Key: "K", Value: "b"}}}
	if !(uevent.Match{Key: "K", Pattern: "b"}).Matches(&ev) || (uevent.Match{Key: "L", Pattern: "*"}).Matches(&ev) {
		t.Error("key handling")
	}
}

func TestFilter(t *testing.T) {
	veth := uevent.Event{Action: uevent.Add, DevPath: "/devices/virtual/net/v0", Subsystem: "net",
		Properties: []uevent.Property{{"SUBSYSTEM", "net"}, {"INTERFACE", "v0"}, {"IFINDEX", "3"}}}
	disk := uevent.Event{Action: uevent.Add, DevPath: "/devices/virtual/block/loop0", Subsystem: "block", DevType: "disk",
		Properties: []uevent.Property{{"SUBSYSTEM", "block"}, {"DEVTYPE", "disk"}, {"MAJOR", "7"}}}
	prop := func(s string) uevent.Match {
		m, err := uevent.ParseMatch(s)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	tests := []struct {
		name       string
		f          uevent.Filter
		veth, disk bool
	}{
		{"zero", uevent.Filter{}, true, true},
		{"subsystem", uevent.Filter{Subsystems: []string{"net"}}, true, false},
		{"subsystems are or-ed", uevent.Filter{Subsystems: []string{"net", "block"}}, true, true},
		{"devtype", uevent.Filter{DevTypes: []string{"disk"}}, false, true},
		{"subsystem and devtype", uevent.Filter{Subsystems: []string{"net"}, DevTypes: []string{"disk"}}, false, false},
		{"property", uevent.Filter{Properties: []uevent.Match{prop("INTERFACE=v*")}}, true, false},
		{"properties are and-ed", uevent.Filter{Properties: []uevent.Match{prop("INTERFACE=v*"), prop("IFINDEX=4")}}, false, false},
		{"all", uevent.Filter{Subsystems: []string{"block"}, DevTypes: []string{"disk"}, Properties: []uevent.Match{prop("MAJOR=7")}}, false, true},
	}
	for _, tc := range tests {
		if err := tc.f.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := tc.f.Matches(&veth); got != tc.veth {
			t.Errorf("%s: veth %v, want %v", tc.name, got, tc.veth)
		}
		if got := tc.f.Matches(&disk); got != tc.disk {
			t.Errorf("%s: disk %v, want %v", tc.name, got, tc.disk)
		}
	}
}

func TestFilterValidate(t *testing.T) {
	tests := []struct {
		f    uevent.Filter
		want string
	}{
		{uevent.Filter{Subsystems: []string{""}}, "empty subsystem filter"},
		{uevent.Filter{Subsystems: []string{"net/wlan"}}, `give the subsystem "net" and the devtype "wlan" apart`},
		{uevent.Filter{Subsystems: []string{"n et"}}, "must not hold"},
		{uevent.Filter{DevTypes: []string{""}}, "empty devtype filter"},
		{uevent.Filter{DevTypes: []string{"a/b"}}, `devtype filter "a/b": a name must not hold`},
		{uevent.Filter{Properties: []uevent.Match{{Key: "", Pattern: "x"}}}, "empty key"},
		{uevent.Filter{Properties: []uevent.Match{{Key: "K", Pattern: "[x"}}}, "bad pattern"},
	}
	for _, tc := range tests {
		if err := tc.f.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.f, err, tc.want)
		}
	}
}
