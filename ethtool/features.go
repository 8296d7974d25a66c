package ethtool

import (
	"fmt"
	"strings"

	"github.com/nlkit/nlkit/netlink"
)

// Features attributes (enum ETHTOOL_A_FEATURES_*).
const (
	featuresHW       = 2 // ETHTOOL_A_FEATURES_HW: bitset, value changeable, mask all
	featuresWanted   = 3 // ETHTOOL_A_FEATURES_WANTED: bitset, list
	featuresActive   = 4 // ETHTOOL_A_FEATURES_ACTIVE: bitset, list
	featuresNoChange = 5 // ETHTOOL_A_FEATURES_NOCHANGE: bitset, list
)

// Features is the reply to FEATURES_GET
// (ETHTOOL_MSG_FEATURES_GET_REPLY): the netdev features of a device as
// four bit sets over the kernel's feature list (ETH_SS_FEATURES). Use
// List, Map or Groups for each feature's state.
type Features struct {
	// Header names the device.
	Header Header
	// HW are the features the user may change (ETHTOOL_A_FEATURES_HW:
	// netdev hw_features, masked by every feature the kernel knows).
	HW *Bitset
	// Wanted are the features the user asked for
	// (ETHTOOL_A_FEATURES_WANTED: wanted_features).
	Wanted *Bitset
	// Active are the features in use (ETHTOOL_A_FEATURES_ACTIVE:
	// features).
	Active *Bitset
	// NoChange are the features that can never change
	// (ETHTOOL_A_FEATURES_NOCHANGE: NETIF_F_NEVER_CHANGE).
	NoChange *Bitset
	// Names are the feature names by index (the ETH_SS_FEATURES string
	// set). Client fills it in; decoding leaves it nil, and List then
	// names features from the verbose bit sets.
	Names []string
}

// Feature is the state of one netdev feature, as ethtool -k shows it.
type Feature struct {
	// Index is the feature's bit (NETIF_F_*_BIT).
	Index uint32
	// Name is the kernel's name ("rx-checksum", "tx-generic-segmentation").
	Name string
	// Active says whether the feature is in use.
	Active bool
	// Requested says whether the user asked for it (wanted).
	Requested bool
	// Fixed says it cannot be changed: it is not among the changeable
	// (HW) features, or it is a NOCHANGE feature; ethtool's "[fixed]".
	Fixed bool
	// NoChange says it is one of the features no device may change
	// (NOCHANGE: NETIF_F_NEVER_CHANGE), a reason for Fixed.
	NoChange bool
}

// size is the number of features: the largest size of the four sets.
func (f *Features) size() uint32 {
	var n uint32
	for _, b := range []*Bitset{f.HW, f.Wanted, f.Active, f.NoChange} {
		if b != nil {
			n = max(n, b.Size)
		}
	}
	return n
}

func test(b *Bitset, i uint32) bool { return b != nil && b.Test(i) }

// name returns the name of feature i: from Names, or from a verbose bit
// set.
func (f *Features) name(i uint32) string {
	if uint64(i) < uint64(len(f.Names)) && f.Names[i] != "" {
		return f.Names[i]
	}
	for _, b := range []*Bitset{f.HW, f.Wanted, f.Active, f.NoChange} {
		if b == nil {
			continue
		}
		if n, ok := b.find(i); ok && b.Bits[n].Name != "" {
			return b.Bits[n].Name
		}
	}
	return ""
}

// List returns every named feature in index order (features without a
// name, which ethtool does not show either, are left out). Without
// Names, a feature absent from all four verbose sets has no name and is
// left out too: Client fills in Names so that none is missed.
func (f *Features) List() []Feature {
	var out []Feature
	n := f.size()
	if uint64(len(f.Names)) > uint64(n) {
		n = uint32(len(f.Names))
	}
	for i := uint32(0); i < n; i++ {
		name := f.name(i)
		if name == "" {
			continue
		}
		out = append(out, Feature{
			Index: i, Name: name,
			Active: test(f.Active, i), Requested: test(f.Wanted, i),
			Fixed: !test(f.HW, i) || test(f.NoChange, i), NoChange: test(f.NoChange, i),
		})
	}
	return out
}

// Map returns the features of List by name.
func (f *Features) Map() map[string]Feature {
	m := map[string]Feature{}
	for _, x := range f.List() {
		m[x.Name] = x
	}
	return m
}

