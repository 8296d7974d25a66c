package ethtool

import (
	"fmt"

	"github.com/nlkit/nlkit/netlink"
)

// Link info attributes (enum ETHTOOL_A_LINKINFO_*).
const (
	linkInfoPort        = 2 // ETHTOOL_A_LINKINFO_PORT: u8
	linkInfoPhyAddr     = 3 // ETHTOOL_A_LINKINFO_PHYADDR: u8
	linkInfoTPMDIX      = 4 // ETHTOOL_A_LINKINFO_TP_MDIX: u8
	linkInfoTPMDIXCtrl  = 5 // ETHTOOL_A_LINKINFO_TP_MDIX_CTRL: u8
	linkInfoTransceiver = 6 // ETHTOOL_A_LINKINFO_TRANSCEIVER: u8
)

// Port is the physical connector (PORT_* in linux/ethtool.h).
type Port uint8

// Ports.
const (
	PortTP    Port = 0x00 // PORT_TP: twisted pair
	PortAUI   Port = 0x01 // PORT_AUI
	PortBNC   Port = 0x02 // PORT_BNC
	PortMII   Port = 0x03 // PORT_MII
	PortFibre Port = 0x04 // PORT_FIBRE
	PortDA    Port = 0x05 // PORT_DA: direct attach copper
	PortNone  Port = 0xef // PORT_NONE
	PortOther Port = 0xff // PORT_OTHER
)

var portNames = map[Port]string{
	PortTP: "Twisted Pair", PortAUI: "AUI", PortBNC: "BNC", PortMII: "MII", PortFibre: "FIBRE",
	PortDA: "Direct Attach Copper", PortNone: "None", PortOther: "Other",
}

// String returns the port as ethtool prints it ("Twisted Pair"), or
// "Unknown! (N)".
func (p Port) String() string {
	if s, ok := portNames[p]; ok {
		return s
	}
	return fmt.Sprintf("Unknown! (%d)", uint8(p))
}

// Transceiver says where the transceiver is (XCVR_* in linux/ethtool.h).
type Transceiver uint8

// Transceivers.
const (
	TransceiverInternal Transceiver = 0 // XCVR_INTERNAL: PHY and MAC in one chip
	TransceiverExternal Transceiver = 1 // XCVR_EXTERNAL
)

// String returns "internal" or "external" as ethtool prints them, or
// "Unknown! (N)".
func (t Transceiver) String() string {
	switch t {
	case TransceiverInternal:
		return "internal"
	case TransceiverExternal:
		return "external"
	}
	return fmt.Sprintf("Unknown! (%d)", uint8(t))
}

// MDIX is a twisted-pair MDI/MDI-X state or setting (ETH_TP_MDI_* in
// linux/ethtool.h).
type MDIX uint8

// MDI-X states.
const (
	MDIXInvalid MDIX = 0 // ETH_TP_MDI_INVALID: unknown or not applicable
	MDIXOff     MDIX = 1 // ETH_TP_MDI: MDI, crossover off
	MDIXOn      MDIX = 2 // ETH_TP_MDI_X: MDI-X, crossover on
	MDIXAuto    MDIX = 3 // ETH_TP_MDI_AUTO: automatic (control only)
)

// String returns "invalid", "off", "on", "auto" or "mdix(N)".
func (m MDIX) String() string {
	switch m {
	case MDIXInvalid:
		return "invalid"
	case MDIXOff:
		return "off"
	case MDIXOn:
		return "on"
	case MDIXAuto:
		return "auto"
	}
	return fmt.Sprintf("mdix(%d)", uint8(m))
}

// LinkInfo is the reply to LINKINFO_GET (ETHTOOL_MSG_LINKINFO_GET_REPLY):
// the port, PHY address, MDI-X state and transceiver of a device.
type LinkInfo struct {
	// Header names the device.
	Header Header
	// Port is the physical connector (ETHTOOL_A_LINKINFO_PORT).
	Port Port
	// PhyAddr is the PHY's MDIO address (ETHTOOL_A_LINKINFO_PHYADDR).
	PhyAddr uint8
	// TPMDIX is the MDI-X state (ETHTOOL_A_LINKINFO_TP_MDIX) and
	// TPMDIXCtrl its setting (ETHTOOL_A_LINKINFO_TP_MDIX_CTRL).
	TPMDIX     MDIX
	TPMDIXCtrl MDIX
	// Transceiver (ETHTOOL_A_LINKINFO_TRANSCEIVER).
	Transceiver Transceiver
}

// MDIXString returns the MDI-X line of ethtool DEV: "on", "off",
// "Unknown", "on (forced)", "off (auto)", ...
func (li *LinkInfo) MDIXString() string {
	switch li.TPMDIXCtrl {
	case MDIXOff:
		return "off (forced)"
	case MDIXOn:
		return "on (forced)"
	}
	var s string
	switch li.TPMDIX {
	case MDIXOff:
		s = "off"
	case MDIXOn:
		s = "on"
	default:
		return "Unknown"
	}
	if li.TPMDIXCtrl == MDIXAuto {
		s += " (auto)"
	}
	return s
}

// MarshalBinary encodes li as the attributes of a LINKINFO_GET_REPLY in
// the kernel's order (linkinfo_fill_reply): header, port, PHY address,
// MDI-X, MDI-X control, transceiver.
func (li LinkInfo) MarshalBinary() ([]byte, error) {
	var e netlink.AttributeEncoder
	li.Header.encode(&e)
	e.Uint8(linkInfoPort, uint8(li.Port))
	e.Uint8(linkInfoPhyAddr, li.PhyAddr)
	e.Uint8(linkInfoTPMDIX, uint8(li.TPMDIX))
	e.Uint8(linkInfoTPMDIXCtrl, uint8(li.TPMDIXCtrl))
	e.Uint8(linkInfoTransceiver, uint8(li.Transceiver))
	b, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("ethtool: encode link info: %w", err)
	}
	return b, nil
}

// UnmarshalBinary decodes the attributes of a LINKINFO_GET_REPLY.
// Unknown attributes are skipped.
func (li *LinkInfo) UnmarshalBinary(b []byte) error {
	var out LinkInfo
	d := netlink.NewAttributeDecoder(b)
	for d.Next() {
		switch d.Type() {
		case attrHeader:
			decodeHeader(d, &out.Header)
		case linkInfoPort:
			out.Port = Port(d.Uint8())
		case linkInfoPhyAddr:
			out.PhyAddr = d.Uint8()
		case linkInfoTPMDIX:
			out.TPMDIX = MDIX(d.Uint8())
		case linkInfoTPMDIXCtrl:
			out.TPMDIXCtrl = MDIX(d.Uint8())
		case linkInfoTransceiver:
			out.Transceiver = Transceiver(d.Uint8())
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("ethtool: decode link info: %w", err)
	}
	*li = out
	return nil
}
