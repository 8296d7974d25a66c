package connector

import (
	"bytes"
	"reflect"
	"testing"
)

func FuzzMessageUnmarshal(f *testing.F) {
	f.Add(listenWire)
	f.Add(cnMsg(1, 1, 5, 6, 40, 0, procEvent(2, 0, 1, i32s(9, 9))))
	f.Add(cnMsg(1, 1, 0, 0, 0xffff, 0, nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		if err := m.UnmarshalBinary(b); err != nil {
			return
		}
		enc, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		if !bytes.Equal(enc, b[:len(enc)]) {
			t.Fatalf("re-encoded\n % x\nis not the input\n % x", enc, b)
		}
		var again Message
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip: got %+v, want %+v", again, m)
		}
	})
}

func FuzzProcEventUnmarshal(f *testing.F) {
	f.Add(procEvent(1, 2, 3, i32s(100, 100, 101, 101)))
	f.Add(procEvent(0x200, 0, 5, i32s(101, 101), comm16("worker")))
	f.Add(procEvent(0x80000000, 3, 7, i32s(101, 101), u32(768), u32(17), i32s(100, 100)))
	f.Add(procEvent(0, 1, 1, u32(1)))
	f.Add(procEvent(0x1234, 0, 0))
	f.Add(make([]byte, 16))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev ProcEvent
		if err := ev.UnmarshalBinary(b); err != nil {
			return
		}
		if ev.Timestamp < 0 {
			t.Fatalf("negative timestamp %v", ev.Timestamp)
		}
		enc, err := ev.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded event does not encode: %v (%+v)", err, ev)
		}
		var again ProcEvent
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-encoded event does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, ev) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, ev)
		}
	})
}
