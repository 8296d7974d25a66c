package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nlkit/nlkit/ethtool"
	"github.com/nlkit/nlkit/taskstats"
)

func TestOrderedJSON(t *testing.T) {
	o := orderedJSON{{"z", 1}, {"a", orderedJSON{{"y", nil}, {"b", []string{}}}}, {"m", "x\"y"}}
	b, err := json.Marshal([]orderedJSON{o})
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"z":1,"a":{"y":null,"b":[]},"m":"x\"y"}]`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	if _, err := json.Marshal(orderedJSON{{"f", func() {}}}); err == nil || !strings.Contains(err.Error(), "f: ") {
		t.Errorf("unencodable value: %v", err)
	}
}

func TestFeatureState(t *testing.T) {
	for _, tt := range []struct {
		f    ethtool.Feature
		want string
	}{
		{ethtool.Feature{Active: true, Requested: true}, "on"},
		{ethtool.Feature{}, "off"},
		{ethtool.Feature{Fixed: true}, "off [fixed]"},
		{ethtool.Feature{Active: true, Fixed: true}, "on [fixed]"},
		{ethtool.Feature{Requested: true}, "off [requested on]"},
		{ethtool.Feature{Active: true}, "on [requested off]"},
	} {
		if got := featureState(tt.f); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.f, got, tt.want)
		}
	}
}

// -j prints the members the struct's version has, in the kernel's units.
func TestTaskstatsToJSON(t *testing.T) {
	ts := time.Unix(1700000000, 5)
	st := taskstats.Stats{
		Version: 17, Flags: taskstats.AcctFork | taskstats.AcctSU, Comm: "x",
		UserTime: 1500 * time.Microsecond, CPURunVirtual: 42, BeginTime: time.Unix(1700000001, 0),
		CPU: taskstats.Delay{Count: 1, Total: 9, Max: 9, Min: 9, MaxTime: ts},
	}
	b, err := json.Marshal(taskstatsToJSON(&st))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{
		"ac_utime": 1500.0, "cpu_run_virtual_total": 42.0, "ac_btime": 1700000001.0, "ac_btime64": 1700000001.0,
		"cpu_delay_max_ts": "2023-11-14T22:13:20.000000005Z", "blkio_delay_max_ts": nil, "cpu_delay_min": 9.0,
		"irq_count": 0.0, "ac_tgid": 0.0,
	} {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s: %#v, want %#v", k, got, v)
		}
	}
	if f, ok := m["ac_flag"].([]any); !ok || len(f) != 2 || f[0] != "fork" || f[1] != "su" {
		t.Errorf("ac_flag %#v", m["ac_flag"])
	}
	// Version 9: no thread group, btime64, compaction, ... members.
	st.Version = 9
	b, _ = json.Marshal(taskstatsToJSON(&st))
	m = nil
	_ = json.Unmarshal(b, &m)
	for _, k := range []string{"ac_tgid", "ac_btime64", "ac_exe_inode", "compact_count", "irq_count", "cpu_delay_max", "cpu_delay_max_ts"} {
		if _, ok := m[k]; ok {
			t.Errorf("version 9 has %s", k)
		}
	}
	if _, ok := m["thrashing_count"]; !ok {
		t.Error("version 9 lacks thrashing_count")
	}
}
