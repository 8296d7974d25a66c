package audit

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseRecord(t *testing.T) {
	tests := []struct {
		name   string
		typ    MessageType
		in     string
		serial uint64
		millis int64
		fields Fields
	}{
		{
			"syscall", MsgSyscall,
			`audit(1700000000.123:456): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c items=2 comm="sh" exe="/bin/busybox" key="watchkey"`,
			456, 1700000000123,
			Fields{{"arch", "c000003e"}, {"syscall", "257"}, {"success", "yes"}, {"exit", "3"}, {"a0", "ffffff9c"},
				{"items", "2"}, {"comm", "sh"}, {"exe", "/bin/busybox"}, {"key", "watchkey"}},
		},
		{
			"hex-encoded proctitle", MsgProctitle,
			"audit(1700000000.123:456): proctitle=2F62696E2F7368002D63006563686F206869",
			456, 1700000000123,
			Fields{{"proctitle", "/bin/sh -c echo hi"}},
		},
		{
			"quoted proctitle", MsgProctitle, `audit(1.000:1): proctitle="vmcheck"`, 1, 1000,
			Fields{{"proctitle", "vmcheck"}},
		},
		{
			"path with a space, hex; null key", MsgPath,
			`audit(1.000:2): item=0 name=2F746D702F6120622F key=(null) inode=12 mode=0100644`,
			2, 1000,
			Fields{{"item", "0"}, {"name", "/tmp/a b/"}, {"key", "(null)"}, {"inode", "12"}, {"mode", "0100644"}},
		},
		{
			"keys joined by \\x01", MsgSyscall, `audit(1.000:3): key=6B31016B32`, 3, 1000,
			Fields{{"key", "k1\x01k2"}},
		},
		{
			"execve arguments", MsgExecve,
			`audit(1.000:4): argc=3 a0="/bin/sh" a1="-c" a2=6563686F206869 a3_len=10 a3[0]=6869`,
			4, 1000,
			Fields{{"argc", "3"}, {"a0", "/bin/sh"}, {"a1", "-c"}, {"a2", "echo hi"}, {"a3_len", "10"}, {"a3[0]", "hi"}},
		},
		{
			"a0 of SYSCALL is a number, not text", MsgSyscall, `audit(1.000:5): a0=6869 a1=abc`, 5, 1000,
			Fields{{"a0", "6869"}, {"a1", "abc"}},
		},
		{
			"user message", 1105,
			`audit(1.000:6): pid=1 uid=0 auid=4294967295 msg='op=PAM:session_open acct="root" exe="/usr/bin/su" res=success'`,
			6, 1000,
			Fields{{"pid", "1"}, {"uid", "0"}, {"auid", "4294967295"}, {"msg", `op=PAM:session_open acct="root" exe="/usr/bin/su" res=success`}},
		},
		{
			"AVC prose is skipped", MsgAVC,
			`audit(1.000:7): avc:  denied  { read } for  pid=3 comm="cat" name="shadow"`,
			7, 1000,
			Fields{{"pid", "3"}, {"comm", "cat"}, {"name", "shadow"}},
		},
		{"EOE", MsgEOE, "audit(1.000:8): ", 8, 1000, nil},
		{"EOE without the space, with NUL and newline", MsgEOE, "audit(1.000:9):\x00\n", 9, 1000, nil},
		{
			"unterminated quote runs to the end", MsgPath, `audit(1.000:10): name="abc def`, 10, 1000,
			Fields{{"name", "abc def"}},
		},
		{
			"odd hex stays raw", MsgPath, `audit(1.000:11): name=ABC cwd=zz`, 11, 1000,
			Fields{{"name", "ABC"}, {"cwd", "zz"}},
		},
		{"empty values", MsgSyscall, `audit(1.000:12): a= b="" =x`, 12, 1000, Fields{{"a", ""}, {"b", ""}}},
	}
	for _, tt := range tests {
		r, err := ParseRecord(tt.typ, []byte(tt.in))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if r.Type != tt.typ || r.Serial != tt.serial || r.Time.UnixMilli() != tt.millis || !reflect.DeepEqual(r.Fields, tt.fields) {
			t.Errorf("%s:\n got %v %d %d %q\nwant %v %d %d %q", tt.name, r.Type, r.Serial, r.Time.UnixMilli(), r.Fields,
				tt.typ, tt.serial, tt.millis, tt.fields)
		}
		if r.Time.Location() != time.UTC {
			t.Errorf("%s: time in %v, want UTC", tt.name, r.Time.Location())
		}
		back, err := ParseRecord(r.Type, r.Payload())
		if err != nil || !reflect.DeepEqual(back, r) {
			t.Errorf("%s: Payload %q parses to %+v, %v", tt.name, r.Payload(), back, err)
		}
	}
}

