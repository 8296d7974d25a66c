package sockdiag

import (
	"encoding/binary"
	"reflect"
	"testing"
	"time"
)

// tcpInfoBytes lays out a struct tcp_info of n bytes by hand, with the
// values the test checks.
func tcpInfoBytes(n int) []byte {
	b := make([]byte, n)
	put32 := func(off int, v uint32) {
		if off+4 <= n {
			binary.NativeEndian.PutUint32(b[off:], v)
		}
	}
	put64 := func(off int, v uint64) {
		if off+8 <= n {
			binary.NativeEndian.PutUint64(b[off:], v)
		}
	}
	copy(b, []byte{1, 3, 2, 1, 4, 7})
	if n > 7 {
		if littleEndian {
			b[6] = 7 | 9<<4 // snd_wscale 7, rcv_wscale 9
			b[7] = 1 | 2<<1 // app limited, fastopen_client_fail 2
		} else {
			b[6] = 7<<4 | 9
			b[7] = 1<<7 | 2<<5
		}
	}
	put32(8, 204000)   // rto µs
	put32(16, 1448)    // snd_mss
	put32(52, 1500)    // last_data_recv ms
	put32(68, 25000)   // rtt µs
	put32(72, 12500)   // rttvar µs
	put32(80, 10)      // snd_cwnd
	put32(100, 3)      // total_retrans
	put64(104, 1e9)    // pacing_rate
	put64(120, 5000)   // bytes_acked
	put32(148, 20000)  // min_rtt µs
	put64(168, 7e6)    // busy_time µs
	put64(200, 123456) // bytes_sent
	put32(228, 65535)  // snd_wnd
	if 242+2 <= n {
		binary.NativeEndian.PutUint16(b[240:], 5) // total_rto
		binary.NativeEndian.PutUint16(b[242:], 6) // total_rto_recoveries
	}
	put32(244, 900)  // total_rto_time ms
	put32(248, 11)   // received_ce
	put32(272, 4242) // received_ce_bytes
	return b
}

func TestTCPInfoOffsets(t *testing.T) {
	full := TCPInfo{
		State: StateEstablished, CAState: CARecovery, Retransmits: 2, Probes: 1, Backoff: 4,
		Options: OptTimestamps | OptSACK | OptWScale, SendWScale: 7, RecvWScale: 9,
		DeliveryRateAppLimited: true, FastOpenClientFail: 2,
		RTO: 204 * time.Millisecond, SendMSS: 1448, LastDataRecv: 1500 * time.Millisecond,
		RTT: 25 * time.Millisecond, RTTVar: 12500 * time.Microsecond, SendCwnd: 10, TotalRetrans: 3,
		PacingRate: 1e9, BytesAcked: 5000, MinRTT: 20 * time.Millisecond, BusyTime: 7 * time.Second,
		BytesSent: 123456, SendWindow: 65535, TotalRTO: 5, TotalRTORecoveries: 6,
		TotalRTOTime: 900 * time.Millisecond, ReceivedCE: 11, ReceivedCEBytes: 4242,
	}
	tests := []struct {
		name string
		size int
		want func() TCPInfo
	}{
		{"Linux 6.18 (280 bytes)", 280, func() TCPInfo { w := full; w.Size = 280; return w }},
		{"a newer kernel's longer struct", 320, func() TCPInfo { w := full; w.Size = 320; return w }},
		{"Linux 6.7 (248 bytes: no received_ce)", 248, func() TCPInfo {
			w := full
			w.Size, w.ReceivedCE, w.ReceivedCEBytes = 248, 0, 0
			return w
		}},
		{"Linux 4.1 (104 bytes: up to total_retrans)", 104, func() TCPInfo {
			return TCPInfo{State: StateEstablished, CAState: CARecovery, Retransmits: 2, Probes: 1, Backoff: 4,
				Options: full.Options, SendWScale: 7, RecvWScale: 9, DeliveryRateAppLimited: true, FastOpenClientFail: 2,
				RTO: full.RTO, SendMSS: 1448, LastDataRecv: full.LastDataRecv, RTT: full.RTT, RTTVar: full.RTTVar,
				SendCwnd: 10, TotalRetrans: 3, Size: 104}
		}},
		{"cut inside a field", 110, func() TCPInfo {
			return TCPInfo{State: StateEstablished, CAState: CARecovery, Retransmits: 2, Probes: 1, Backoff: 4,
				Options: full.Options, SendWScale: 7, RecvWScale: 9, DeliveryRateAppLimited: true, FastOpenClientFail: 2,
				RTO: full.RTO, SendMSS: 1448, LastDataRecv: full.LastDataRecv, RTT: full.RTT, RTTVar: full.RTTVar,
				SendCwnd: 10, TotalRetrans: 3, Size: 110}
		}},
		{"only the first bytes", 3, func() TCPInfo {
			return TCPInfo{State: StateEstablished, CAState: CARecovery, Retransmits: 2, Size: 3}
		}},
		{"empty", 0, func() TCPInfo { return TCPInfo{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got TCPInfo
			if err := got.UnmarshalBinary(tcpInfoBytes(tt.size)); err != nil {
				t.Fatal(err)
			}
			if want := tt.want(); !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
			enc, err := got.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			want := tcpInfoBytes(tt.size)
			if tt.size == 0 {
				want = make([]byte, tcpInfoLen) // Size 0: the whole struct
			}
			if string(enc) != string(want) {
				t.Fatalf("re-encoded\n % x\nwant\n % x", enc, want)
			}
		})
	}
}

// Times beyond what a Duration holds saturate instead of wrapping.
func TestTCPInfoHugeTimes(t *testing.T) {
	b := make([]byte, tcpInfoLen)
	binary.NativeEndian.PutUint64(b[168:], ^uint64(0)) // busy_time µs
	var ti TCPInfo
	if err := ti.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if ti.BusyTime <= 0 || ti.BusyTime < 290*365*24*time.Hour {
		t.Fatalf("BusyTime %v, want a saturated positive duration", ti.BusyTime)
	}
}
