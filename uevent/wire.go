package uevent

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Action is what happened to a device (enum kobject_action, named as in
// kobject_actions[] of lib/kobject_uevent.c).
type Action uint8

// Actions the kernel sends.
const (
	Add     Action = iota + 1 // KOBJ_ADD: the device appeared
	Remove                    // KOBJ_REMOVE: the device went away
	Change                    // KOBJ_CHANGE: its state changed (or `udevadm trigger`)
	Move                      // KOBJ_MOVE: renamed or moved to another parent (DEVPATH_OLD)
	Online                    // KOBJ_ONLINE: a CPU or memory block went online
	Offline                   // KOBJ_OFFLINE: ... went offline
	Bind                      // KOBJ_BIND: a driver bound to it (Linux 4.14+)
	Unbind                    // KOBJ_UNBIND: its driver unbound
)

var actionNames = [...]string{
	Add: "add", Remove: "remove", Change: "change", Move: "move",
	Online: "online", Offline: "offline", Bind: "bind", Unbind: "unbind",
}

// String returns the action's name as the kernel spells it ("add").
func (a Action) String() string {
	if a >= Add && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// ParseAction parses an action's name ("add", "remove", ...).
func ParseAction(s string) (Action, error) {
	for a := Add; int(a) < len(actionNames); a++ {
		if actionNames[a] == s {
			return a, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown action %q (want add, remove, change, move, online, offline, bind or unbind)", ErrMalformed, s)
}

// MarshalText returns the action's name, for JSON.
func (a Action) MarshalText() ([]byte, error) {
	if a < Add || int(a) >= len(actionNames) {
		return nil, fmt.Errorf("uevent: invalid action %d", uint8(a))
	}
	return []byte(actionNames[a]), nil
}

// UnmarshalText parses an action's name.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := ParseAction(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Source tells who sent an event and so in which form it came.
type Source uint8

// Sources.
const (
	// Kernel events come from the kernel on GroupKernel as
	// "ACTION@DEVPATH" followed by the properties.
	Kernel Source = iota
	// Udev events are rebroadcast by udevd on GroupUdev after its rules
	// ran, with a libudev header (struct monitor_netlink_header) and the
	// properties the rules added.
	Udev
)

// String returns "kernel" or "udev".
func (s Source) String() string {
	switch s {
	case Kernel:
		return "kernel"
	case Udev:
		return "udev"
	}
	return fmt.Sprintf("source(%d)", uint8(s))
}

// MarshalText returns the source's name, for JSON.
func (s Source) MarshalText() ([]byte, error) {
	if s > Udev {
		return nil, fmt.Errorf("uevent: invalid source %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// Property is one KEY=VALUE pair of an event.
type Property struct {
	Key   string
	Value string
}

// String returns "KEY=VALUE".
func (p Property) String() string { return p.Key + "=" + p.Value }

// Event is one uevent: a device that was added, removed, changed...
// The typed fields repeat properties the kernel always sends; Properties
// holds every property in the order received, those included.
type Event struct {
	// Source says whether the kernel or udevd sent the event.
	Source Source
	// Action is the ACTION property (and, from the kernel, the first
	// word of the header).
	Action Action
	// DevPath is the device's path under /sys (DEVPATH), such as
	// /devices/virtual/net/veth0.
	DevPath string
	// Subsystem is the SUBSYSTEM property ("net", "block", "queues").
	Subsystem string
	// DevType is the DEVTYPE property ("disk", "partition", "wlan"),
	// empty for most devices.
	DevType string
	// SeqNum is the kernel's sequence number of the event (SEQNUM), or
	// 0 if absent. udevd keeps the kernel's number.
	SeqNum uint64
	// Properties are all KEY=VALUE pairs in the order received.
	Properties []Property
	// Received is when a Subscription read the event, on the monotonic
	// clock (CLOCK_MONOTONIC: time since boot, not counting suspend), as
	// udevadm monitor prints it and udev's USEC_INITIALIZED counts; zero
	// for an event that was not read from a socket, or where the clock
	// is not available.
	Received time.Duration
}

// Get returns the value of the first property named key.
func (e *Event) Get(key string) (string, bool) {
	for _, p := range e.Properties {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// Property returns the value of the first property named key, or "".
func (e *Event) Property(key string) string {
	v, _ := e.Get(key)
	return v
}

// ErrMalformed is wrapped by decoding errors: the bytes are not a uevent
// in either form.
var ErrMalformed = errors.New("malformed uevent")

// Wire constants of the udev form (struct monitor_netlink_header in
// systemd's src/libsystemd/sd-device/device-monitor.c).
const (
	udevPrefix     = "libudev\x00" // prefix[8]: tells udev's messages from the kernel's
	udevMagic      = 0xfeedcafe    // UDEV_MONITOR_MAGIC, big-endian on the wire
	udevHeaderSize = 40            // sizeof(struct monitor_netlink_header)
)

// UnmarshalBinary decodes a datagram of either form: the kernel's
// ("ACTION@DEVPATH\0KEY=VALUE\0...") or udevd's (a libudev header, then
// "KEY=VALUE\0..."), telling them apart by the "libudev\0" prefix. It
// checks the header against the ACTION and DEVPATH properties, requires
// a known action and a DEVPATH starting with "/", and fails with an
// error wrapping ErrMalformed otherwise. It never panics, and the Event
// shares no memory with b.
func (e *Event) UnmarshalBinary(b []byte) error {
	var ev Event
	var err error
	if bytes.HasPrefix(b, []byte(udevPrefix)) {
		ev.Source = Udev
		err = ev.decodeUdev(b)
	} else {
		ev.Source = Kernel
		err = ev.decodeKernel(b)
	}
	if err != nil {
		return fmt.Errorf("uevent: decode %s message: %w", ev.Source, err)
	}
	*e = ev
	return nil
}

func (e *Event) decodeKernel(b []byte) error {
	head, rest, ok := bytes.Cut(b, []byte{0})
	if !ok {
		return fmt.Errorf("%w: no NUL after the ACTION@DEVPATH header", ErrMalformed)
	}
	action, devpath, ok := strings.Cut(string(head), "@")
	if !ok {
		return fmt.Errorf("%w: header %.64q is not ACTION@DEVPATH", ErrMalformed, head)
	}
	if _, err := ParseAction(action); err != nil {
		return err
	}
	if err := e.decodeProperties(rest); err != nil {
		return err
	}
	if err := e.requireHeader(); err != nil {
		return err
	}
	if e.Action.String() != action || e.DevPath != devpath {
		return fmt.Errorf("%w: header %.64q but ACTION=%s DEVPATH=%.64s", ErrMalformed, head, e.Action, e.DevPath)
	}
	return nil
}

func (e *Event) decodeUdev(b []byte) error {
	if len(b) < udevHeaderSize {
		return fmt.Errorf("%w: %d bytes, shorter than the %d-byte libudev header", ErrMalformed, len(b), udevHeaderSize)
	}
	if m := binary.BigEndian.Uint32(b[8:]); m != udevMagic {
		return fmt.Errorf("%w: libudev magic %#08x, want %#08x", ErrMalformed, m, udevMagic)
	}
	hsize := binary.NativeEndian.Uint32(b[12:])
	off := binary.NativeEndian.Uint32(b[16:])
	n := binary.NativeEndian.Uint32(b[20:])
	if hsize < udevHeaderSize || off < udevHeaderSize {
		return fmt.Errorf("%w: libudev header size %d, properties at %d: want at least %d", ErrMalformed, hsize, off, udevHeaderSize)
	}
	if uint64(off)+uint64(n) > uint64(len(b)) {
		return fmt.Errorf("%w: libudev properties at %d+%d beyond the %d-byte message", ErrMalformed, off, n, len(b))
	}
	if err := e.decodeProperties(b[off : off+n]); err != nil {
		return err
	}
	return e.requireHeader()
}

// decodeProperties reads NUL-terminated KEY=VALUE strings (the last may
// lack its NUL); empty strings are skipped.
func (e *Event) decodeProperties(b []byte) error {
	for len(b) > 0 {
		var s []byte
		s, b, _ = bytes.Cut(b, []byte{0})
		if len(s) == 0 {
			continue
		}
		k, v, ok := bytes.Cut(s, []byte("="))
		if !ok || len(k) == 0 {
			return fmt.Errorf("%w: property %.64q is not KEY=VALUE", ErrMalformed, s)
		}
		p := Property{Key: string(k), Value: string(v)}
		if _, dup := e.Get(p.Key); !dup {
			// The typed fields are the first occurrence, as Get finds.
			switch p.Key {
			case "SUBSYSTEM":
				e.Subsystem = p.Value
			case "DEVTYPE":
				e.DevType = p.Value
			case "SEQNUM":
				n, err := strconv.ParseUint(p.Value, 10, 64)
				if err != nil {
					return fmt.Errorf("%w: SEQNUM=%.32q is not a number", ErrMalformed, p.Value)
				}
				e.SeqNum = n
			}
		}
		e.Properties = append(e.Properties, p)
	}
	return nil
}

// requireHeader checks the ACTION and DEVPATH properties, which udev
// requires of both forms, and sets the typed fields from them.
func (e *Event) requireHeader() error {
	action, ok := e.Get("ACTION")
	if !ok {
		return fmt.Errorf("%w: no ACTION property", ErrMalformed)
	}
	a, err := ParseAction(action)
	if err != nil {
		return err
	}
	devpath, ok := e.Get("DEVPATH")
	if !ok {
		return fmt.Errorf("%w: no DEVPATH property", ErrMalformed)
	}
	if !strings.HasPrefix(devpath, "/") {
		return fmt.Errorf("%w: DEVPATH %.64q does not start with /", ErrMalformed, devpath)
	}
	e.Action, e.DevPath = a, devpath
	return nil
}

// properties returns the properties to send: Properties, with the typed
// fields checked against them and, where missing, added as the kernel
// orders them (ACTION, DEVPATH, SUBSYSTEM, DEVTYPE first, SEQNUM last).
func (e *Event) properties() ([]Property, error) {
	typed := []struct {
		key, value string
		set        bool
	}{
		{"ACTION", e.Action.String(), true},
		{"DEVPATH", e.DevPath, true},
		{"SUBSYSTEM", e.Subsystem, e.Subsystem != ""},
		{"DEVTYPE", e.DevType, e.DevType != ""},
		{"SEQNUM", strconv.FormatUint(e.SeqNum, 10), e.SeqNum != 0},
	}
	var front, back []Property
	for _, f := range typed {
		got, ok := e.Get(f.key)
		switch {
		case !ok && !f.set:
		case !ok && f.key == "SEQNUM":
			back = append(back, Property{f.key, f.value})
		case !ok:
			front = append(front, Property{f.key, f.value})
		case f.key == "SEQNUM":
			if n, err := strconv.ParseUint(got, 10, 64); err != nil || n != e.SeqNum {
				return nil, fmt.Errorf("uevent: encode: the event's sequence number is %d but its properties say SEQNUM=%s", e.SeqNum, got)
			}
		case got != f.value:
			return nil, fmt.Errorf("uevent: encode: the event's %s is %q but its properties say %s=%s", strings.ToLower(f.key), f.value, f.key, got)
		}
	}
	out := append(front, e.Properties...)
	return append(out, back...), nil
}

// MarshalBinary encodes the event in its Source's form: the kernel's
// "ACTION@DEVPATH" header or udevd's libudev header (with the subsystem
// and devtype hashes and the tag bloom filter udevd computes, from
// SUBSYSTEM, DEVTYPE and TAGS), then the properties. Typed fields missing
// from Properties are added as the kernel orders them (ACTION, DEVPATH,
// SUBSYSTEM, DEVTYPE first, SEQNUM last); a typed field that contradicts
// its property is an error, as are keys that are empty or hold '=' or
// NUL, values that hold NUL, and an unknown action.
func (e *Event) MarshalBinary() ([]byte, error) {
	if e.Action < Add || int(e.Action) >= len(actionNames) {
		return nil, fmt.Errorf("uevent: encode: invalid action %d", uint8(e.Action))
	}
	if !strings.HasPrefix(e.DevPath, "/") || strings.IndexByte(e.DevPath, 0) >= 0 {
		return nil, fmt.Errorf("uevent: encode: DEVPATH %q must start with / and hold no NUL", e.DevPath)
	}
	props, err := e.properties()
	if err != nil {
		return nil, err
	}
	var body []byte
	for _, p := range props {
		if p.Key == "" || strings.ContainsAny(p.Key, "=\x00") || strings.IndexByte(p.Value, 0) >= 0 {
			return nil, fmt.Errorf("uevent: encode: property %q: want a key without = or NUL and a value without NUL", p.String())
		}
		body = append(body, p.Key...)
		body = append(body, '=')
		body = append(body, p.Value...)
		body = append(body, 0)
	}
	switch e.Source {
	case Kernel:
		b := make([]byte, 0, len(e.DevPath)+16+len(body))
		b = append(b, e.Action.String()...)
		b = append(b, '@')
		b = append(b, e.DevPath...)
		b = append(b, 0)
		return append(b, body...), nil
	case Udev:
		h := make([]byte, udevHeaderSize, udevHeaderSize+len(body))
		copy(h, udevPrefix)
		binary.BigEndian.PutUint32(h[8:], udevMagic)
		binary.NativeEndian.PutUint32(h[12:], udevHeaderSize)
		binary.NativeEndian.PutUint32(h[16:], udevHeaderSize)
		binary.NativeEndian.PutUint32(h[20:], uint32(len(body)))
		if e.Subsystem != "" {
			binary.BigEndian.PutUint32(h[24:], stringHash32(e.Subsystem))
		}
		if e.DevType != "" {
			binary.BigEndian.PutUint32(h[28:], stringHash32(e.DevType))
		}
		var bloom uint64
		for _, tag := range strings.Split(e.Property("TAGS"), ":") {
			if tag != "" {
				bloom |= stringBloom64(tag)
			}
		}
		binary.BigEndian.PutUint32(h[32:], uint32(bloom>>32))
		binary.BigEndian.PutUint32(h[36:], uint32(bloom))
		return append(h, body...), nil
	}
	return nil, fmt.Errorf("uevent: encode: invalid source %d", uint8(e.Source))
}

// stringHash32 is udev's string_hash32: MurmurHash2 of the string with
// seed 0, reading words in the host's byte order as udevd does.
func stringHash32(s string) uint32 {
	const m = 0x5bd1e995
	const r = 24
	h := uint32(len(s))
	b := []byte(s)
	for len(b) >= 4 {
		k := binary.NativeEndian.Uint32(b)
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
		b = b[4:]
	}
	switch len(b) {
	case 3:
		h ^= uint32(b[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(b[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(b[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// stringBloom64 is udev's string_bloom64: four bits of a 64-bit bloom
// filter chosen by the tag's hash.
func stringBloom64(s string) uint64 {
	h := stringHash32(s)
	var bits uint64
	bits |= 1 << (h & 63)
	bits |= 1 << ((h >> 6) & 63)
	bits |= 1 << ((h >> 12) & 63)
	bits |= 1 << ((h >> 18) & 63)
	return bits
}
