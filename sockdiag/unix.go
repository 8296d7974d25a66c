package sockdiag

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/nlkit/nlkit/netlink"
)

// UnixType is a UNIX socket's type (udiag_type, SOCK_*).
type UnixType uint8

// UNIX socket types.
const (
	UnixStream    UnixType = 1 // SOCK_STREAM
	UnixDgram     UnixType = 2 // SOCK_DGRAM
	UnixSeqPacket UnixType = 5 // SOCK_SEQPACKET
)

// String returns the type as ss's Netid column names it: "u_str",
// "u_dgr", "u_seq".
func (t UnixType) String() string {
	switch t {
	case UnixStream:
		return "u_str"
	case UnixDgram:
		return "u_dgr"
	case UnixSeqPacket:
		return "u_seq"
	}
	return fmt.Sprintf("u_%d", uint8(t))
}

// UnixShow selects what a UNIX dump reports besides the header
// (udiag_show, UDIAG_SHOW_*).
type UnixShow uint32

// What to show.
const (
	ShowName    UnixShow = 0x01 // UDIAG_SHOW_NAME: Name
	ShowVFS     UnixShow = 0x02 // UDIAG_SHOW_VFS: VFS
	ShowPeer    UnixShow = 0x04 // UDIAG_SHOW_PEER: Peer
	ShowIcons   UnixShow = 0x08 // UDIAG_SHOW_ICONS: Pending
	ShowRQLen   UnixShow = 0x10 // UDIAG_SHOW_RQLEN: RecvQueue, SendQueue
	ShowMemInfo UnixShow = 0x20 // UDIAG_SHOW_MEMINFO: MemInfo
	ShowUID     UnixShow = 0x40 // UDIAG_SHOW_UID: UID

	// ShowDefault is what ss asks for: name, peer and queues.
	ShowDefault = ShowName | ShowPeer | ShowRQLen
)

// Attributes of a unix_diag_msg (enum in linux/unix_diag.h).
const (
	unixDiagName     = 0 // UNIX_DIAG_NAME: sun_path bytes
	unixDiagVFS      = 1 // UNIX_DIAG_VFS: struct unix_diag_vfs
	unixDiagPeer     = 2 // UNIX_DIAG_PEER: u32 inode
	unixDiagIcons    = 3 // UNIX_DIAG_ICONS: u32 inodes
	unixDiagRQLen    = 4 // UNIX_DIAG_RQLEN: struct unix_diag_rqlen
	unixDiagMemInfo  = 5 // UNIX_DIAG_MEMINFO: u32[SK_MEMINFO_VARS]
	unixDiagShutdown = 6 // UNIX_DIAG_SHUTDOWN: u8
	unixDiagUID      = 7 // UNIX_DIAG_UID: u32
)

// UnixRequest asks for UNIX sockets (struct unix_diag_req).
type UnixRequest struct {
	// States selects sockets by state (udiag_states); 0 means AllStates.
	States StateSet
	// Show selects the attributes to report (udiag_show); 0 means
	// ShowDefault.
	Show UnixShow
	// Inode and Cookie name one socket for Client.UnixSocket; dumps
	// ignore them. A zero Cookie means NoCookie.
	Inode  uint32
	Cookie uint64
}

// MarshalBinary encodes the request (struct unix_diag_req).
func (r UnixRequest) MarshalBinary() ([]byte, error) {
	states, show, cookie := r.States, r.Show, r.Cookie
	if states == 0 {
		states = AllStates
	}
	if show == 0 {
		show = ShowDefault
	}
	if cookie == 0 {
		cookie = NoCookie
	}
	b := make([]byte, 0, unixReqLen)
	b = append(b, uint8(FamilyUnix), 0, 0, 0)
	for _, v := range []uint32{uint32(states), r.Inode, uint32(show), uint32(cookie), uint32(cookie >> 32)} {
		b = binary.NativeEndian.AppendUint32(b, v)
	}
	return b, nil
}

