// Package vmcheck runs the named checks of a static checker binary inside
// the test VM and prints their results in the form internal/vmtest reads:
// "=== CHECK name", "--- PASS name (d)" or "--- FAIL name (d): error",
// indented detail lines, and a last line "vmcheck: N passed, M failed".
// A panicking check fails with its stack instead of ending the run.
package vmcheck

import (
	"fmt"
	"runtime/debug"
	"time"
)

// Check is one named check over an environment E.
type Check[E any] struct {
	Name string
	Fn   func(E) error
}

// Run runs the checks for which selected returns true, in order, and
// reports whether every one passed (and at least one ran).
func Run[E any](checks []Check[E], e E, selected func(name string) bool) bool {
	start := time.Now()
	passed, failed := 0, 0
	for _, c := range checks {
		if !selected(c.Name) {
			continue
		}
		fmt.Printf("=== CHECK %s\n", c.Name)
		t0 := time.Now()
		err := run(c, e)
		d := time.Since(t0).Round(time.Millisecond)
		if err != nil {
			failed++
			fmt.Printf("--- FAIL %s (%v): %v\n", c.Name, d, err)
		} else {
			passed++
			fmt.Printf("--- PASS %s (%v)\n", c.Name, d)
		}
	}
	fmt.Printf("vmcheck: %d passed, %d failed in %v\n", passed, failed, time.Since(start).Round(time.Millisecond))
	return failed == 0 && passed > 0
}

func run[E any](c Check[E], e E) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return c.Fn(e)
}

// Logf prints a detail line under the current check.
func Logf(format string, a ...any) {
	fmt.Printf("    "+format+"\n", a...)
}
