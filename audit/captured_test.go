package audit

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

// The files in testdata/ are datagrams captured from Debian's 6.1 kernel
// inside the VM of internal/vmtest (NLKIT_AUDIT_CAPTURE=1 go test -run
// TestAuditVM ./internal/vmtest), one per line in hex after # comments
// that say what they are:
//
//	status_get.hex          the AUDIT_GET reply at boot (audit off)
//	status_get_eperm.hex    AUDIT_GET from uid 65534: NLMSG_ERROR EPERM
//	rules_list.hex          AUDIT_LIST_RULES of capturedRules, then NLMSG_DONE
//	add_rule_eexist.hex     AUDIT_ADD_RULE of an existing watch: EEXIST
//	event_watch.hex         records of a watched write, as the daemon gets them
//	event_exec.hex          records of an execve, as the daemon gets them
//	event_readlog.hex       records of an execve, as the read-log group gets them

// capturedRules are the rules of rules_list.hex as auditctl -l prints them.
var capturedRules = []string{
	"-w /tmp/audit-watched -p wa -k watchkey",
	"-a always,exit -F arch=b64 -S openat -F key=mykey",
	"-a always,exit -F arch=b64 -S execve -F key=execkey",
	"-a always,exit -F arch=b64 -S unlink,unlinkat -F auid>=1000 -F auid!=unset -F success=0 -F key=mixed",
	"-w /tmp/auditdir -p w -k dirkey",
}

// readHex returns the datagrams of a capture file.
func readHex(t testing.TB, name string) [][]byte {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		b, err := hex.DecodeString(l)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, b)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no datagrams", name)
	}
	return out
}

// oneMessage parses a reply datagram, which holds one netlink message.
func oneMessage(t *testing.T, b []byte) netlink.Message {
	t.Helper()
	msgs, err := netlink.ParseMessages(b)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("datagram of %d bytes: %d messages, %v", len(b), len(msgs), err)
	}
	return msgs[0]
}

func TestCapturedStatus(t *testing.T) {
	m := oneMessage(t, readHex(t, "status_get.hex")[0])
	if MessageType(m.Header.Type) != MsgGet || m.Header.Flags != 0 || len(m.Data) != 44 {
		t.Fatalf("reply %s with %d bytes", netlink.FormatMessage(m), len(m.Data))
	}
	var s Status
	if err := s.UnmarshalBinary(m.Data); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.MarshalBinary(); !bytes.Equal(b, m.Data) {
		t.Errorf("re-encoded % x, captured % x", b, m.Data)
	}
	// Debian's kernel booted without audit=1 and nothing changed yet.
	want := Status{Enabled: Disabled, Failure: FailPrintk, BacklogLimit: 64, FeatureBitmap: 0x7f, BacklogWaitTime: 15000}
	s.Lost, s.Backlog = 0, 0 // whatever the boot left
	if s != want {
		t.Errorf("status %+v, want %+v", s, want)
	}
}

func TestCapturedErrors(t *testing.T) {
	for _, c := range []struct {
		file  string
		errno syscall.Errno
		req   MessageType
	}{
		{"status_get_eperm.hex", syscall.EPERM, MsgGet},
		{"add_rule_eexist.hex", syscall.EEXIST, MsgAddRule},
	} {
		m := oneMessage(t, readHex(t, c.file)[0])
		if m.Header.Type != netlink.Error {
			t.Fatalf("%s: %s", c.file, netlink.FormatMessage(m))
		}
		info, err := netlink.ParseAck(m.Header.Flags, m.Data)
		if err != nil || info.Errno != c.errno || MessageType(info.Request.Type) != c.req {
			t.Errorf("%s: %+v, %v", c.file, info, err)
		}
	}
	// The EEXIST echoes the whole request: the rule as Marshal built it.
	m := oneMessage(t, readHex(t, "add_rule_eexist.hex")[0])
	r, err := ParseRule(strings.Fields(capturedRules[0]))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := r.MarshalBinary()
	if echo := m.Data[4+netlink.HeaderLen:]; !bytes.HasPrefix(echo, want) {
		t.Errorf("echoed request differs from the marshalled rule")
	}
}

func TestCapturedRules(t *testing.T) {
	dgrams := readHex(t, "rules_list.hex")
	if len(dgrams) != len(capturedRules)+1 {
		t.Fatalf("%d datagrams, want %d rules and NLMSG_DONE", len(dgrams), len(capturedRules))
	}
	if done := oneMessage(t, dgrams[len(dgrams)-1]); done.Header.Type != netlink.Done || done.Header.Flags != netlink.Multi || len(done.Data) != 0 {
		t.Errorf("last datagram %s, %d bytes; want an empty NLMSG_DONE", netlink.FormatMessage(done), len(done.Data))
	}
	isDir := RuleParser{Arch: ArchAMD64, IsDir: func(p string) bool { return p == "/tmp/auditdir" }}
	for i, b := range dgrams[:len(capturedRules)] {
		m := oneMessage(t, b)
		if MessageType(m.Header.Type) != MsgListRules || m.Header.Flags != netlink.Multi {
			t.Errorf("rule %d: %s", i, netlink.FormatMessage(m))
		}
		var r Rule
		if err := r.UnmarshalBinary(m.Data); err != nil {
			t.Fatalf("rule %d: %v", i, err)
		}
		if s := r.format(ArchAMD64); s != capturedRules[i] {
			t.Errorf("rule %d prints as %q, want %q", i, s, capturedRules[i])
		}
		want, err := isDir.Parse(strings.Fields(capturedRules[i]))
		if err != nil {
			t.Fatal(err)
		}
		if !r.Equal(want) {
			t.Errorf("rule %d: listed %+v, parsed %+v", i, r, want)
		}
		// Byte for byte: what the kernel lists is what Marshal writes.
		if enc, _ := r.MarshalBinary(); !bytes.Equal(enc, m.Data) {
			t.Errorf("rule %d: re-encoded rule differs from the kernel's", i)
		}
	}
}