// UnmarshalBinary decodes a request (for fake kernels in tests).
func (r *UnixRequest) UnmarshalBinary(b []byte) error {
	if len(b) < unixReqLen {
		return fmt.Errorf("sockdiag: decode unix request: %w: %d bytes, want %d", errShort, len(b), unixReqLen)
	}
	u32 := func(off int) uint32 { return binary.NativeEndian.Uint32(b[off:]) }
	*r = UnixRequest{
		States: StateSet(u32(4)), Inode: u32(8), Show: UnixShow(u32(12)),
		Cookie: uint64(u32(16)) | uint64(u32(20))<<32,
	}
	return nil
}

// UnixVFS identifies the file a UNIX socket is bound to (struct
// unix_diag_vfs).
type UnixVFS struct {
	Inode  uint32 // udiag_vfs_ino: the socket file's inode
	Device uint32 // udiag_vfs_dev: its file system's device number
}

// UnixSocket is a UNIX domain socket as sock_diag describes it (struct
// unix_diag_msg and UNIX_DIAG_* attributes).
type UnixSocket struct {
	// Type is stream, datagram or seqpacket (udiag_type).
	Type UnixType
	// State is Listen, Established, Close (unconnected), ...
	// (udiag_state).
	State State
	// Inode identifies the socket (udiag_ino); Cookie too (udiag_cookie).
	Inode  uint32
	Cookie uint64

	// Name is the address the socket is bound to (UNIX_DIAG_NAME,
	// ShowName): a path, or for an abstract address the name after its
	// leading NUL, with Abstract set. Empty for an unbound socket.
	Name     string
	Abstract bool
	// VFS is the bound file (UNIX_DIAG_VFS, ShowVFS); nil if none.
	VFS *UnixVFS
	// Peer is the inode of the connected peer (UNIX_DIAG_PEER, ShowPeer);
	// 0 if none.
	Peer uint32
	// Pending lists the inodes of connections waiting to be accepted
	// by a listener (UNIX_DIAG_ICONS, ShowIcons).
	Pending []uint32
	// RecvQueue and SendQueue are what ss shows as Recv-Q and Send-Q
	// (UNIX_DIAG_RQLEN, ShowRQLen): for a listener the accept queue's
	// length and limit, otherwise bytes (stream) or datagrams queued.
	// HasQueues says whether they were sent.
	RecvQueue, SendQueue uint32
	HasQueues            bool
	// MemInfo (UNIX_DIAG_MEMINFO, ShowMemInfo).
	MemInfo *SKMemInfo
	// Shutdown holds the directions shut down (UNIX_DIAG_SHUTDOWN).
	Shutdown uint8
	// UID of the socket's owner (UNIX_DIAG_UID, ShowUID); HasUID says
	// whether it was sent.
	UID    uint32
	HasUID bool
}

// Address returns the socket's address as ss and package net write it:
// the path, "@name" for an abstract address, "" if unbound.
func (s *UnixSocket) Address() string {
	if s.Abstract {
		return "@" + s.Name
	}
	return s.Name
}