// FeatureGroup is a line of ethtool -k: one of ethtool's legacy flags
// ("tx-checksumming") with the features it stands for, or a feature of
// its own.
type FeatureGroup struct {
	// Name is the legacy flag's name, or the feature's.
	Name string
	// Legacy says Name is a legacy flag of ethtool's.
	Legacy bool
	// Features are the features of the group, in index order: one for a
	// feature of its own, any number for a legacy flag.
	Features []Feature
}

// Active reports whether any feature of the group is active: ethtool's
// value of a legacy flag.
func (g FeatureGroup) Active() bool {
	for _, x := range g.Features {
		if x.Active {
			return true
		}
	}
	return false
}

// legacyFlags are ethtool's legacy offload flags (off_flag_def in
// ethtool.c) with the kernel feature names they stand for, a '*' in a
// pattern matching any text. "udp-fragmentation-offload" is left out, as
// ethtool leaves it out with netlink: no kernel with the netlink
// interface has it.
var legacyFlags = []struct{ name, pattern string }{
	{"rx-checksumming", "rx-checksum"},
	{"tx-checksumming", "tx-checksum-*"},
	{"scatter-gather", "tx-scatter-gather*"},
	{"tcp-segmentation-offload", "tx-tcp*-segmentation"},
	{"generic-segmentation-offload", "tx-generic-segmentation"},
	{"generic-receive-offload", "rx-gro"},
	{"large-receive-offload", "rx-lro"},
	{"rx-vlan-offload", "rx-vlan-hw-parse"},
	{"tx-vlan-offload", "tx-vlan-hw-insert"},
	{"ntuple-filters", "rx-ntuple-filter"},
	{"receive-hashing", "rx-hashing"},
}

// matchPattern reports whether name matches a pattern with at most one
// '*' (ethtool's flag_pattern_match).
func matchPattern(name, pattern string) bool {
	prefix, suffix, star := strings.Cut(pattern, "*")
	if !star {
		return name == pattern
	}
	return len(name) >= len(prefix)+len(suffix) && strings.HasPrefix(name, prefix) && strings.HasSuffix(name, suffix)
}

// Groups returns the lines of ethtool -k in its order: the legacy flags
// first, each with the features it stands for (a flag that matches no
// feature is still there, off, as ethtool shows it), then every other
// feature on its own, in index order.
func (f *Features) Groups() []FeatureGroup {
	list := f.List()
	groups := make([]FeatureGroup, len(legacyFlags))
	grouped := make([]bool, len(list))
	for i, x := range list {
		for j, lf := range legacyFlags {
			if matchPattern(x.Name, lf.pattern) {
				groups[j].Features = append(groups[j].Features, x)
				grouped[i] = true
				break
			}
		}
	}
	for j, lf := range legacyFlags {
		groups[j].Name, groups[j].Legacy = lf.name, true
	}
	for i, x := range list {
		if !grouped[i] {
			groups = append(groups, FeatureGroup{Name: x.Name, Features: []Feature{x}})
		}
	}
	return groups
}

// MarshalBinary encodes f as the attributes of a FEATURES_GET_REPLY in
// the kernel's order: header, HW, WANTED, ACTIVE, NOCHANGE (those set).
// Names are not encoded.
func (f Features) MarshalBinary() ([]byte, error) {
	var e netlink.AttributeEncoder
	f.Header.encode(&e)
	for _, bs := range []struct {
		typ uint16
		b   *Bitset
	}{{featuresHW, f.HW}, {featuresWanted, f.Wanted}, {featuresActive, f.Active}, {featuresNoChange, f.NoChange}} {
		if bs.b != nil {
			if err := bs.b.encode(&e, bs.typ); err != nil {
				return nil, fmt.Errorf("ethtool: encode features: %w", err)
			}
		}
	}
	b, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("ethtool: encode features: %w", err)
	}
	return b, nil
}

// UnmarshalBinary decodes the attributes of a FEATURES_GET_REPLY, with
// bit sets in either form. Names is left nil.
func (f *Features) UnmarshalBinary(b []byte) error {
	var out Features
	d := netlink.NewAttributeDecoder(b)
	for d.Next() {
		var p **Bitset
		switch d.Type() {
		case attrHeader:
			decodeHeader(d, &out.Header)
		case featuresHW:
			p = &out.HW
		case featuresWanted:
			p = &out.Wanted
		case featuresActive:
			p = &out.Active
		case featuresNoChange:
			p = &out.NoChange
		}
		if p != nil {
			*p = new(Bitset)
			decodeBitset(d, *p)
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("ethtool: decode features: %w", err)
	}
	*f = out
	return nil
}