// capturedEvent reads an event's datagrams, checking the nlmsg_len the
// kernel wrote (daemon: the payload's; read-log: the real one), and
// assembles them.
func capturedEvent(t *testing.T, name string, daemon bool) Event {
	t.Helper()
	var a Assembler
	var evs []Event
	for i, b := range readHex(t, name) {
		l := int(binary.NativeEndian.Uint32(b))
		if daemon && l != len(b)-16 || !daemon && l != len(b) {
			t.Errorf("%s datagram %d: nlmsg_len %d of %d bytes", name, i, l, len(b))
		}
		if daemon {
			// Why the daemon's records are read raw: the netlink parser
			// takes nlmsg_len at its word and loses the tail.
			if msgs, err := netlink.ParseMessages(b); err == nil && len(msgs) == 1 && len(msgs[0].Data) == len(b)-16 {
				t.Errorf("%s datagram %d parses as a normal message", name, i)
			}
		}
		typ, payload, err := ParseDatagram(b)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ParseRecord(typ, payload)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, a.Push(r, time.Now())...)
	}
	if len(evs) != 1 || a.Pending() != 0 || !evs[0].Complete() {
		t.Fatalf("%s: %d events, %d pending", name, len(evs), a.Pending())
	}
	return evs[0]
}

func types(e Event) string {
	var s []string
	for _, r := range e.Records {
		s = append(s, r.Type.String())
	}
	return strings.Join(s, ",")
}

// expect checks fields of the first record of type t.
func expect(t *testing.T, e Event, typ MessageType, kv ...string) {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		if v, ok := e.Get(typ, kv[i]); !ok || v != kv[i+1] {
			t.Errorf("%v %s=%q (%v), want %q", typ, kv[i], v, ok, kv[i+1])
		}
	}
}

func TestCapturedWatchEvent(t *testing.T) {
	e := capturedEvent(t, "event_watch.hex", true)
	if got := types(e); got != "SYSCALL,CWD,PATH,PATH,PROCTITLE,EOE" {
		t.Errorf("records %s", got)
	}
	expect(t, e, MsgSyscall, "arch", "c000003e", "syscall", "257", "success", "yes", "comm", "sh", "exe", "/bin/busybox", "key", "watchkey")
	expect(t, e, MsgCWD, "cwd", "/")
	expect(t, e, MsgProctitle, "proctitle", "/bin/sh -c echo hi >> /tmp/audit-watched")
	if e.Records[3].Type != MsgPath {
		t.Fatal("no second PATH")
	}
	if n, _ := e.Records[3].Get("name"); n != "/tmp/audit-watched" {
		t.Errorf("second PATH name %q", n)
	}
	if p, _ := e.Records[4].Fields.Get("proctitle"); !strings.HasPrefix(e.Records[4].Text, "proctitle=2F62696E2F7368") || p == "" {
		t.Errorf("proctitle not hex on the wire: %s", e.Records[4].Text)
	}
}

func TestCapturedExecEvents(t *testing.T) {
	for _, c := range []struct {
		file   string
		daemon bool
		argv   []string
	}{
		{"event_exec.hex", true, []string{"/bin/sh", "-c", "echo hi >> /tmp/audit-watched"}},
		{"event_readlog.hex", false, []string{"/bin/sh", "-c", "true"}},
	} {
		e := capturedEvent(t, c.file, c.daemon)
		if got := types(e); got != "SYSCALL,EXECVE,CWD,PATH,PATH,PROCTITLE,EOE" {
			t.Errorf("%s: records %s", c.file, got)
		}
		expect(t, e, MsgSyscall, "syscall", "59", "exe", "/bin/busybox", "comm", "sh", "key", "execkey")
		expect(t, e, MsgExecve, "argc", "3", "a0", c.argv[0], "a1", c.argv[1], "a2", c.argv[2])
		expect(t, e, MsgPath, "name", "/bin/sh")
		expect(t, e, MsgProctitle, "proctitle", strings.Join(c.argv, " "))
		for _, r := range e.Records {
			if r.Serial != e.Serial || !r.Time.Equal(e.Time) {
				t.Errorf("%s: record %v of serial %d at %v in event %d at %v", c.file, r.Type, r.Serial, r.Time, e.Serial, e.Time)
			}
		}
	}
}
