package ethtool

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/nlkit/nlkit/netlink"
)

// Link modes attributes (enum ETHTOOL_A_LINKMODES_*).
const (
	linkModesAutoneg          = 2  // ETHTOOL_A_LINKMODES_AUTONEG: u8
	linkModesOurs             = 3  // ETHTOOL_A_LINKMODES_OURS: bitset, value advertised, mask supported
	linkModesPeer             = 4  // ETHTOOL_A_LINKMODES_PEER: bitset, list
	linkModesSpeed            = 5  // ETHTOOL_A_LINKMODES_SPEED: u32, Mb/s
	linkModesDuplex           = 6  // ETHTOOL_A_LINKMODES_DUPLEX: u8
	linkModesMasterSlaveCfg   = 7  // ETHTOOL_A_LINKMODES_MASTER_SLAVE_CFG: u8
	linkModesMasterSlaveState = 8  // ETHTOOL_A_LINKMODES_MASTER_SLAVE_STATE: u8
	linkModesLanes            = 9  // ETHTOOL_A_LINKMODES_LANES: u32
	linkModesRateMatching     = 10 // ETHTOOL_A_LINKMODES_RATE_MATCHING: u8
)

// Link mode bits that are not modes (ETHTOOL_LINK_MODE_*_BIT).
const (
	// LinkModeAutoneg is the Autoneg bit: in the supported mask, the
	// device can autonegotiate; in a value, it advertises autonegotiation.
	LinkModeAutoneg = 6 // ETHTOOL_LINK_MODE_Autoneg_BIT
)

// Speed is a link speed in Mb/s (ETHTOOL_A_LINKMODES_SPEED), or
// SpeedUnknown.
type Speed int

// SpeedUnknown is the speed of a link that is down or cannot tell
// (SPEED_UNKNOWN, -1 as a u32). Every u32 above INT_MAX decodes as it.
const SpeedUnknown Speed = -1

// Known reports whether s is an actual speed (ethtool prints
// "Unknown!" for 0, 65535 and SPEED_UNKNOWN).
func (s Speed) Known() bool { return s > 0 && s != math.MaxUint16 }

// String returns "10000Mb/s", or "Unknown!" as ethtool prints it.
func (s Speed) String() string {
	if !s.Known() {
		return "Unknown!"
	}
	return strconv.Itoa(int(s)) + "Mb/s"
}

// Duplex is the duplex mode (DUPLEX_* in linux/ethtool.h).
type Duplex uint8

// Duplex modes.
const (
	DuplexHalf    Duplex = 0x00 // DUPLEX_HALF
	DuplexFull    Duplex = 0x01 // DUPLEX_FULL
	DuplexUnknown Duplex = 0xff // DUPLEX_UNKNOWN
)

// String returns "Half" or "Full" as ethtool prints them, or
// "Unknown! (N)".
func (d Duplex) String() string {
	switch d {
	case DuplexHalf:
		return "Half"
	case DuplexFull:
		return "Full"
	}
	return fmt.Sprintf("Unknown! (%d)", uint8(d))
}

// LinkModes is the reply to LINKMODES_GET
// (ETHTOOL_MSG_LINKMODES_GET_REPLY): autonegotiation, speed, duplex and
// the link modes of a device and of its link partner.
type LinkModes struct {
	// Header names the device.
	Header Header
	// Autoneg says whether autonegotiation is on
	// (ETHTOOL_A_LINKMODES_AUTONEG).
	Autoneg bool
	// Ours are the device's link modes (ETHTOOL_A_LINKMODES_OURS): the
	// mask is what it supports, the value what it advertises. Bit names
	// are the kernel's ("1000baseT/Full", "Autoneg", "TP", "Pause", ...).
	Ours *Bitset
	// Peer are the modes the link partner advertises
	// (ETHTOOL_A_LINKMODES_PEER, a list); nil when it advertises none.
	Peer *Bitset
	// Speed is the link's speed (ETHTOOL_A_LINKMODES_SPEED).
	Speed Speed
	// Duplex is the link's duplex mode (ETHTOOL_A_LINKMODES_DUPLEX).
	Duplex Duplex
	// Lanes is the number of lanes in use (ETHTOOL_A_LINKMODES_LANES),
	// 0 if the driver does not say.
	Lanes uint32
	// MasterSlaveCfg and MasterSlaveState are the master/slave role
	// setting and state of a BASE-T1 PHY
	// (ETHTOOL_A_LINKMODES_MASTER_SLAVE_*), 0 if not supported.
	MasterSlaveCfg   uint8
	MasterSlaveState uint8
	// RateMatching is the rate matching the PHY does
	// (ETHTOOL_A_LINKMODES_RATE_MATCHING, RATE_MATCH_*: 0 none).
	RateMatching uint8
}

