package uevent_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nlkit/nlkit/uevent"
)

// The files in testdata/ were captured on the machine named in
// testdata/SOURCE by TestCaptureUevents (NLKIT_UEVENT_CAPTURE=1): every
// datagram the kernel (group 1) and udevd (group 2, running in the same
// throwaway namespace) sent while
//
//	ip link add cap0 type veth peer name cap1
//	ip link set cap0 name capx
//	ip link del capx
//
// ran. Each file is one datagram, named NN-SOURCE-ACTION-DEVPATH.bin.

type capture struct {
	name   string
	source uevent.Source
	action uevent.Action
	b      []byte
}

func captures(t testing.TB) []capture {
	t.Helper()
	files, err := filepath.Glob("testdata/*.bin")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("only %d captured datagrams in testdata/", len(files))
	}
	var out []capture
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.SplitN(filepath.Base(f), "-", 4)
		src := uevent.Kernel
		if parts[1] == "udev" {
			src = uevent.Udev
		}
		a, err := uevent.ParseAction(parts[2])
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, capture{filepath.Base(f), src, a, b})
	}
	return out
}

func readCapture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every captured datagram decodes, in the right form, and encodes back
// to the same bytes: for udevd's form, that includes the MurmurHash2 of
// the subsystem and the tag bloom filter in the header.
func TestCapturedRoundTrip(t *testing.T) {
	var kernel, udev int
	for _, c := range captures(t) {
		var ev uevent.Event
		if err := ev.UnmarshalBinary(c.b); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if ev.Source != c.source || ev.Action != c.action {
			t.Errorf("%s: source %v action %v, want %v %v", c.name, ev.Source, ev.Action, c.source, c.action)
		}
		if ev.SeqNum == 0 || ev.Subsystem == "" || !strings.HasPrefix(ev.DevPath, "/devices/virtual/net/cap") {
			t.Errorf("%s: %+v", c.name, ev)
		}
		b, err := ev.MarshalBinary()
		if err != nil {
			t.Errorf("%s: encode: %v", c.name, err)
			continue
		}
		if !bytes.Equal(b, c.b) {
			t.Errorf("%s: encoded\n%q\nwant\n%q", c.name, b, c.b)
		}
		if c.source == uevent.Udev {
			udev++
		} else {
			kernel++
		}
	}
	if kernel == 0 || udev == 0 {
		t.Fatalf("%d kernel and %d udev captures: want both forms", kernel, udev)
	}
}

func TestCapturedKernelAdd(t *testing.T) {
	var ev uevent.Event
	if err := ev.UnmarshalBinary(readCapture(t, "05-kernel-add-net_cap0.bin")); err != nil {
		t.Fatal(err)
	}
	want := uevent.Event{
		Source: uevent.Kernel, Action: uevent.Add, DevPath: "/devices/virtual/net/cap0",
		Subsystem: "net", SeqNum: 27871,
		Properties: []uevent.Property{
			{"ACTION", "add"}, {"DEVPATH", "/devices/virtual/net/cap0"}, {"SUBSYSTEM", "net"},
			{"INTERFACE", "cap0"}, {"IFINDEX", "5"}, {"SEQNUM", "27871"},
		},
	}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("got  %+v\nwant %+v", ev, want)
	}
	if ev.Property("INTERFACE") != "cap0" || ev.Property("NOPE") != "" {
		t.Fatal("Property")
	}
	if _, ok := ev.Get("NOPE"); ok {
		t.Fatal("Get found a missing property")
	}
}

