package genl_test

import (
	"os"
	"reflect"
	"syscall"
	"testing"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/genl/genltest"
	"github.com/nlkit/nlkit/netlink"
)

// The golden files in testdata/ were captured from the kernel named in
// testdata/KERNEL by TestCaptureController (NLKIT_GENL_CAPTURE=1):
//
//	ctrl_dump.bin              the messages of a CTRL_CMD_GETFAMILY dump
//	ctrl_get_nlctrl.bin        CTRL_CMD_GETFAMILY "nlctrl": reply and ack
//	ctrl_get_nlkit-nosuch.bin  CTRL_CMD_GETFAMILY of an unknown name: ENOENT
//	genl_ctrl_list.txt         `genl ctrl list` at the same moment

func readMessages(t testing.TB, name string) []netlink.Message {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := netlink.ParseMessages(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return msgs
}

func decodeFamilies(t testing.TB, msgs []netlink.Message) []genl.Family {
	t.Helper()
	var out []genl.Family
	for _, m := range msgs {
		gm, err := genl.ParseMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		if gm.Header.Command != 1 { // CTRL_CMD_NEWFAMILY
			t.Fatalf("controller message with command %d", gm.Header.Command)
		}
		var f genl.Family
		if err := f.UnmarshalBinary(gm.Data); err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

func ctrlList(t testing.TB, text string) []genl.Family {
	t.Helper()
	fams, err := genltest.ParseCtrlList(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(fams) == 0 {
		t.Fatalf("genl ctrl list printed no family:\n%s", text)
	}
	return fams
}

// compareFamilies checks decoded families against genl's, field by
// field; op flags only where genl printed them (see ParseCtrlList).
func compareFamilies(t *testing.T, got, want []genl.Family) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d families decoded, genl lists %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w.ID || g.Name != w.Name || g.Version != w.Version || g.HeaderSize != w.HeaderSize || g.MaxAttr != w.MaxAttr {
			t.Errorf("family %d:\n got %+v\nwant %+v", i, g, w)
			continue
		}
		if !reflect.DeepEqual(g.Groups, w.Groups) {
			t.Errorf("family %s groups: got %+v want %+v", w.Name, g.Groups, w.Groups)
		}
		if len(g.Ops) != len(w.Ops) {
			t.Errorf("family %s: %d ops, genl lists %d", w.Name, len(g.Ops), len(w.Ops))
			continue
		}
		for j, op := range w.Ops {
			if g.Ops[j].ID != op.ID || (op.Flags != 0 && g.Ops[j].Flags != op.Flags) {
				t.Errorf("family %s op %d: got %+v want %+v", w.Name, j, g.Ops[j], op)
			}
		}
	}
}

// TestFamilyDecodeCaptured decodes the captured dump and checks every
// family against what `genl ctrl list` printed at the same moment.
func TestFamilyDecodeCaptured(t *testing.T) {
	msgs := readMessages(t, "ctrl_dump.bin")
	got := decodeFamilies(t, msgs)
	text, err := os.ReadFile("testdata/genl_ctrl_list.txt")
	if err != nil {
		t.Fatal(err)
	}
	compareFamilies(t, got, ctrlList(t, string(text)))
	// Marshal reproduces the kernel's bytes (ctrl_fill_info's order).
	for i, f := range got {
		b, err := f.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if kernel := msgs[i].Data[genl.HeaderLen:]; string(b) != string(kernel) {
			t.Errorf("family %s: encoding differs from the kernel's\n got %x\nwant %x", f.Name, b, kernel)
		}
	}
	var ethtool *genl.Family
	for i := range got {
		if got[i].Name == "ethtool" {
			ethtool = &got[i]
		}
	}
	if ethtool == nil {
		t.Fatal("no ethtool family in the capture")
	}
	// ETHTOOL_MSG_LINKINFO_SET (3) needs CAP_NET_ADMIN in the user namespace.
	if op, ok := ethtool.Op(3); !ok || op.Flags != genl.OpCapDo|genl.OpCapHasPolicy|genl.OpUnsAdminPerm {
		t.Errorf("ethtool op 3: %+v", op)
	}
}

func TestParseCtrlListErrors(t *testing.T) {
	for _, text := range []string{
		"\tID: 0x10  Version: 0x2  header size: 0  max attribs: 0\n",
		"Name: x\n\tID: zz\n",
		"Name: x\n\tsomething else\n",
		"Name: x\n\tmulticast groups:\n\t\t#1:  ID-0xq  name: y\n",
	} {
		if _, err := genltest.ParseCtrlList(text); err == nil {
			t.Errorf("accepted %q", text)
		}
	}
}

// TestCapturedUnknownFamily: the kernel answers CTRL_CMD_GETFAMILY for an
// unknown name with ENOENT, which Family maps to ErrFamilyNotFound.
func TestCapturedUnknownFamily(t *testing.T) {
	msgs := readMessages(t, "ctrl_get_nlkit-nosuch.bin")
	if len(msgs) != 1 || msgs[0].Header.Type != netlink.Error {
		t.Fatalf("capture: %+v", msgs)
	}
	info, err := netlink.ParseAck(msgs[0].Header.Flags, msgs[0].Data)
	if err != nil || info.Errno != syscall.ENOENT {
		t.Fatalf("kernel answered %v (%v), want ENOENT", info.Errno, err)
	}
	// The echoed request is what Family sends.
	if want := []byte{3, 2, 0, 0}; string(msgs[0].Data[20:24]) != string(want) {
		t.Fatalf("echoed genl header %x, want %x", msgs[0].Data[20:24], want)
	}
}
