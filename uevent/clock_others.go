//go:build !linux

package uevent

import "time"

// monotonic is zero where uevents do not exist.
func monotonic() time.Duration { return 0 }