func TestCapturedUdevMove(t *testing.T) {
	b := readCapture(t, "29-udev-move-net_capx.bin")
	var ev uevent.Event
	if err := ev.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if ev.Source != uevent.Udev || ev.Action != uevent.Move || ev.DevPath != "/devices/virtual/net/capx" ||
		ev.Subsystem != "net" || ev.DevType != "" || ev.SeqNum != 27880 {
		t.Fatalf("%+v", ev)
	}
	for k, v := range map[string]string{
		"DEVPATH_OLD": "/devices/virtual/net/cap0", "INTERFACE": "capx", "ID_NET_DRIVER": "veth",
		"TAGS": ":systemd:", "UDEV_DATABASE_VERSION": "1",
	} {
		if got := ev.Property(k); got != v {
			t.Errorf("%s=%q, want %q", k, got, v)
		}
	}
	// udevd puts its own property first.
	if ev.Properties[0] != (uevent.Property{Key: "UDEV_DATABASE_VERSION", Value: "1"}) {
		t.Errorf("first property %v", ev.Properties[0])
	}
	// The header as udevd wrote it (x86: host order is little-endian).
	if string(b[:8]) != "libudev\x00" || binary.BigEndian.Uint32(b[8:]) != 0xfeedcafe ||
		binary.NativeEndian.Uint32(b[16:]) != 40 || int(binary.NativeEndian.Uint32(b[20:])) != len(b)-40 {
		t.Fatalf("header % x", b[:40])
	}
}

func TestActionNames(t *testing.T) {
	names := []string{"add", "remove", "change", "move", "online", "offline", "bind", "unbind"}
	for i, n := range names {
		a, err := uevent.ParseAction(n)
		if err != nil || a != uevent.Action(i+1) || a.String() != n {
			t.Errorf("%s: %v %v %q", n, a, err, a.String())
		}
		txt, err := a.MarshalText()
		if err != nil || string(txt) != n {
			t.Errorf("%s: MarshalText %q %v", n, txt, err)
		}
		var back uevent.Action
		if err := back.UnmarshalText(txt); err != nil || back != a {
			t.Errorf("%s: UnmarshalText %v %v", n, back, err)
		}
	}
	if _, err := uevent.ParseAction("explode"); err == nil || !strings.Contains(err.Error(), `unknown action "explode"`) {
		t.Errorf("unknown action: %v", err)
	}
	if uevent.Action(0).String() != "action(0)" || uevent.Action(99).String() != "action(99)" {
		t.Error("String of invalid actions")
	}
	if _, err := uevent.Action(0).MarshalText(); err == nil {
		t.Error("MarshalText of action 0 succeeded")
	}
	if uevent.Kernel.String() != "kernel" || uevent.Udev.String() != "udev" || uevent.Source(7).String() != "source(7)" {
		t.Error("Source.String")
	}
	j, err := json.Marshal(struct {
		A uevent.Action
		S uevent.Source
	}{uevent.Bind, uevent.Udev})
	if err != nil || string(j) != `{"A":"bind","S":"udev"}` {
		t.Errorf("JSON %s %v", j, err)
	}
}

func udevHeader(magic, hsize, off, n uint32) []byte {
	h := make([]byte, 40)
	copy(h, "libudev\x00")
	binary.BigEndian.PutUint32(h[8:], magic)
	binary.NativeEndian.PutUint32(h[12:], hsize)
	binary.NativeEndian.PutUint32(h[16:], off)
	binary.NativeEndian.PutUint32(h[20:], n)
	return h
}

