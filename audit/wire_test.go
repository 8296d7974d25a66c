package audit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestStatusRoundTrip(t *testing.T) {
	s := Status{
		Mask: StatusEnabled | StatusPID, Enabled: Enabled, Failure: FailPanic, PID: 1234, RateLimit: 5,
		BacklogLimit: 8192, Lost: 7, Backlog: 3, FeatureBitmap: FeatureLostReset | FeatureBacklogLimit,
		BacklogWaitTime: 60000, BacklogWaitTimeActual: 42,
	}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 44 {
		t.Fatalf("struct audit_status of %d bytes, want 44", len(b))
	}
	// Offsets of struct audit_status.
	ne := binary.NativeEndian
	for off, want := range map[int]uint32{0: 0x5, 4: 1, 8: 2, 12: 1234, 16: 5, 20: 8192, 24: 7, 28: 3, 32: 0x21, 36: 60000, 40: 42} {
		if got := ne.Uint32(b[off:]); got != want {
			t.Errorf("offset %d: %d, want %d", off, got, want)
		}
	}
	var got Status
	if err := got.UnmarshalBinary(b); err != nil || got != s {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, s)
	}
}

func TestStatusOldKernels(t *testing.T) {
	full, _ := Status{Enabled: Enabled, PID: 9, Backlog: 4, FeatureBitmap: 3, BacklogWaitTime: 5, BacklogWaitTimeActual: 6}.MarshalBinary()
	for _, n := range []int{32, 36, 40, 44, 48} {
		b := append([]byte(nil), full...)
		for len(b) < n {
			b = append(b, 0xff) // a later kernel's extra field
		}
		b = b[:n]
		var s Status
		if err := s.UnmarshalBinary(b); err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if s.Enabled != Enabled || s.PID != 9 || s.Backlog != 4 {
			t.Errorf("%d bytes: %+v", n, s)
		}
		if (n >= 36) != (s.FeatureBitmap == 3) || (n >= 40) != (s.BacklogWaitTime == 5) || (n >= 44) != (s.BacklogWaitTimeActual == 6) {
			t.Errorf("%d bytes: fields past the payload not zero, or present ones lost: %+v", n, s)
		}
	}
	var s Status
	if err := s.UnmarshalBinary(full[:31]); !errors.Is(err, ErrShortStatus) {
		t.Errorf("31 bytes: %v, want ErrShortStatus", err)
	}
}

func TestMessageTypeNames(t *testing.T) {
	for _, c := range []struct {
		t    MessageType
		name string
	}{
		{MsgSyscall, "SYSCALL"}, {MsgPath, "PATH"}, {MsgCWD, "CWD"}, {MsgExecve, "EXECVE"}, {MsgEOE, "EOE"},
		{MsgProctitle, "PROCTITLE"}, {MsgConfigChange, "CONFIG_CHANGE"}, {1105, "USER_START"},
		{MsgGet, "GET"}, {4321, "UNKNOWN[4321]"},
	} {
		if got := c.t.String(); got != c.name {
			t.Errorf("%d: %q, want %q", c.t, got, c.name)
		}
		back, err := ParseMessageType(c.name)
		if err != nil || back != c.t {
			t.Errorf("ParseMessageType(%q) = %d, %v", c.name, back, err)
		}
	}
	if got, err := ParseMessageType("1300"); err != nil || got != MsgSyscall {
		t.Errorf("ParseMessageType(1300) = %v, %v", got, err)
	}
	for _, bad := range []string{"", "NOSUCH", "70000", "-1", "UNKNOWN[x]"} {
		if _, err := ParseMessageType(bad); err == nil {
			t.Errorf("ParseMessageType(%q) succeeded", bad)
		}
	}
}

func TestRecordTypeClasses(t *testing.T) {
	for _, c := range []struct {
		t                  MessageType
		record, standalone bool
	}{
		{MsgSyscall, true, false}, {MsgEOE, true, false}, {MsgConfigChange, true, false},
		{MsgUser, true, true}, {MsgLogin, true, false}, {1105, true, true}, {1200, true, true},
		{2100, true, true}, {MsgKernel, true, true}, {MsgReplace, false, false},
		{MsgGet, false, false}, {MsgListRules, false, false}, {2, false, false},
	} {
		if c.t.isRecord() != c.record || c.t.standalone() != c.standalone {
			t.Errorf("%v: record %v standalone %v, want %v %v", c.t, c.t.isRecord(), c.t.standalone(), c.record, c.standalone)
		}
	}
}

func TestFlagNames(t *testing.T) {
	if got := (StatusEnabled | StatusPID | 0x100).String(); got != "enabled|pid|0x100" {
		t.Errorf("StatusMask: %q", got)
	}
	if got := Features(0x7f).Names(); len(got) != 7 || got[0] != "backlog_limit" || got[6] != "filter_fs" {
		t.Errorf("Features: %q", got)
	}
	if got := Features(0x180).String(); got != "0x180" {
		t.Errorf("unknown features: %q", got)
	}
	if Locked.String() != "locked" || FailPrintk.String() != "printk" || EnabledState(9).String() != "enabled(9)" {
		t.Error("enum names")
	}
}

func TestStatusMarshalIsNative(t *testing.T) {
	b, _ := Status{Mask: 1}.MarshalBinary()
	want := binary.NativeEndian.AppendUint32(nil, 1)
	if !bytes.Equal(b[:4], want) {
		t.Errorf("mask encoded as % x", b[:4])
	}
}
