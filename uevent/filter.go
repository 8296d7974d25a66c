package uevent

import (
	"fmt"
	"path"
	"strings"
)

// Filter selects events. The kernel has no filter for uevents (every
// listener gets every event of its namespace), so a Subscription applies
// it after decoding. The zero Filter matches everything.
type Filter struct {
	// Subsystems: the event's SUBSYSTEM must be one of these (any, if
	// empty). Exact names, such as "net" or "block".
	Subsystems []string
	// DevTypes: the event's DEVTYPE must be one of these (any, if
	// empty), such as "disk", "partition" or "wlan".
	DevTypes []string
	// Properties: the event must match all of these.
	Properties []Match
}

// Match is a property filter: the event has property Key with a value
// that matches Pattern, a shell glob as udev rules use them: * matches any
// characters (/ included), ? one character, [abc] and [a-z] one of a set,
// [^a] or [!a] one not in it, and a backslash quotes the next character.
type Match struct {
	Key     string
	Pattern string
}

// String returns "KEY=PATTERN".
func (m Match) String() string { return m.Key + "=" + m.Pattern }

// ParseMatch parses a property filter written KEY=PATTERN, such as
// INTERFACE=veth0 or ID_NET_NAME=en*.
func ParseMatch(s string) (Match, error) {
	k, v, ok := strings.Cut(s, "=")
	switch {
	case !ok:
		return Match{}, fmt.Errorf("uevent: property filter %q: want KEY=VALUE, such as INTERFACE=eth0", s)
	case strings.HasSuffix(k, "!"):
		return Match{}, fmt.Errorf("uevent: property filter %q: negation (KEY!=VALUE) is not supported: want KEY=VALUE", s)
	}
	m := Match{Key: k, Pattern: v}
	if err := m.Validate(); err != nil {
		return Match{}, err
	}
	return m, nil
}

// Validate checks the key and the pattern's syntax.
func (m Match) Validate() error {
	if m.Key == "" {
		return fmt.Errorf("uevent: property filter %q: empty key: want KEY=VALUE", m.String())
	}
	if strings.ContainsAny(m.Key, "=\x00 \t\n") {
		return fmt.Errorf("uevent: property filter %q: the key must not hold =, NUL or white space", m.String())
	}
	if strings.IndexByte(m.Pattern, 0) >= 0 {
		return fmt.Errorf("uevent: property filter %q: the value must not hold NUL", m.String())
	}
	if _, err := path.Match(globPattern(m.Pattern), ""); err != nil {
		return fmt.Errorf("uevent: property filter %q: bad pattern (an unclosed [ or a trailing \\?): %w", m.String(), err)
	}
	return nil
}

// Matches reports whether e has the property with a matching value.
func (m Match) Matches(e *Event) bool {
	for _, p := range e.Properties {
		if p.Key == m.Key && globMatch(m.Pattern, p.Value) {
			return true
		}
	}
	return false
}

// globPattern turns a udev glob into a path.Match pattern. path.Match
// stops * and ? at /, udev's fnmatch does not, so / becomes NUL (which
// neither values nor patterns hold) on both sides; fnmatch's [!...]
// becomes path.Match's [^...].
func globPattern(p string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			b.WriteByte(c)
			i++
			c = p[i]
		case c == '[' && !inClass:
			inClass = true
			b.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '!' {
				b.WriteByte('^')
				i++
			}
			continue
		case c == ']' && inClass:
			inClass = false
		}
		if c == '/' {
			c = 0
		}
		b.WriteByte(c)
	}
	return b.String()
}

func globMatch(pattern, value string) bool {
	ok, err := path.Match(globPattern(pattern), strings.ReplaceAll(value, "/", "\x00"))
	return err == nil && ok
}

// Validate checks every part of the filter.
func (f *Filter) Validate() error {
	for _, s := range f.Subsystems {
		if err := checkName("subsystem", s); err != nil {
			return err
		}
	}
	for _, s := range f.DevTypes {
		if err := checkName("devtype", s); err != nil {
			return err
		}
	}
	for _, m := range f.Properties {
		if err := m.Validate(); err != nil {
			return err
		}
	}
	return nil
}

func checkName(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("uevent: empty %s filter", what)
	case strings.Contains(s, "/") && what == "subsystem":
		sub, dt, _ := strings.Cut(s, "/")
		return fmt.Errorf("uevent: subsystem filter %q: a subsystem has no /; for udevadm's SUBSYSTEM/DEVTYPE give the subsystem %q and the devtype %q apart", s, sub, dt)
	case strings.ContainsAny(s, "=\x00 \t\n/"):
		return fmt.Errorf("uevent: %s filter %q: a name must not hold =, /, NUL or white space", what, s)
	}
	return nil
}

// Matches reports whether e passes the filter.
func (f *Filter) Matches(e *Event) bool {
	if len(f.Subsystems) > 0 && !contains(f.Subsystems, e.Subsystem) {
		return false
	}
	if len(f.DevTypes) > 0 && !contains(f.DevTypes, e.DevType) {
		return false
	}
	for _, m := range f.Properties {
		if !m.Matches(e) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