func TestUnmarshalErrors(t *testing.T) {
	props := "ACTION=add\x00DEVPATH=/devices/x\x00SUBSYSTEM=net\x00SEQNUM=1\x00"
	udev := func(magic, hsize, off, n uint32, body string) []byte {
		return append(udevHeader(magic, hsize, off, n), body...)
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "no NUL after the ACTION@DEVPATH header"},
		{"no NUL", []byte("add@/devices/x"), "no NUL after"},
		{"no @", []byte("add /devices/x\x00" + props), "is not ACTION@DEVPATH"},
		{"unknown action", []byte("explode@/devices/x\x00" + props), `unknown action "explode"`},
		{"header and ACTION differ", []byte("remove@/devices/x\x00" + props), `header "remove@/devices/x" but ACTION=add`},
		{"header and DEVPATH differ", []byte("add@/devices/y\x00" + props), `but ACTION=add DEVPATH=/devices/x`},
		{"no ACTION", []byte("add@/devices/x\x00DEVPATH=/devices/x\x00"), "no ACTION property"},
		{"no DEVPATH", []byte("add@/devices/x\x00ACTION=add\x00"), "no DEVPATH property"},
		{"relative DEVPATH", []byte("add@devices/x\x00ACTION=add\x00DEVPATH=devices/x\x00"), "does not start with /"},
		{"not KEY=VALUE", []byte("add@/devices/x\x00" + props + "JUNK\x00"), `property "JUNK" is not KEY=VALUE`},
		{"empty key", []byte("add@/devices/x\x00" + props + "=v\x00"), `property "=v" is not KEY=VALUE`},
		{"bad SEQNUM", []byte("add@/devices/x\x00ACTION=add\x00DEVPATH=/devices/x\x00SEQNUM=12a\x00"), `SEQNUM="12a" is not a number`},
		{"udev short", []byte("libudev\x00\xfe\xed\xca\xfe"), "shorter than the 40-byte libudev header"},
		{"udev magic", udev(0xcafefeed, 40, 40, uint32(len(props)), props), "libudev magic 0xcafefeed, want 0xfeedcafe"},
		{"udev header size", udev(0xfeedcafe, 8, 40, uint32(len(props)), props), "libudev header size 8"},
		{"udev offset inside header", udev(0xfeedcafe, 40, 12, uint32(len(props)), props), "properties at 12"},
		{"udev length beyond", udev(0xfeedcafe, 40, 40, uint32(len(props))+1, props), "beyond the"},
		{"udev huge length", udev(0xfeedcafe, 40, 40, 0xffffffff, props), "beyond the"},
		{"udev huge offset", udev(0xfeedcafe, 40, 0xfffffff0, 0x20, props), "beyond the"},
		{"udev no ACTION", udev(0xfeedcafe, 40, 40, 18, "DEVPATH=/devices/x\x00"), "no ACTION property"},
		{"udev unknown action", udev(0xfeedcafe, 40, 40, 26, "ACTION=x\x00DEVPATH=/devices/x\x00"), `unknown action "x"`},
	}
	for _, tc := range tests {
		var ev uevent.Event
		ev.DevPath = "/unchanged"
		err := ev.UnmarshalBinary(tc.in)
		if err == nil || !errors.Is(err, uevent.ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrMalformed with %q", tc.name, err, tc.want)
		}
		if ev.DevPath != "/unchanged" {
			t.Errorf("%s: a failed decode changed the event: %+v", tc.name, ev)
		}
	}
}

// Decoding tolerates what the kernel and udevd may send: an empty string
// between properties, a last property without its NUL, a newer udevd's
// longer header, bytes after the properties.
func TestUnmarshalTolerates(t *testing.T) {
	want := uevent.Event{
		Source: uevent.Kernel, Action: uevent.Change, DevPath: "/devices/x", Subsystem: "block", DevType: "disk", SeqNum: 9,
		Properties: []uevent.Property{{"ACTION", "change"}, {"DEVPATH", "/devices/x"}, {"SUBSYSTEM", "block"}, {"DEVTYPE", "disk"}, {"EMPTY", ""}, {"EQ", "a=b"}, {"SEQNUM", "9"}},
	}
	body := "ACTION=change\x00DEVPATH=/devices/x\x00\x00SUBSYSTEM=block\x00DEVTYPE=disk\x00EMPTY=\x00EQ=a=b\x00SEQNUM=9"
	var ev uevent.Event
	if err := ev.UnmarshalBinary([]byte("change@/devices/x\x00" + body)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("got  %+v\nwant %+v", ev, want)
	}
	b := append(udevHeader(0xfeedcafe, 48, 48, uint32(len(body))), make([]byte, 8)...)
	b = append(b, body...)
	b = append(b, "trailing junk"...)
	want.Source = uevent.Udev
	ev = uevent.Event{}
	if err := ev.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("udev: got  %+v\nwant %+v", ev, want)
	}
}

// The decoded event shares no memory with the datagram.
func TestUnmarshalOwnsMemory(t *testing.T) {
	b := readCapture(t, "00-kernel-add-net_cap1.bin")
	var ev uevent.Event
	if err := ev.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 'X'
	}
	if ev.Property("INTERFACE") != "cap1" || ev.DevPath != "/devices/virtual/net/cap1" {
		t.Fatalf("the event changed with its buffer: %+v", ev)
	}
}

