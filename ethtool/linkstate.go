package ethtool

import (
	"fmt"

	"github.com/nlkit/nlkit/netlink"
)

// Link state attributes (enum ETHTOOL_A_LINKSTATE_*).
const (
	linkStateLink        = 2 // ETHTOOL_A_LINKSTATE_LINK: u8
	linkStateSQI         = 3 // ETHTOOL_A_LINKSTATE_SQI: u32
	linkStateSQIMax      = 4 // ETHTOOL_A_LINKSTATE_SQI_MAX: u32
	linkStateExtState    = 5 // ETHTOOL_A_LINKSTATE_EXT_STATE: u8
	linkStateExtSubstate = 6 // ETHTOOL_A_LINKSTATE_EXT_SUBSTATE: u8
	linkStateExtDownCnt  = 7 // ETHTOOL_A_LINKSTATE_EXT_DOWN_CNT: u32
)

// LinkState is the reply to LINKSTATE_GET
// (ETHTOOL_MSG_LINKSTATE_GET_REPLY). Each field is nil when the kernel
// did not send it (the driver cannot tell).
type LinkState struct {
	// Header names the device.
	Header Header
	// Link says whether the link is up: ethtool's "Link detected"
	// (ETHTOOL_A_LINKSTATE_LINK).
	Link *bool
	// SQI and SQIMax are the signal quality index of a BASE-T1 PHY and
	// its maximum (ETHTOOL_A_LINKSTATE_SQI, _SQI_MAX).
	SQI    *uint32
	SQIMax *uint32
	// ExtState and ExtSubstate say why a link is down
	// (ETHTOOL_A_LINKSTATE_EXT_STATE, _EXT_SUBSTATE: enum
	// ethtool_link_ext_state and its substates).
	ExtState    *uint8
	ExtSubstate *uint8
	// ExtDownCount counts the times the link went down
	// (ETHTOOL_A_LINKSTATE_EXT_DOWN_CNT).
	ExtDownCount *uint32
}

// MarshalBinary encodes ls as the attributes of a LINKSTATE_GET_REPLY
// in the kernel's order (linkstate_fill_reply), the fields that are set.
func (ls LinkState) MarshalBinary() ([]byte, error) {
	var e netlink.AttributeEncoder
	ls.Header.encode(&e)
	if ls.Link != nil {
		v := uint8(0)
		if *ls.Link {
			v = 1
		}
		e.Uint8(linkStateLink, v)
	}
	if ls.SQI != nil {
		e.Uint32(linkStateSQI, *ls.SQI)
	}
	if ls.SQIMax != nil {
		e.Uint32(linkStateSQIMax, *ls.SQIMax)
	}
	if ls.ExtState != nil {
		e.Uint8(linkStateExtState, *ls.ExtState)
	}
	if ls.ExtSubstate != nil {
		e.Uint8(linkStateExtSubstate, *ls.ExtSubstate)
	}
	if ls.ExtDownCount != nil {
		e.Uint32(linkStateExtDownCnt, *ls.ExtDownCount)
	}
	b, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("ethtool: encode link state: %w", err)
	}
	return b, nil
}

// UnmarshalBinary decodes the attributes of a LINKSTATE_GET_REPLY.
// Unknown attributes are skipped.
func (ls *LinkState) UnmarshalBinary(b []byte) error {
	var out LinkState
	d := netlink.NewAttributeDecoder(b)
	u8 := func() *uint8 { v := d.Uint8(); return &v }
	u32 := func() *uint32 { v := d.Uint32(); return &v }
	for d.Next() {
		switch d.Type() {
		case attrHeader:
			decodeHeader(d, &out.Header)
		case linkStateLink:
			v := d.Uint8() != 0
			out.Link = &v
		case linkStateSQI:
			out.SQI = u32()
		case linkStateSQIMax:
			out.SQIMax = u32()
		case linkStateExtState:
			out.ExtState = u8()
		case linkStateExtSubstate:
			out.ExtSubstate = u8()
		case linkStateExtDownCnt:
			out.ExtDownCount = u32()
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("ethtool: decode link state: %w", err)
	}
	*ls = out
	return nil
}