func TestParseRecordErrors(t *testing.T) {
	for _, in := range []string{
		"", "arch=c000003e", "audit(", "audit(1.000:1)", "audit(1.000): x", "audit(1:1): x", "audit(1.00:1): x",
		"audit(1.0000:1): x", "audit(a.000:1): x", "audit(1.000:x): x", "audit(-1.000:1): x", "audit(1.000:-1): x",
		"audit(99999999999999999999.000:1): x", "audit(1.000:99999999999999999999): x", "audit(.000:1): x",
	} {
		_, err := ParseRecord(MsgSyscall, []byte(in))
		if !errors.Is(err, ErrMalformedRecord) {
			t.Errorf("%q: %v, want ErrMalformedRecord", in, err)
		}
	}
}

func TestRecordFormats(t *testing.T) {
	r, err := ParseRecord(MsgCWD, []byte(`audit(1700000000.007:42): cwd="/root"`))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.String(); got != `type=CWD msg=audit(1700000000.007:42): cwd="/root"` {
		t.Errorf("String: %q", got)
	}
	if v, ok := r.Get("cwd"); !ok || v != "/root" {
		t.Errorf("Get: %q %v", v, ok)
	}
	if _, ok := r.Get("nosuch"); ok {
		t.Error("Get of a missing field")
	}
	b, err := json.Marshal(r)
	if err != nil || string(b) != `{"type":"CWD","fields":{"cwd":"/root"}}` {
		t.Errorf("JSON %s, %v", b, err)
	}
	// Order kept, repeated keys written again, escapes.
	fs := Fields{{"z", "1"}, {"a", "\"q\"\x01"}, {"z", "2"}}
	b, _ = json.Marshal(fs)
	if string(b) != `{"z":"1","a":"\"q\"\u0001","z":"2"}` {
		t.Errorf("Fields JSON %s", b)
	}
	b, _ = json.Marshal(Record{Type: MsgEOE})
	if string(b) != `{"type":"EOE","fields":{}}` {
		t.Errorf("empty record JSON %s", b)
	}
}

func TestParseDatagram(t *testing.T) {
	text := []byte("audit(1.000:1): cwd=\"/\"")
	mk := func(l uint32, payload []byte, pad int) []byte {
		b := binary.NativeEndian.AppendUint32(nil, l)
		b = binary.NativeEndian.AppendUint16(b, uint16(MsgCWD))
		b = append(b, make([]byte, 10)...)
		b = append(b, payload...)
		return append(b, make([]byte, pad)...)
	}
	tests := []struct {
		name string
		b    []byte
		want string
		ok   bool
	}{
		{"daemon: nlmsg_len is the payload's", mk(uint32(len(text)), text, 0), string(text), true},
		{"multicast: the real length", mk(uint32(16+len(text)), text, 0), string(text), true},
		{"multicast, padded", mk(uint32(16+len(text)), text, 1), string(text), true},
		{"empty payload, real length", mk(16, nil, 0), "", true},
		{"length past the end", mk(100, text, 0), "", false},
		{"length below a header", mk(5, text, 0), "", false},
		{"short datagram", mk(0, nil, 0)[:15], "", false},
	}
	for _, tt := range tests {
		typ, payload, err := ParseDatagram(tt.b)
		if (err == nil) != tt.ok || (tt.ok && (string(payload) != tt.want || typ != MsgCWD)) {
			t.Errorf("%s: %v %q %v", tt.name, typ, payload, err)
		}
		if err != nil && !errors.Is(err, ErrMalformedRecord) {
			t.Errorf("%s: %v does not match ErrMalformedRecord", tt.name, err)
		}
	}
}

func TestEncodedFieldNames(t *testing.T) {
	for _, c := range []struct {
		t    MessageType
		key  string
		want bool
	}{
		{MsgExecve, "a0", true}, {MsgExecve, "a12", true}, {MsgExecve, "a1[3]", true}, {MsgExecve, "a1_len", false},
		{MsgExecve, "argc", false}, {MsgExecve, "a", false}, {MsgExecve, "a1[x]", false}, {MsgSyscall, "a0", false},
		{MsgPath, "name", true}, {MsgSyscall, "syscall", false}, {MsgTTY, "data", true},
	} {
		if got := encodedField(c.t, c.key); got != c.want {
			t.Errorf("%v %s: %v", c.t, c.key, got)
		}
	}
	if strings.Contains(clip(strings.Repeat("x", 100)), strings.Repeat("x", 65)) {
		t.Error("clip")
	}
}