// UnmarshalBinary decodes a unix_diag_msg and its attributes. Unknown
// attributes are skipped; a known one of the wrong size is an error.
func (s *UnixSocket) UnmarshalBinary(b []byte) error {
	if len(b) < unixMsgLen {
		return fmt.Errorf("sockdiag: decode unix socket: %w: %d bytes, want %d", errShort, len(b), unixMsgLen)
	}
	if Family(b[0]) != FamilyUnix {
		return fmt.Errorf("sockdiag: decode unix socket: family %v, want unix", Family(b[0]))
	}
	out := UnixSocket{
		Type: UnixType(b[1]), State: State(b[2]),
		Inode:  binary.NativeEndian.Uint32(b[4:8]),
		Cookie: uint64(binary.NativeEndian.Uint32(b[8:12])) | uint64(binary.NativeEndian.Uint32(b[12:16]))<<32,
	}
	d := netlink.NewAttributeDecoder(b[unixMsgLen:])
	for d.Next() {
		switch d.Type() {
		case unixDiagName:
			p := d.Bytes()
			if len(p) > 0 && p[0] == 0 {
				// Abstract: every byte after the NUL is the name.
				out.Name, out.Abstract = string(p[1:]), true
			} else {
				// A path, with its terminating NUL.
				out.Name, _, _ = strings.Cut(string(p), "\x00")
			}
		case unixDiagVFS:
			p := d.Bytes()
			if len(p) < 8 {
				return fmt.Errorf("sockdiag: decode unix socket: vfs of %d bytes, want 8", len(p))
			}
			out.VFS = &UnixVFS{Inode: binary.NativeEndian.Uint32(p), Device: binary.NativeEndian.Uint32(p[4:])}
		case unixDiagPeer:
			out.Peer = d.Uint32()
		case unixDiagIcons:
			p := d.Bytes()
			if len(p)%4 != 0 {
				return fmt.Errorf("sockdiag: decode unix socket: icons of %d bytes, not a multiple of 4", len(p))
			}
			out.Pending = make([]uint32, 0, len(p)/4)
			for i := 0; i < len(p); i += 4 {
				out.Pending = append(out.Pending, binary.NativeEndian.Uint32(p[i:]))
			}
		case unixDiagRQLen:
			p := d.Bytes()
			if len(p) < 8 {
				return fmt.Errorf("sockdiag: decode unix socket: rqlen of %d bytes, want 8", len(p))
			}
			out.RecvQueue, out.SendQueue = binary.NativeEndian.Uint32(p), binary.NativeEndian.Uint32(p[4:])
			out.HasQueues = true
		case unixDiagMemInfo:
			out.MemInfo = new(SKMemInfo)
			out.MemInfo.unmarshal(d.Bytes())
		case unixDiagShutdown:
			out.Shutdown = d.Uint8()
		case unixDiagUID:
			out.UID, out.HasUID = d.Uint32(), true
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("sockdiag: decode unix socket: %w", err)
	}
	*s = out
	return nil
}

// MarshalBinary encodes s as the kernel would send it (for fake kernels
// and tests): the header, then the attributes of the fields set, a path
// with its terminating NUL.
func (s UnixSocket) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, unixMsgLen+64)
	b = append(b, uint8(FamilyUnix), uint8(s.Type), uint8(s.State), 0)
	b = binary.NativeEndian.AppendUint32(b, s.Inode)
	b = binary.NativeEndian.AppendUint32(b, uint32(s.Cookie))
	b = binary.NativeEndian.AppendUint32(b, uint32(s.Cookie>>32))
	var e netlink.AttributeEncoder
	e.Reset(b)
	switch {
	case s.Abstract:
		e.Bytes(unixDiagName, append([]byte{0}, s.Name...))
	case s.Name != "":
		if strings.IndexByte(s.Name, 0) >= 0 {
			return nil, fmt.Errorf("sockdiag: encode unix socket: path %q contains a NUL byte", s.Name)
		}
		e.String(unixDiagName, s.Name)
	}
	if s.VFS != nil {
		v := binary.NativeEndian.AppendUint32(nil, s.VFS.Inode)
		e.Bytes(unixDiagVFS, binary.NativeEndian.AppendUint32(v, s.VFS.Device))
	}
	if s.Peer != 0 {
		e.Uint32(unixDiagPeer, s.Peer)
	}
	if s.Pending != nil {
		var p []byte
		for _, ino := range s.Pending {
			p = binary.NativeEndian.AppendUint32(p, ino)
		}
		e.Bytes(unixDiagIcons, p)
	}
	if s.HasQueues {
		q := binary.NativeEndian.AppendUint32(nil, s.RecvQueue)
		e.Bytes(unixDiagRQLen, binary.NativeEndian.AppendUint32(q, s.SendQueue))
	}
	if s.MemInfo != nil {
		e.Bytes(unixDiagMemInfo, s.MemInfo.marshal())
	}
	e.Uint8(unixDiagShutdown, s.Shutdown)
	if s.HasUID {
		e.Uint32(unixDiagUID, s.UID)
	}
	out, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("sockdiag: encode unix socket: %w", err)
	}
	return out, nil
}
