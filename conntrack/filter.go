package conntrack

import (
	"net/netip"

	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
)

// Filter selects flows for listing, deleting and flushing. The zero
// Filter matches every flow of every family. Fields the kernel can
// filter on (family, mark, zone, status) are sent with the dump request
// (kernel-side filtering: only matching flows cross the socket); every
// field is also checked on each flow received, so the result is the same
// on kernels that ignore some filter attributes (zone filtering came in
// Linux 6.8, and the kernel cannot filter on the default zone, 0).
type Filter struct {
	// Family limits to IPv4 or IPv6 flows; FamilyUnspec means both.
	Family netfilter.Family
	// Mark, if set, keeps flows whose mark, ANDed with MarkMask, equals
	// *Mark. A MarkMask of 0 means 0xffffffff (exact match).
	Mark     *uint32
	MarkMask uint32
	// Zone, if set, keeps flows of that zone.
	Zone *uint16
	// Status keeps flows with all these status bits set.
	Status Status
	// Protocol, Src, Dst, SrcPort and DstPort, when set (non-zero,
	// valid), must match the original tuple. These are checked here, not
	// in the kernel.
	Protocol         Protocol
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
}

func (f *Filter) markMask() uint32 {
	if f.MarkMask == 0 {
		return 0xffffffff
	}
	return f.MarkMask
}

// Match reports whether fl passes the filter; a nil Filter matches all.
func (f *Filter) Match(fl *Flow) bool {
	if f == nil {
		return true
	}
	t := &fl.Original
	switch {
	case f.Family != netfilter.FamilyUnspec && fl.Family() != f.Family,
		f.Mark != nil && fl.Mark&f.markMask() != *f.Mark,
		f.Zone != nil && fl.Zone != *f.Zone,
		fl.Status&f.Status != f.Status,
		f.Protocol != 0 && t.Proto != f.Protocol,
		f.Src.IsValid() && t.Src != f.Src.Unmap(),
		f.Dst.IsValid() && t.Dst != f.Dst.Unmap(),
		f.SrcPort != 0 && t.SrcPort != f.SrcPort,
		f.DstPort != 0 && t.DstPort != f.DstPort:
		return false
	}
	return true
}

// kernelOnly reports whether the kernel can apply the whole filter to a
// flush: no tuple fields, and no zone 0 (which the kernel reads as "no
// zone filter").
func (f *Filter) kernelOnly() bool {
	if f == nil {
		return true
	}
	return f.Protocol == 0 && !f.Src.IsValid() && !f.Dst.IsValid() && f.SrcPort == 0 && f.DstPort == 0 &&
		(f.Zone == nil || *f.Zone != 0)
}

// encode adds the attributes of kernel-side filtering (ctnetlink_alloc_filter).
func (f *Filter) encode(e *netlink.AttributeEncoder) {
	if f == nil {
		return
	}
	if f.Mark != nil {
		e.Uint32(ctaMark, *f.Mark)
		e.Uint32(ctaMarkMask, f.markMask())
	}
	if f.Zone != nil && *f.Zone != 0 {
		e.Uint16BE(ctaZone, *f.Zone)
	}
	if f.Status != 0 {
		e.Uint32(ctaStatus, uint32(f.Status))
		e.Uint32(ctaStatusMask, uint32(f.Status))
	}
}

func (f *Filter) family() netfilter.Family {
	if f == nil {
		return netfilter.FamilyUnspec
	}
	return f.Family
}