// isMode reports whether a link mode bit's name is a mode (a speed and
// duplex, such as "1000baseT/Full") rather than a port ("TP"), pause,
// FEC or autonegotiation bit.
func isMode(name string) bool {
	return strings.HasSuffix(name, "/Full") || strings.HasSuffix(name, "/Half")
}

func modeNames(b *Bitset, set bool) []string {
	out := []string{}
	if b == nil {
		return out
	}
	for _, x := range b.Bits {
		if (!set || x.Value) && isMode(x.Name) {
			out = append(out, x.Name)
		}
	}
	return out
}

// Supported returns the link modes the device supports (speed and
// duplex modes only, without port, pause, FEC and autonegotiation bits),
// as ethtool's "Supported link modes".
func (lm *LinkModes) Supported() []string { return modeNames(lm.Ours, false) }

// Advertised returns the link modes the device advertises, as ethtool's
// "Advertised link modes".
func (lm *LinkModes) Advertised() []string { return modeNames(lm.Ours, true) }

// PeerAdvertised returns the link modes the link partner advertises, as
// ethtool's "Link partner advertised link modes".
func (lm *LinkModes) PeerAdvertised() []string { return modeNames(lm.Peer, true) }

// AutonegSupported reports whether the device can autonegotiate (the
// Autoneg bit of the supported modes).
func (lm *LinkModes) AutonegSupported() bool {
	return lm.Ours != nil && lm.Ours.Has(LinkModeAutoneg)
}

// AutonegAdvertised reports whether the device advertises
// autonegotiation.
func (lm *LinkModes) AutonegAdvertised() bool {
	return lm.Ours != nil && lm.Ours.Test(LinkModeAutoneg)
}

// MarshalBinary encodes lm as the attributes of a LINKMODES_GET_REPLY in
// the kernel's order (linkmodes_fill_reply): header, autoneg, ours,
// peer, speed, duplex, then lanes and master/slave when set, then rate
// matching.
func (lm LinkModes) MarshalBinary() ([]byte, error) {
	var e netlink.AttributeEncoder
	lm.Header.encode(&e)
	autoneg := uint8(0)
	if lm.Autoneg {
		autoneg = 1
	}
	e.Uint8(linkModesAutoneg, autoneg)
	for _, bs := range []struct {
		typ uint16
		b   *Bitset
	}{{linkModesOurs, lm.Ours}, {linkModesPeer, lm.Peer}} {
		if bs.b != nil {
			if err := bs.b.encode(&e, bs.typ); err != nil {
				return nil, fmt.Errorf("ethtool: encode link modes: %w", err)
			}
		}
	}
	speed := uint32(math.MaxUint32)
	if lm.Speed >= 0 {
		speed = uint32(min(int64(lm.Speed), math.MaxInt32))
	}
	e.Uint32(linkModesSpeed, speed)
	e.Uint8(linkModesDuplex, uint8(lm.Duplex))
	if lm.Lanes != 0 {
		e.Uint32(linkModesLanes, lm.Lanes)
	}
	if lm.MasterSlaveCfg != 0 {
		e.Uint8(linkModesMasterSlaveCfg, lm.MasterSlaveCfg)
	}
	if lm.MasterSlaveState != 0 {
		e.Uint8(linkModesMasterSlaveState, lm.MasterSlaveState)
	}
	e.Uint8(linkModesRateMatching, lm.RateMatching)
	b, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("ethtool: encode link modes: %w", err)
	}
	return b, nil
}

// UnmarshalBinary decodes the attributes of a LINKMODES_GET_REPLY, with
// bit sets in either form. Unknown attributes are skipped.
func (lm *LinkModes) UnmarshalBinary(b []byte) error {
	var out LinkModes
	d := netlink.NewAttributeDecoder(b)
	for d.Next() {
		switch d.Type() {
		case attrHeader:
			decodeHeader(d, &out.Header)
		case linkModesAutoneg:
			out.Autoneg = d.Uint8() != 0
		case linkModesOurs:
			out.Ours = new(Bitset)
			decodeBitset(d, out.Ours)
		case linkModesPeer:
			out.Peer = new(Bitset)
			decodeBitset(d, out.Peer)
		case linkModesSpeed:
			if v := d.Uint32(); v > math.MaxInt32 {
				out.Speed = SpeedUnknown
			} else {
				out.Speed = Speed(v)
			}
		case linkModesDuplex:
			out.Duplex = Duplex(d.Uint8())
		case linkModesLanes:
			out.Lanes = d.Uint32()
		case linkModesMasterSlaveCfg:
			out.MasterSlaveCfg = d.Uint8()
		case linkModesMasterSlaveState:
			out.MasterSlaveState = d.Uint8()
		case linkModesRateMatching:
			out.RateMatching = d.Uint8()
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("ethtool: decode link modes: %w", err)
	}
	*lm = out
	return nil
}
