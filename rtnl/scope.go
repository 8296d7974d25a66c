package rtnl

import (
	"fmt"
	"strconv"
)

// Scope is how far from this host an address is valid or a route's
// destination lies (ifa_scope, rtm_scope: enum rt_scope_t). The smaller,
// the farther.
type Scope uint8

// Scopes, with the names ip uses (/etc/iproute2/rt_scopes).
const (
	ScopeGlobal  Scope = 0   // RT_SCOPE_UNIVERSE: anywhere, "global"
	ScopeSite    Scope = 200 // RT_SCOPE_SITE: interior (IPv6 site-local)
	ScopeLink    Scope = 253 // RT_SCOPE_LINK: on the attached link
	ScopeHost    Scope = 254 // RT_SCOPE_HOST: on this host
	ScopeNowhere Scope = 255 // RT_SCOPE_NOWHERE: no destination; any scope when deleting a route
)

var scopeNames = map[Scope]string{
	ScopeGlobal: "global", ScopeSite: "site", ScopeLink: "link", ScopeHost: "host", ScopeNowhere: "nowhere",
}

// String returns the scope as ip shows it ("global", "link", ...) or its
// number for scopes without a name.
func (s Scope) String() string {
	if n, ok := scopeNames[s]; ok {
		return n
	}
	return strconv.Itoa(int(s))
}

// ParseScope parses a scope as ip accepts it: "global" (or "universe"),
// "site", "link", "host", "nowhere" or a number from 0 to 255.
func ParseScope(s string) (Scope, error) {
	if s == "universe" {
		return ScopeGlobal, nil
	}
	for v, n := range scopeNames {
		if n == s {
			return v, nil
		}
	}
	v, err := strconv.ParseUint(s, 0, 8)
	if err != nil {
		return 0, fmt.Errorf("rtnl: unknown scope %q: want global, site, link, host, nowhere or 0-255", s)
	}
	return Scope(v), nil
}
