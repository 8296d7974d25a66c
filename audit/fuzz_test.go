package audit

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/nlkit/nlkit/netlink"
)

// seedCaptured adds the payloads of a capture file's messages (or the
// whole datagrams, raw) to a fuzz corpus.
func seedCaptured(f *testing.F, name string, raw bool) {
	if _, err := os.Stat("testdata/" + name); err != nil {
		return
	}
	for _, b := range readHex(f, name) {
		if raw {
			f.Add(b)
			continue
		}
		if msgs, err := netlink.ParseMessages(b); err == nil && len(msgs) == 1 {
			f.Add(msgs[0].Data)
		}
	}
}

func FuzzStatusUnmarshal(f *testing.F) {
	seedCaptured(f, "status_get.hex", false)
	f.Add(make([]byte, 32))
	f.Add(make([]byte, 40))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Status
		if err := s.UnmarshalBinary(b); err != nil {
			if len(b) >= 32 {
				t.Fatalf("%d bytes rejected: %v", len(b), err)
			}
			return
		}
		enc, _ := s.MarshalBinary()
		n := min(len(b)&^3, len(enc)) // a partial trailing field is ignored
		if !bytes.Equal(enc[:n], b[:n]) || !bytes.Equal(enc[n:], make([]byte, len(enc)-n)) {
			t.Fatalf("round trip % x: % x", b, enc)
		}
	})
}

func FuzzRuleUnmarshal(f *testing.F) {
	seedCaptured(f, "rules_list.hex", false)
	w, _ := WatchRule("/etc/passwd", PermWrite, "k").MarshalBinary()
	f.Add(w)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Rule
		if err := r.UnmarshalBinary(b); err != nil {
			return
		}
		enc, err := r.MarshalBinary()
		if err != nil {
			// Decoding accepts what encoding refuses only for lists
			// out of range, which the flags' mask makes impossible.
			t.Fatalf("decoded rule does not encode: %v", err)
		}
		var again Rule
		if err := again.UnmarshalBinary(enc); err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, r)
		}
		_ = r.String()
	})
}

func FuzzParseRecord(f *testing.F) {
	for _, name := range []string{"event_watch.hex", "event_exec.hex"} {
		if _, err := os.Stat("testdata/" + name); err == nil {
			for _, b := range readHex(f, name) {
				if _, p, err := ParseDatagram(b); err == nil {
					f.Add(uint16(MsgSyscall), p)
				}
			}
		}
	}
	f.Add(uint16(MsgExecve), []byte(`audit(1.000:1): argc=2 a0="x" a1=6869`))
	f.Add(uint16(1105), []byte(`audit(1.000:1): msg='a=b c="d"'`))
	f.Fuzz(func(t *testing.T, typ uint16, b []byte) {
		r, err := ParseRecord(MessageType(typ), b)
		if err != nil {
			return
		}
		back, err := ParseRecord(r.Type, r.Payload())
		if err != nil || !reflect.DeepEqual(back, r) {
			t.Fatalf("round trip of %q via %q: %+v, %v; want %+v", b, r.Payload(), back, err, r)
		}
		if _, err := r.MarshalJSON(); err != nil {
			t.Fatal(err)
		}
		_ = r.String()
	})
}

func FuzzParseDatagram(f *testing.F) {
	for _, name := range []string{"event_watch.hex", "event_readlog.hex", "status_get.hex"} {
		seedCaptured(f, name, true)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, p, err := ParseDatagram(b)
		if err == nil && len(p) > len(b)-16 {
			t.Fatalf("payload of %d bytes from a datagram of %d", len(p), len(b))
		}
	})
}

func FuzzParseRule(f *testing.F) {
	for _, s := range capturedRules {
		f.Add(s)
	}
	f.Add("-a always,exit -F arch=b32 -S open,execve -F exit=-EACCES -F a0&=0x10 -k x")
	f.Add("-A never,exclude -F msgtype=CWD")
	f.Add("-w /etc/ -p x")
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Fields(s)
		r, err := amd64.Parse(args)
		if err != nil {
			return
		}
		if _, err := r.MarshalBinary(); err != nil {
			t.Fatalf("%q parses to a rule that does not encode: %v", s, err)
		}
		// What String prints parses back to the same rule, a directory
		// watch being told by the file system as auditctl does.
		dirs := RuleParser{Arch: ArchAMD64, IsDir: func(p string) bool {
			return len(r.Fields) > 0 && r.Fields[0].Field == FieldDir && r.Fields[0].Str == p
		}}
		printed := r.format(ArchAMD64)
		back, err := dirs.Parse(strings.Fields(printed))
		if err != nil || !back.Equal(r) {
			t.Fatalf("%q -> %q -> %+v, %v; want %+v", s, printed, back, err, r)
		}
	})
}
