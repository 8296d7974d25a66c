package main

import (
	"io"
	"reflect"
	"testing"

	"github.com/spf13/cobra"
)

// TestLineRunnerChild checks the remembered lookup of subcommands
// against findChild for every command of the tree, by name and alias,
// and for words that are no command.
func TestLineRunnerChild(t *testing.T) {
	r := newLineRunner(&app{out: io.Discard, errOut: io.Discard}, nil)
	var walk func(cmd *cobra.Command)
	checked := 0
	walk = func(cmd *cobra.Command) {
		names := []string{"", "nosuchcommand", "10.0.0.1/24", "dev"}
		for _, c := range cmd.Commands() {
			names = append(names, c.Name())
			names = append(names, c.Aliases...)
			walk(c)
		}
		for _, n := range names {
			if got, want := r.child(cmd, n), findChild(cmd, n); got != want {
				t.Errorf("%q under %q: child gives %v, findChild %v", n, cmd.CommandPath(), got, want)
			}
			checked++
		}
	}
	walk(r.root)
	if checked < 50 {
		t.Fatalf("checked only %d names: the command tree is not there", checked)
	}
}

// FuzzSplitLine checks that the fast path of splitLine (lines without
// quotes, escapes or comments) splits exactly as the full parser does.
func FuzzSplitLine(f *testing.F) {
	for _, s := range []string{"route add 11.0.0.1/32 via 10.0.0.2 dev veth0", "  a\tb\r c ", "", " ", "a\u00a0b\vc", `a "b c"`, "a #b", "a#b", `a\ b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		got, gerr := splitLine(line)
		want, werr := splitQuoted(line)
		if (gerr != nil) != (werr != nil) || !reflect.DeepEqual(got, want) {
			t.Fatalf("splitLine(%q) = %q, %v; the full parser says %q, %v", line, got, gerr, want, werr)
		}
	})
}

// BenchmarkSplitLine is one line of a route batch.
func BenchmarkSplitLine(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := splitLine("route add 11.0.0.1/32 via 10.0.0.2 dev veth0"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSplitQuoted is the same line through the full parser.
func BenchmarkSplitQuoted(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := splitQuoted("route add 11.0.0.1/32 via 10.0.0.2 dev veth0"); err != nil {
			b.Fatal(err)
		}
	}
}
