package audit

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

var t0 = time.Unix(1700000000, 0)

func rec(t MessageType, serial uint64) Record {
	return Record{Type: t, Serial: serial, Time: time.UnixMilli(1700000000000 + int64(serial)).UTC(), Text: fmt.Sprint(serial)}
}

// summary describes events as "serial:TYPE,TYPE".
func summary(evs []Event) []string {
	var out []string
	for _, e := range evs {
		s := fmt.Sprint(e.Serial, ":")
		for i, r := range e.Records {
			if i > 0 {
				s += ","
			}
			s += r.Type.String()
		}
		out = append(out, s)
	}
	return out
}

func TestAssemblerGrouping(t *testing.T) {
	var a Assembler
	steps := []struct {
		r    Record
		want []string
	}{
		{rec(MsgSyscall, 1), nil},
		{rec(MsgSyscall, 2), nil}, // interleaved with event 1
		{rec(MsgCWD, 1), nil},
		{rec(MsgPath, 1), nil},
		{rec(1105, 3), []string{"3:USER_START"}}, // standalone
		{rec(MsgProctitle, 1), nil},
		{rec(MsgEOE, 1), []string{"1:SYSCALL,CWD,PATH,PROCTITLE,EOE"}},
		{rec(MsgEOE, 2), []string{"2:SYSCALL,EOE"}},
		{rec(MsgKernel, 4), []string{"4:KERNEL"}},
		{rec(MsgEOE, 5), []string{"5:EOE"}}, // a lone EOE
		{rec(MsgConfigChange, 6), nil},      // no EOE will come
	}
	for i, s := range steps {
		got := summary(a.Push(s.r, t0))
		if fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Errorf("step %d (%v %d): %v, want %v", i, s.r.Type, s.r.Serial, got, s.want)
		}
	}
	if a.Pending() != 1 {
		t.Errorf("%d pending, want 1", a.Pending())
	}
	if exp, ok := a.NextExpiry(); !ok || !exp.Equal(t0.Add(DefaultMaxAge)) {
		t.Errorf("NextExpiry %v %v", exp, ok)
	}
	if got := a.Expire(t0.Add(DefaultMaxAge - time.Millisecond)); len(got) != 0 {
		t.Errorf("expired early: %v", summary(got))
	}
	got := a.Expire(t0.Add(DefaultMaxAge))
	if fmt.Sprint(summary(got)) != "[6:CONFIG_CHANGE]" || got[0].Complete() {
		t.Errorf("expired %v (complete %v)", summary(got), got[0].Complete())
	}
	if _, ok := a.NextExpiry(); ok || a.Pending() != 0 {
		t.Error("still pending after expiry")
	}
}

func TestAssemblerAgeCountsFromLastRecord(t *testing.T) {
	a := Assembler{MaxAge: time.Second}
	a.Push(rec(MsgSyscall, 1), t0)
	a.Push(rec(MsgCWD, 1), t0.Add(900*time.Millisecond))
	a.Push(rec(MsgSyscall, 2), t0.Add(100*time.Millisecond))
	got := a.Expire(t0.Add(1500 * time.Millisecond))
	if fmt.Sprint(summary(got)) != "[2:SYSCALL]" {
		t.Errorf("expired %v, want event 2 only", summary(got))
	}
	if exp, _ := a.NextExpiry(); !exp.Equal(t0.Add(1900 * time.Millisecond)) {
		t.Errorf("next expiry %v", exp)
	}
	if got := summary(a.Flush()); fmt.Sprint(got) != "[1:SYSCALL,CWD]" || a.Pending() != 0 {
		t.Errorf("Flush: %v", got)
	}
}

func TestAssemblerMaxPending(t *testing.T) {
	a := Assembler{MaxPending: 2}
	a.Push(rec(MsgSyscall, 1), t0)
	a.Push(rec(MsgSyscall, 2), t0)
	got := a.Push(rec(MsgSyscall, 3), t0)
	if fmt.Sprint(summary(got)) != "[1:SYSCALL]" || a.Pending() != 2 {
		t.Errorf("over the bound: %v, %d pending", summary(got), a.Pending())
	}
	// The oldest first, then the completed one, in one call.
	got = a.Push(rec(MsgEOE, 4), t0)
	if fmt.Sprint(summary(got)) != "[2:SYSCALL 4:EOE]" {
		t.Errorf("bound and completion: %v", summary(got))
	}
}

func TestEventAccessors(t *testing.T) {
	var a Assembler
	a.Push(Record{Type: MsgSyscall, Serial: 9, Time: t0, Fields: Fields{{"key", "k"}, {"syscall", "59"}}}, t0)
	a.Push(Record{Type: MsgPath, Serial: 9, Time: t0, Fields: Fields{{"name", "/a"}}}, t0)
	a.Push(Record{Type: MsgPath, Serial: 9, Time: t0, Fields: Fields{{"name", "/b"}}}, t0)
	evs := a.Push(Record{Type: MsgEOE, Serial: 9, Time: t0}, t0)
	if len(evs) != 1 {
		t.Fatal(evs)
	}
	e := evs[0]
	if !e.Complete() || e.Serial != 9 || !e.Time.Equal(t0) {
		t.Errorf("event %+v", e)
	}
	if v, ok := e.Get(MsgPath, "name"); !ok || v != "/a" {
		t.Errorf("first PATH name %q", v)
	}
	if _, ok := e.Get(MsgCWD, "cwd"); ok {
		t.Error("a CWD that is not there")
	}
	if _, ok := e.Get(MsgSyscall, "nosuch"); ok {
		t.Error("a field that is not there")
	}
	b, err := json.Marshal(e)
	want := `{"serial":9,"time":"2023-11-14T22:13:20.000Z","records":[{"type":"SYSCALL","fields":{"key":"k","syscall":"59"}},` +
		`{"type":"PATH","fields":{"name":"/a"}},{"type":"PATH","fields":{"name":"/b"}},{"type":"EOE","fields":{}}]}`
	if err != nil || string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
	if (Event{}).Complete() || (Event{Records: []Record{{Type: MsgSyscall}}}).Complete() {
		t.Error("incomplete events reported complete")
	}
	b, _ = json.Marshal(Event{})
	if string(b) != `{"serial":0,"time":"0001-01-01T00:00:00.000Z","records":[]}` {
		t.Errorf("empty event JSON %s", b)
	}
}
