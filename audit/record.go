package audit

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrMalformedRecord is matched by the errors of records that do not
// parse: a message whose text does not start with "audit(SECONDS.MILLIS:SERIAL): ".
var ErrMalformedRecord = errors.New("audit: malformed record")

// Field is one key=value pair of a record's text, in the order the kernel
// wrote it.
type Field struct {
	Key string
	// Value is the value with its quotes removed and, for the fields the
	// kernel hex-encodes when they hold spaces or control characters
	// (proctitle, comm, exe, name, cwd, key, the EXECVE arguments, ...),
	// decoded. A decoded proctitle has its NUL separators turned into
	// spaces; several keys stay joined by \x01.
	Value string
}

// Fields are a record's fields in order. Their JSON form is one object,
// keys in the order of the record.
type Fields []Field

// Get returns the value of the first field called key.
func (fs Fields) Get(key string) (string, bool) {
	for _, f := range fs {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// MarshalJSON writes the fields as one JSON object, in order. A key that
// repeats is written again (JSON readers keep the last).
func (fs Fields) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Record is one audit record: a netlink message from the kernel whose
// text is "audit(1700000000.123:456): key=value ...".
type Record struct {
	// Type is the record's message type (MsgSyscall, MsgPath, ...).
	Type MessageType
	// Time is when the event happened, to the millisecond.
	Time time.Time
	// Serial is the event's serial number: the records of one event
	// share it.
	Serial uint64
	// Text is the record's text after "audit(...): ", as the kernel wrote it.
	Text string
	// Fields are the key=value pairs of Text, decoded.
	Fields Fields
}

// Get returns the decoded value of the record's first field called key.
func (r Record) Get(key string) (string, bool) { return r.Fields.Get(key) }

// Header returns "audit(SECONDS.MILLIS:SERIAL)", the event's identity as
// auditd logs it.
func (r Record) Header() string {
	ms := r.Time.UnixMilli()
	sec, frac := ms/1000, ms%1000
	if frac < 0 {
		sec, frac = sec-1, frac+1000
	}
	return fmt.Sprintf("audit(%d.%03d:%d)", sec, frac, r.Serial)
}

// Payload returns the record as the kernel sends it: "audit(...): TEXT".
// ParseRecord(r.Type, r.Payload()) returns r.
func (r Record) Payload() []byte {
	return []byte(r.Header() + ": " + r.Text)
}

// String returns the record as auditd writes it to audit.log:
// "type=SYSCALL msg=audit(1700000000.123:456): arch=c000003e ...".
func (r Record) String() string {
	return "type=" + r.Type.String() + " msg=" + r.Header() + ": " + r.Text
}

// recordJSON is a record in JSON: its type's name and its fields.
type recordJSON struct {
	Type   string `json:"type"`
	Fields Fields `json:"fields"`
}

// MarshalJSON writes {"type":"SYSCALL","fields":{"arch":"c000003e",...}}.
func (r Record) MarshalJSON() ([]byte, error) {
	fs := r.Fields
	if fs == nil {
		fs = Fields{}
	}
	return json.Marshal(recordJSON{Type: r.Type.String(), Fields: fs})
}

// ParseRecord decodes the payload of an audit record message of type t:
// the header "audit(SECONDS.MILLIS:SERIAL): " and the key=value text.
// Trailing NULs and newlines are dropped. Errors match
// ErrMalformedRecord. The Record owns its memory.
func ParseRecord(t MessageType, payload []byte) (Record, error) {
	s := strings.TrimRight(string(payload), "\x00\n")
	rest, ok := strings.CutPrefix(s, "audit(")
	if !ok {
		return Record{}, fmt.Errorf("%w: type %v: text %q does not start with \"audit(\"", ErrMalformedRecord, t, clip(s))
	}
	head, body, ok := strings.Cut(rest, "):")
	if !ok {
		return Record{}, fmt.Errorf("%w: type %v: no \"):\" after the time stamp in %q", ErrMalformedRecord, t, clip(s))
	}
	stamp, serial, ok := strings.Cut(head, ":")
	secs, millis, ok2 := strings.Cut(stamp, ".")
	if !ok || !ok2 || len(millis) != 3 || !digits(secs) || !digits(millis) || !digits(serial) {
		return Record{}, fmt.Errorf("%w: type %v: bad time stamp %q: want SECONDS.MILLIS:SERIAL", ErrMalformedRecord, t, clip(head))
	}
	sec, err1 := strconv.ParseInt(secs, 10, 64)
	ms, _ := strconv.Atoi(millis)
	ser, err2 := strconv.ParseUint(serial, 10, 64)
	if err1 != nil || err2 != nil || sec > 1<<53/1000 {
		return Record{}, fmt.Errorf("%w: type %v: time stamp %q out of range", ErrMalformedRecord, t, clip(head))
	}
	body = strings.TrimPrefix(body, " ")
	return Record{
		Type:   t,
		Time:   time.UnixMilli(sec*1000 + int64(ms)).UTC(),
		Serial: ser,
		Text:   body,
		Fields: parseFields(t, body),
	}, nil
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// parseFields splits a record's text into key=value fields. Values are
// "double-quoted", 'single-quoted' (user messages' msg='...') or run to
// the next space. Words without "=" (the prose of AVC records) are
// skipped; Record.Text keeps them.
func parseFields(t MessageType, s string) Fields {
	var out Fields
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return out
		}
		end := strings.IndexAny(s, " =")
		if end < 0 || s[end] == ' ' {
			// A word without a value.
			if end < 0 {
				return out
			}
			s = s[end:]
			continue
		}
		key := s[:end]
		s = s[end+1:]
		var val string
		quoted := false
		if s != "" && (s[0] == '"' || s[0] == '\'') {
			q := s[0]
			if i := strings.IndexByte(s[1:], q); i >= 0 {
				val, s = s[1:1+i], s[2+i:]
			} else {
				val, s = s[1:], ""
			}
			quoted = true
		} else {
			i := strings.IndexByte(s, ' ')
			if i < 0 {
				i = len(s)
			}
			val, s = s[:i], s[i:]
		}
		if !quoted && key != "" && encodedField(t, key) {
			if d, ok := decodeHex(val); ok {
				val = d
				if key == "proctitle" {
					val = strings.ReplaceAll(val, "\x00", " ")
				}
			}
		}
		if key == "" {
			continue
		}
		out = append(out, Field{Key: key, Value: val})
	}
}

// encodedFields are the fields the kernel (audit_log_untrustedstring,
// audit_log_n_hex) and the audit tools write hex-encoded when the value
// holds a space, a quote or a control character, and quoted otherwise.
var encodedFields = map[string]bool{
	"proctitle": true, "comm": true, "exe": true, "name": true, "cwd": true, "key": true,
	"ocomm": true, "path": true, "watch": true, "dir": true, "cmd": true, "acct": true,
	"data": true,
}

// encodedField reports whether an unquoted value of key in a record of
// type t is hex: the fields above and the EXECVE arguments a0, a1, ...
// (and a0[0], the pieces of a long argument).
func encodedField(t MessageType, key string) bool {
	if encodedFields[key] {
		return true
	}
	if t != MsgExecve || len(key) < 2 || key[0] != 'a' {
		return false
	}
	k := key[1:]
	if i := strings.IndexByte(k, '['); i > 0 && strings.HasSuffix(k, "]") {
		if !digits(k[i+1 : len(k)-1]) {
			return false
		}
		k = k[:i]
	}
	return digits(k)
}

// decodeHex decodes an even-length run of hex digits ("(null)" and "?"
// are not hex and stay as they are).
func decodeHex(s string) (string, bool) {
	if s == "" || len(s)%2 != 0 {
		return "", false
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// ParseDatagram returns the type and payload of a datagram the kernel sent
// to the audit daemon or to the read-log group. Records unicast to the
// daemon carry, for compatibility with auditd, an nlmsg_len that counts
// only the payload (kernel/audit.c: "nlh->nlmsg_len = skb->len -
// NLMSG_HDRLEN"); multicast copies carry the real length. Both are taken:
// the payload is the rest of the datagram after the header, cut to the
// real length when nlmsg_len gives one.
func ParseDatagram(b []byte) (MessageType, []byte, error) {
	const hdr = 16
	if len(b) < hdr {
		return 0, nil, fmt.Errorf("%w: datagram of %d bytes, shorter than a netlink header", ErrMalformedRecord, len(b))
	}
	l := binary.NativeEndian.Uint32(b[0:4])
	t := MessageType(binary.NativeEndian.Uint16(b[4:6]))
	payload := b[hdr:]
	switch {
	case uint64(l) == uint64(len(b)-hdr):
		// The daemon's length: payload only.
	case l >= hdr && uint64(l) <= uint64(len(b)):
		payload = b[hdr:l]
	default:
		return t, nil, fmt.Errorf("%w: nlmsg_len %d in a datagram of %d bytes", ErrMalformedRecord, l, len(b))
	}
	return t, payload, nil
}