func TestMarshalFromFields(t *testing.T) {
	ev := uevent.Event{
		Action: uevent.Add, DevPath: "/devices/virtual/block/loop9", Subsystem: "block", DevType: "disk", SeqNum: 42,
		Properties: []uevent.Property{{"MAJOR", "7"}, {"MINOR", "9"}},
	}
	b, err := ev.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := "add@/devices/virtual/block/loop9\x00ACTION=add\x00DEVPATH=/devices/virtual/block/loop9\x00SUBSYSTEM=block\x00DEVTYPE=disk\x00MAJOR=7\x00MINOR=9\x00SEQNUM=42\x00"
	if string(b) != want {
		t.Fatalf("got  %q\nwant %q", b, want)
	}
	ev.Source = uevent.Udev
	ev.Properties = append(ev.Properties, uevent.Property{Key: "TAGS", Value: ":systemd:"})
	b, err = ev.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back uevent.Event
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if back.Source != uevent.Udev || back.SeqNum != 42 || back.DevType != "disk" || back.Property("MAJOR") != "7" {
		t.Fatalf("%+v", back)
	}
	// udevd's hashes: the capture's subsystem "net" and tag "systemd".
	udevNet := readCapture(t, "14-udev-add-net_cap1.bin")
	netEv := uevent.Event{Source: uevent.Udev, Action: uevent.Add, DevPath: "/x", Subsystem: "net", Properties: []uevent.Property{{"TAGS", ":systemd:"}}}
	nb, err := netEv.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(nb[24:28], udevNet[24:28]) || !bytes.Equal(nb[32:40], udevNet[32:40]) {
		t.Fatalf("hashes % x, udevd's % x", nb[24:40], udevNet[24:40])
	}
	// A devtype hash is set when there is a devtype.
	if binary.BigEndian.Uint32(b[28:]) == 0 {
		t.Fatal("no devtype hash")
	}
}

func TestMarshalErrors(t *testing.T) {
	ok := uevent.Event{Action: uevent.Add, DevPath: "/devices/x"}
	tests := []struct {
		name string
		edit func(*uevent.Event)
		want string
	}{
		{"no action", func(e *uevent.Event) { e.Action = 0 }, "invalid action 0"},
		{"relative devpath", func(e *uevent.Event) { e.DevPath = "devices/x" }, "must start with /"},
		{"NUL in devpath", func(e *uevent.Event) { e.DevPath = "/a\x00b" }, "hold no NUL"},
		{"bad source", func(e *uevent.Event) { e.Source = 9 }, "invalid source 9"},
		{"ACTION contradicts", func(e *uevent.Event) { e.Properties = []uevent.Property{{"ACTION", "remove"}} }, `action is "add" but its properties say ACTION=remove`},
		{"SUBSYSTEM contradicts", func(e *uevent.Event) {
			e.Subsystem = "net"
			e.Properties = []uevent.Property{{"SUBSYSTEM", "block"}}
		}, `subsystem is "net" but its properties say SUBSYSTEM=block`},
		{"SUBSYSTEM without the field", func(e *uevent.Event) { e.Properties = []uevent.Property{{"SUBSYSTEM", "block"}} }, `subsystem is "" but`},
		{"SEQNUM contradicts", func(e *uevent.Event) {
			e.SeqNum = 5
			e.Properties = []uevent.Property{{"SEQNUM", "6"}}
		}, "sequence number is 5 but its properties say SEQNUM=6"},
		{"empty key", func(e *uevent.Event) { e.Properties = []uevent.Property{{"", "v"}} }, "want a key without = or NUL"},
		{"= in key", func(e *uevent.Event) { e.Properties = []uevent.Property{{"A=B", "v"}} }, "want a key without = or NUL"},
		{"NUL in value", func(e *uevent.Event) { e.Properties = []uevent.Property{{"A", "v\x00w"}} }, "a value without NUL"},
	}
	for _, tc := range tests {
		ev := ok
		tc.edit(&ev)
		if _, err := ev.MarshalBinary(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// A SEQNUM written differently but equal in value is consistent.
	ev := ok
	ev.SeqNum = 7
	ev.Properties = []uevent.Property{{"SEQNUM", "007"}}
	if _, err := ev.MarshalBinary(); err != nil {
		t.Fatal(err)
	}
}
