package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// printTables prints the results as markdown: per N, wall time as a
// ratio to nlkit's (higher is slower) with the seconds, then events,
// peak RSS and allocations; round trips; and the targets of issue 5.
func printTables(w io.Writer, recs []Record, failures map[key][]string) {
	get := map[key]*Record{}
	var sizes []int
	seen := map[int]bool{}
	for i := range recs {
		r := &recs[i]
		get[key{r.Workload, r.N, r.Impl}] = r
		if r.Workload != "roundtrip" && !seen[r.N] {
			seen[r.N] = true
			sizes = append(sizes, r.N)
		}
	}
	sort.Ints(sizes)
	cols := func(workloads ...string) []string {
		var out []string
		for _, impl := range implOrder {
			for _, wl := range workloads {
				found := false
				for k := range get {
					if k.impl == impl && k.workload == wl {
						found = true
					}
				}
				if found {
					out = append(out, impl)
					break
				}
			}
		}
		return out
	}
	header := func(c []string) {
		fmt.Fprintf(w, "| |%s|\n|---|%s\n", strings.Join(c, "|"), strings.Repeat("---|", len(c)))
	}
	for _, n := range sizes {
		c := cols("install", "dump", "delete", "events")
		fmt.Fprintf(w, "### N = %d routes\n\nWall time, ratio to nlkit (seconds); median of the runs.\n\n", n)
		header(c)
		for _, wl := range []string{"install", "dump", "delete"} {
			base := get[key{wl, n, "nlkit"}]
			row := []string{}
			for _, impl := range c {
				r := get[key{wl, n, impl}]
				row = append(row, cell(r, base))
			}
			fmt.Fprintf(w, "| %s |%s|\n", wl, strings.Join(row, "|"))
		}
		row := []string{}
		for _, impl := range c {
			r := get[key{"events", n, impl}]
			switch {
			case r == nil:
				row = append(row, "")
			case r.Runs == 0:
				row = append(row, "FAILED")
			default:
				s := fmt.Sprintf("%d/%d", r.Count, n)
				if r.Overrun != nil && *r.Overrun {
					s += " overrun reported"
				}
				row = append(row, s)
			}
		}
		fmt.Fprintf(w, "| events received |%s|\n", strings.Join(row, "|"))
		for _, m := range []struct {
			name string
			wl   string
			f    func(*Record) string
		}{
			{"dump peak RSS MiB", "dump", func(r *Record) string { return fmt.Sprintf("%.1f", r.RSSMiB) }},
			{"install peak RSS MiB", "install", func(r *Record) string { return fmt.Sprintf("%.1f", r.RSSMiB) }},
			{"dump CPU s", "dump", func(r *Record) string { return fmt.Sprintf("%.3f", r.CPUS) }},
			{"install CPU s", "install", func(r *Record) string { return fmt.Sprintf("%.3f", r.CPUS) }},
			{"allocs per dumped route", "dump", allocs},
			{"allocs per installed route", "install", allocs},
			{"allocs per event", "events", allocs},
		} {
			row := []string{}
			for _, impl := range c {
				r := get[key{m.wl, n, impl}]
				if r == nil || r.Runs == 0 {
					row = append(row, "")
					continue
				}
				row = append(row, m.f(r))
			}
			fmt.Fprintf(w, "| %s |%s|\n", m.name, strings.Join(row, "|"))
		}
		fmt.Fprintln(w)
	}
	var rt []*Record
	for i := range recs {
		if recs[i].Workload == "roundtrip" {
			rt = append(rt, &recs[i])
		}
	}
	if len(rt) > 0 {
		var base *Record
		for _, r := range rt {
			if r.Impl == "nlkit" {
				base = r
			}
		}
		fmt.Fprintf(w, "### Round trips: RTM_GETLINK by index, %d requests\n\n| |requests/s|ratio to nlkit (time)|allocs/request|\n|---|---|---|---|\n", rt[0].N)
		for _, r := range rt {
			ratio := ""
			if base != nil && base.WallS > 0 && r.WallS > 0 {
				ratio = fmt.Sprintf("%.2fx", r.WallS/base.WallS)
			}
			fmt.Fprintf(w, "| %s |%.0f|%s|%s|\n", r.Impl, r.OpsPerS, ratio, allocs(r))
		}
		fmt.Fprintln(w)
	}
	printTargets(w, get, sizes)
	if len(failures) > 0 {
		fmt.Fprintln(w, "### Failed runs (left out of the medians)")
		fmt.Fprintln(w)
		var ks []key
		for k := range failures {
			ks = append(ks, k)
		}
		sort.Slice(ks, func(i, j int) bool { return fmt.Sprint(ks[i]) < fmt.Sprint(ks[j]) })
		for _, k := range ks {
			for _, f := range failures[k] {
				fmt.Fprintf(w, "- %s n=%d %s: %s\n", k.workload, k.n, k.impl, f)
			}
		}
		fmt.Fprintln(w)
	}
}

