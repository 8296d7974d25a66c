package hellotest_test

import (
	"bytes"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/hello"
	"github.com/nlkit/nlkit/hello/hellotest"
)

func TestInjectPacketFillsIn(t *testing.T) {
	m := hellotest.New(&hellotest.Config{Protocol: 30, IfIndex: 5})
	if m.Endpoint().Protocol() != 30 {
		t.Errorf("protocol %d", m.Endpoint().Protocol())
	}
	s, err := m.Watch(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := time.Now()
	p, err := m.InjectPacket(hello.Packet{Protocol: 0x0800, Data: bytes.Repeat([]byte{7}, 300)})
	if err != nil {
		t.Fatal(err)
	}
	if p.IfIndex != 5 || p.Length != 300 || p.CapLen != hello.PacketCap || len(p.Data) != hello.PacketCap || p.Timestamp.Before(before) {
		t.Errorf("as sent: %+v", p)
	}
	// Length shorter than the data given: the data is cut to it.
	p, err = m.InjectPacket(hello.Packet{Length: 2, Data: []byte{1, 2, 3}})
	if err != nil || p.CapLen != 2 || !bytes.Equal(p.Data, []byte{1, 2}) {
		t.Errorf("short length: %+v %v", p, err)
	}
	if _, err := m.InjectPacket(hello.Packet{Data: []byte{1}, Timestamp: time.Unix(-5, 0)}); err == nil {
		t.Error("a timestamp before 1970 was sent")
	}
	s.Close()
	if _, err := m.InjectPacket(hello.Packet{Data: []byte{1}}); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("without subscribers: %v", err)
	}
	if st := m.Stats(); st.PacketsPassed != 2 || st.PacketsDroppedNoListener != 1 {
		t.Errorf("counters %+v", st)
	}
}

func TestReloadFamily(t *testing.T) {
	m := hellotest.New(nil)
	old := m.Family()
	if old.Name != hello.FamilyName || len(old.Groups) != 1 || old.Groups[0].ID == 0 {
		t.Fatalf("family %+v", old)
	}
	if f := m.ReloadFamily(); f.ID == old.ID || f.Name != hello.FamilyName {
		t.Errorf("reloaded family %+v (was %+v)", f, old)
	}
}
