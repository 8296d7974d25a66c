package taskstats

import (
	"os"
	"reflect"
	"testing"

	"github.com/nlkit/nlkit/netlink"
)

// capturedRecords returns the attributes of the captured TASKSTATS_CMD_NEW
// replies in testdata/.
func capturedRecords(f *testing.F) [][]byte {
	var out [][]byte
	for _, name := range []string{"task.bin", "tgid.bin"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		msgs, err := netlink.ParseMessages(b)
		if err != nil {
			f.Fatal(err)
		}
		if len(msgs[0].Data) > 4 {
			out = append(out, msgs[0].Data[4:]) // after the genl header
		}
	}
	return out
}

func FuzzStatsUnmarshal(f *testing.F) {
	for _, rec := range capturedRecords(f) {
		f.Add(rec[16:]) // the STATS payload: after AGGR, PID and STATS headers
	}
	for v := uint16(MinVersion); v <= MaxVersion; v++ {
		b, _ := keep(full(v), v).MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte{15, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Stats
		if err := s.UnmarshalBinary(b); err != nil {
			return
		}
		enc, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded stats do not encode: %v\n%+v", err, s)
		}
		if len(enc) != Size(s.Version) || len(enc) > len(b) {
			t.Fatalf("version %d encodes to %d bytes from %d", s.Version, len(enc), len(b))
		}
		var again Stats
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-encoded stats do not decode: %v", err)
		}
		if !reflect.DeepEqual(again, s) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, s)
		}
	})
}

func FuzzRecordUnmarshal(f *testing.F) {
	for _, rec := range capturedRecords(f) {
		f.Add(rec)
	}
	f.Add([]byte{12, 0, typeAggrTGID, 0, 8, 0, typeTGID, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Record
		if err := r.UnmarshalBinary(b); err != nil {
			return
		}
		enc, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded record does not encode: %v\n%+v", err, r)
		}
		var again Record
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, r)
		}
	})
}
