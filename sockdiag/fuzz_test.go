package sockdiag

import (
	"reflect"
	"testing"
)

func FuzzInetSocketUnmarshal(f *testing.F) {
	id := sockID(443, 50000, "2001:db8::1", "2001:db8::2", 7, 0xabcdef0123)
	f.Add(inetMsg(10, 1, 1, 2, id, 200, 10, 20, 1000, 99,
		attr(inetDiagMemInfo, cat(u32(1), u32(2), u32(3), u32(4))), attr(inetDiagInfo, tcpInfoBytes(280)),
		attr(inetDiagCong, []byte("cubic\x00")), attr(inetDiagShutdown, []byte{2}), attr(inetDiagV6Only, []byte{1})))
	f.Add(inetMsg(2, 10, 0, 0, sockID(22, 0, "0.0.0.0", "0.0.0.0", 0, 1), 0, 0, 128, 0, 5,
		attr(inetDiagSKMemInfo, cat(u32(1), u32(2))), attr(inetDiagProtocol, []byte{132}), attr(inetDiagInfo, make([]byte, 8))))
	f.Add(make([]byte, inetMsgLen))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s InetSocket
		if err := s.UnmarshalBinary(b); err != nil {
			return
		}
		enc, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded socket does not encode: %v", err)
		}
		var again InetSocket
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-encoded socket does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, s) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, s)
		}
	})
}

func FuzzTCPInfoUnmarshal(f *testing.F) {
	for _, n := range []int{0, 3, 7, 8, 104, 110, 248, 280, 320} {
		f.Add(tcpInfoBytes(n))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ti TCPInfo
		if err := ti.UnmarshalBinary(b); err != nil {
			t.Fatalf("TCPInfo decoding failed: %v", err)
		}
		if ti.Size != len(b) {
			t.Fatalf("Size %d for %d bytes", ti.Size, len(b))
		}
		enc, err := ti.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var again TCPInfo
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 && !reflect.DeepEqual(again, ti) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, ti)
		}
	})
}

func FuzzUnixSocketUnmarshal(f *testing.F) {
	f.Add(unixMsg(1, 10, 100, 7, attr(unixDiagName, []byte("/run/x.sock\x00")), attr(unixDiagVFS, cat(u32(555), u32(0xfd00))),
		attr(unixDiagIcons, cat(u32(201), u32(202))), attr(unixDiagRQLen, cat(u32(2), u32(128))), attr(unixDiagUID, u32(1000))))
	f.Add(unixMsg(2, 1, 101, 8, attr(unixDiagName, []byte("\x00abstract")), attr(unixDiagPeer, u32(102)),
		attr(unixDiagMemInfo, cat(u32(0), u32(212992)))))
	f.Add(unixMsg(5, 7, 103, 9))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s UnixSocket
		if err := s.UnmarshalBinary(b); err != nil {
			return
		}
		enc, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded socket does not encode: %v", err)
		}
		var again UnixSocket
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-encoded socket does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, s) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, s)
		}
	})
}

func FuzzInetRequestUnmarshal(f *testing.F) {
	f.Add(cat([]byte{2, 6, 2, 0}, u32(1<<10), sockID(22, 0, "10.0.0.1", "0.0.0.0", 0, NoCookie)))
	f.Add(cat([]byte{10, 17, 0, 0}, u32(0xffe), sockID(53, 1, "::1", "::2", 3, 5)))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r InetRequest
		if err := r.UnmarshalBinary(b); err != nil {
			return
		}
		enc, err := r.MarshalBinary()
		if err != nil {
			return // a family the client would not send
		}
		var again InetRequest
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
		// A zero state set is sent as all states; a zero cookie as none.
		want := r
		if want.States == 0 {
			want.States = AllStates
		}
		if want.ID.Cookie == 0 {
			want.ID.Cookie = NoCookie
		}
		if !reflect.DeepEqual(again, want) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, want)
		}
	})
}
