package leaktest

import (
	"runtime"
	"testing"
)

func TestCheck(t *testing.T) {
	before := runtime.NumGoroutine()
	if err := Check(before); err != nil {
		t.Fatalf("no leak reported as one: %v", err)
	}
	stop := make(chan struct{})
	go func() { <-stop }()
	if err := Check(before); err == nil {
		t.Fatal("a leaked goroutine was not reported")
	}
	close(stop)
	if err := Check(before); err != nil {
		t.Fatalf("after the goroutine ended: %v", err)
	}
}