func allocs(r *Record) string {
	if r.AllocsPerOp == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", *r.AllocsPerOp)
}

func cell(r, base *Record) string {
	switch {
	case r == nil:
		return ""
	case r.Runs == 0:
		return "FAILED"
	case base == nil || base.Runs == 0 || base.WallS == 0:
		return fmt.Sprintf("(%.3f s)", r.WallS)
	}
	return fmt.Sprintf("%.2fx (%.3f s)", r.WallS/base.WallS, r.WallS)
}

// printTargets checks the figures against issue 5's targets.
func printTargets(w io.Writer, get map[key]*Record, sizes []int) {
	fmt.Fprintln(w, "### Targets")
	fmt.Fprintln(w)
	ratio := func(wl string, n int, a, b string) (float64, bool) {
		ra, rb := get[key{wl, n, a}], get[key{wl, n, b}]
		if ra == nil || rb == nil || ra.Runs == 0 || rb.Runs == 0 || rb.WallS == 0 {
			return 0, false
		}
		return ra.WallS / rb.WallS, true
	}
	line := func(name string, ok bool, have bool, detail string) {
		mark := "MET"
		switch {
		case !have:
			mark = "not measured"
		case !ok:
			mark = "NOT MET"
		}
		fmt.Fprintf(w, "- %s: **%s** (%s)\n", name, mark, detail)
	}
	big := 0
	for _, n := range sizes {
		big = max(big, n)
	}
	small := big
	for _, n := range sizes {
		small = min(small, n)
	}
	if v, ok := ratio("dump", big, "nlkit-raw", "libmnl"); true {
		line(fmt.Sprintf("dump %d raw <= 1.25x libmnl", big), v <= 1.25, ok, fmt.Sprintf("%.2fx", v))
	}
	if v, ok := ratio("dump", big, "nlkit", "libmnl"); true {
		line(fmt.Sprintf("dump %d typed <= 2x libmnl", big), v <= 2, ok, fmt.Sprintf("%.2fx", v))
	}
	if r := get[key{"dump", big, "nlkit"}]; r != nil && r.Runs > 0 {
		line(fmt.Sprintf("dump %d typed peak RSS < 32 MiB", big), r.RSSMiB < 32, true, fmt.Sprintf("%.1f MiB", r.RSSMiB))
	}
	if v, ok := ratio("dump", big, "nlkit-cli", "iproute2"); true {
		line(fmt.Sprintf("`nlkit route show` %d no slower than `ip route show`", big), v <= 1, ok, fmt.Sprintf("%.2fx", v))
	}
	if v, ok := ratio("install", big, "nlkit", "libmnl"); true {
		line(fmt.Sprintf("install %d within 1.25x of libmnl", big), v <= 1.25, ok, fmt.Sprintf("%.2fx", v))
	}
	if v, ok := ratio("install", big, "iproute2", "nlkit"); true {
		line(fmt.Sprintf("install %d >= 5x faster than ip -batch", big), v >= 5, ok, fmt.Sprintf("%.2fx", v))
	}
	if v, ok := ratio("install", small, "iproute2", "nlkit-cli"); true {
		line(fmt.Sprintf("`nlkit -batch` >= 2x faster than `ip -batch` on %d", small), v >= 2, ok, fmt.Sprintf("%.2fx", v))
	}
	for _, n := range sizes {
		if r := get[key{"events", n, "nlkit"}]; r != nil && r.Runs > 0 {
			line(fmt.Sprintf("events: all %d received during ip -batch", n), r.Count == int64(n), true,
				fmt.Sprintf("%d received, overrun reported: %v", r.Count, r.Overrun != nil && *r.Overrun))
		}
	}
	if r := get[key{"dump", big, "nlkit-raw"}]; r != nil && r.AllocsPerOp != nil {
		line("raw dump allocations per message ~0", *r.AllocsPerOp < 0.01, true, fmt.Sprintf("%.4f per route, whole process", *r.AllocsPerOp))
	}
	if r := get[key{"dump", big, "nlkit"}]; r != nil && r.AllocsPerOp != nil {
		line("typed dump <= 2 allocations per route", *r.AllocsPerOp <= 2, true, fmt.Sprintf("%.3f per route, whole process", *r.AllocsPerOp))
	}
	fmt.Fprintln(w)
}
