// Package hostname normalizes and validates route hostnames, and maps them to DomainClaim names.
//
// A normalized hostname is lower case, has no trailing dot, spells Unicode labels in punycode
// ("xn--") and has a wildcard only as its whole leftmost label. Two spellings of one hostname
// normalize to the same string, so they map to the same DomainClaim name and collide in the API
// server.
package hostname

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"

	"github.com/mtibben/confusables"
	"golang.org/x/net/idna"
)

const (
	// MaxLength is the longest hostname Gateway API and DNS allow.
	MaxLength = 253
	// MaxLabelLength is the longest DNS label.
	MaxLabelLength = 63

	// WildcardLabel stands for the leftmost "*" of a wildcard hostname in DomainClaim names,
	// which cannot contain "*". It cannot collide with a real hostname: labels with "--" in the
	// third and fourth positions that are not "xn--" A-labels are reserved by IDNA2008
	// (RFC 5891, section 4.2.3.1), and Validate rejects them.
	WildcardLabel = "wc--wildcard"

	// MaxWildcardLength is the longest wildcard hostname whose claim name fits the 253-character
	// limit of Kubernetes object names.
	MaxWildcardLength = MaxLength - len(WildcardLabel) + len("*")
)

// profile converts Unicode labels to punycode. Its own checks are left to Validate, which gives
// messages a person can act on.
var profile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false))

// strict checks that an xn-- label decodes to a valid IDNA2008 label.
var strict = idna.New(idna.ValidateForRegistration())

// Normalize returns the normalized spelling of a hostname: trimmed of spaces and one trailing
// dot, lower case, Unicode labels in punycode. It fails only when a label cannot be converted;
// Validate decides whether the result is acceptable.
func Normalize(h string) (string, error) {
	h = strings.TrimSpace(h)
	h = strings.TrimSuffix(h, ".")
	wildcard := strings.HasPrefix(h, "*.")
	if wildcard {
		h = h[2:]
	}
	if isASCII(h) {
		h = strings.ToLower(h)
	} else {
		a, err := profile.ToASCII(h)
		if err != nil {
			return "", fmt.Errorf("cannot convert %q to punycode: %w", h, err)
		}
		h = a
	}
	if wildcard {
		h = "*." + h
	}
	return h, nil
}

// Validate checks a normalized hostname against Gateway API's rules (lower-case RFC 1123 labels,
// at most 253 characters, a wildcard only as the whole leftmost label, no IP address) and the
// IDNA rules this product enforces. The error says what is wrong in words a person can act on.
func Validate(h string) error {
	if h == "" {
		return fmt.Errorf("hostname is empty")
	}
	if len(h) > MaxLength {
		return fmt.Errorf("hostname is %d characters long; at most %d are allowed", len(h), MaxLength)
	}
	if _, err := parseAddr(h); err == nil {
		return fmt.Errorf("%q is an IP address; a hostname is required", h)
	}
	base := h
	if strings.HasPrefix(h, "*.") {
		base = h[2:]
		if len(h) > MaxWildcardLength {
			return fmt.Errorf("wildcard hostname is %d characters long; at most %d are allowed", len(h), MaxWildcardLength)
		}
	}
	labels := strings.Split(base, ".")
	for i, l := range labels {
		if err := validateLabel(l); err != nil {
			return fmt.Errorf("label %d (%q): %w", i+1+boolInt(base != h), l, err)
		}
	}
	if allDigits(labels[len(labels)-1]) {
		return fmt.Errorf("the last label %q is numeric; top-level domains are never numeric", labels[len(labels)-1])
	}
	return nil
}

func validateLabel(l string) error {
	switch {
	case l == "":
		return fmt.Errorf("empty label (two dots in a row, or a leading dot)")
	case l == "*":
		return fmt.Errorf("a wildcard is only allowed as the whole leftmost label, as in \"*.example.com\"")
	case len(l) > MaxLabelLength:
		return fmt.Errorf("label is %d characters long; at most %d are allowed", len(l), MaxLabelLength)
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-':
			if i == 0 || i == len(l)-1 {
				return fmt.Errorf("a label must not start or end with '-'")
			}
		case c == '*':
			return fmt.Errorf("a wildcard is only allowed as the whole leftmost label, as in \"*.example.com\"")
		case c >= 'A' && c <= 'Z':
			return fmt.Errorf("upper-case letters are not allowed")
		default:
			return fmt.Errorf("character %q is not allowed; use lower-case letters, digits and '-'", c)
		}
	}
	if len(l) >= 4 && l[2] == '-' && l[3] == '-' {
		if !strings.HasPrefix(l, "xn--") {
			return fmt.Errorf("labels with \"--\" in the third and fourth positions are reserved (RFC 5891) unless they start with \"xn--\"")
		}
		if _, err := strict.ToUnicode(l); err != nil {
			return fmt.Errorf("not a valid punycode label: %v", err)
		}
	}
	return nil
}

// IsWildcard reports whether h is a wildcard hostname ("*.example.com").
func IsWildcard(h string) bool { return strings.HasPrefix(h, "*.") }

// ClaimName is the DomainClaim name of a normalized hostname: the hostname itself, or for a
// wildcard the hostname with WildcardLabel in place of "*".
func ClaimName(h string) string {
	if IsWildcard(h) {
		return WildcardLabel + h[1:]
	}
	return h
}

// FromClaimName is the inverse of ClaimName.
func FromClaimName(name string) string {
	if strings.HasPrefix(name, WildcardLabel+".") {
		return "*" + name[len(WildcardLabel):]
	}
	return name
}

// Parent is the domain directly above domain d ("b.c" for "a.b.c"), or "" for a single label.
func Parent(d string) string {
	i := strings.IndexByte(d, '.')
	if i < 0 {
		return ""
	}
	return d[i+1:]
}

// MatchDomain is the domain whose names h matches: h itself for an exact hostname, the part after
// "*." for a wildcard (whose names all lie strictly below it).
func MatchDomain(h string) string {
	if IsWildcard(h) {
		return h[2:]
	}
	return h
}

// Ancestors lists, nearest first, the domains that every name h matches lies strictly below:
// "b.c", "c" for "a.b.c"; "a.b.c", "b.c", "c" for "*.a.b.c". A wildcard "*.d" overlaps exactly
// the hostnames that have d among their ancestors.
func Ancestors(h string) []string {
	var out []string
	d := h
	if IsWildcard(h) {
		d = h[2:]
		out = append(out, d)
	}
	for p := Parent(d); p != ""; p = Parent(p) {
		out = append(out, p)
	}
	return out
}

// ZoneCandidates lists, longest first, the domains a ManagedZone may have to cover h: h itself
// (exact hostnames only) and its ancestors.
func ZoneCandidates(h string) []string {
	if IsWildcard(h) {
		return Ancestors(h)
	}
	return append([]string{h}, Ancestors(h)...)
}

// CoveringWildcards lists the wildcard hostnames that match h, nearest first: "*.b.c" and "*.c"
// for "a.b.c"; "*.c" for "*.b.c" (a wildcard over a deeper wildcard's names).
func CoveringWildcards(h string) []string {
	d := MatchDomain(h)
	var out []string
	for p := Parent(d); p != ""; p = Parent(p) {
		out = append(out, "*."+p)
	}
	return out
}

// Covers reports whether wildcard w matches every name that h matches.
func Covers(w, h string) bool {
	if !IsWildcard(w) || w == h {
		return false
	}
	return strings.HasSuffix(MatchDomain(h), w[1:])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func parseAddr(s string) (netip.Addr, error) { return netip.ParseAddr(strings.Trim(s, "[]")) }

// confusableScripts are the scripts whose letters look like Latin ones (UTS #39's classic
// look-alikes: Cyrillic "а" for Latin "a", Greek "ο" for "o").
var confusableScripts = []struct {
	name  string
	table *unicode.RangeTable
}{{"Latin", unicode.Latin}, {"Cyrillic", unicode.Cyrillic}, {"Greek", unicode.Greek}}

// MixedScripts returns the first punycode label of normalized hostname h whose Unicode form mixes
// letters of more than one of Latin, Cyrillic and Greek, as a look-alike of another name would,
// with its Unicode spelling and the scripts it mixes; label is "" when there is none.
func MixedScripts(h string) (label, unicodeLabel string, scripts []string) {
	for _, l := range strings.Split(MatchDomain(h), ".") {
		if !strings.HasPrefix(l, "xn--") {
			continue
		}
		u, err := strict.ToUnicode(l)
		if err != nil {
			continue // Validate reports it
		}
		var found []string
		for _, s := range confusableScripts {
			if strings.IndexFunc(u, func(r rune) bool { return unicode.Is(s.table, r) }) >= 0 {
				found = append(found, s.name)
			}
		}
		if len(found) > 1 {
			return l, u, found
		}
	}
	return "", "", nil
}

// HasPunycode reports whether normalized hostname h has a punycode ("xn--") label, without
// allocating: only such names can be a Unicode look-alike of another.
func HasPunycode(h string) bool {
	return strings.HasPrefix(h, "xn--") || strings.Contains(h, ".xn--")
}

// ToUnicode is normalized hostname h with its punycode labels decoded, for messages.
func ToUnicode(h string) (string, error) {
	prefix, base := "", h
	if IsWildcard(h) {
		prefix, base = "*.", h[2:]
	}
	u, err := strict.ToUnicode(base)
	return prefix + u, err
}

// Skeleton is the UTS #39 skeleton of normalized hostname h (Unicode Technical Standard #39,
// section 4, with the confusables.txt data of github.com/mtibben/confusables): the Unicode
// spelling of its labels, each character replaced by the prototype it can be mistaken for.
// Two hostnames with equal skeletons look alike ("pay" and Cyrillic "рау"; also the ASCII
// "modem" and "modern"). A skeleton only compares names; it is not a name to show or serve.
func Skeleton(h string) string {
	if !HasPunycode(h) {
		if isHostnameASCII(h) {
			return asciiSkeleton(h)
		}
		return confusables.Skeleton(h)
	}
	prefix, base := "", h
	if IsWildcard(h) {
		prefix, base = "*.", h[2:]
	}
	labels := strings.Split(base, ".")
	for i, l := range labels {
		if !strings.HasPrefix(l, "xn--") {
			continue
		}
		if u, err := strict.ToUnicode(l); err == nil {
			labels[i] = u
		}
	}
	return confusables.Skeleton(prefix + strings.Join(labels, "."))
}

// asciiSkeleton is confusables.Skeleton of h, which has only the characters of a normalized
// ASCII hostname, of which confusables.txt maps only 0, 1 and m to another prototype: the same
// result at a fraction of the cost (h itself, most often), since every claim's skeleton is
// indexed and every free ASCII name's is looked up (TestASCIISkeletonIsConfusablesSkeleton
// holds it to the data).
func asciiSkeleton(h string) string {
	i := strings.IndexAny(h, "01m")
	if i < 0 {
		return h
	}
	var b strings.Builder
	b.Grow(len(h) + 4)
	b.WriteString(h[:i])
	for _, c := range []byte(h[i:]) {
		switch c {
		case '0':
			b.WriteByte('O')
		case '1':
			b.WriteByte('l')
		case 'm':
			b.WriteString("rn")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ASCIIReadings lists the ASCII hostname spellings whose skeleton is skeleton s, at most max of
// them: the ASCII names a Unicode one can be mistaken for. Read back through asciiSkeleton: "O"
// is 0, each "l" is l or 1, each "rn" is rn or m; other letters, digits, dots and hyphens are
// themselves. None when s has a character no ASCII hostname's skeleton has (an "m", an upper-case
// letter but O, a non-ASCII prototype).
func ASCIIReadings(s string, max int) []string {
	out := []string{""}
	for i := 0; i < len(s); i++ {
		var alts []string
		switch c := s[i]; {
		case c == 'O':
			alts = []string{"0"}
		case c == 'l':
			alts = []string{"l", "1"}
		case strings.HasPrefix(s[i:], "rn"):
			alts = []string{"rn", "m"}
			i++
		case c >= 'a' && c <= 'z' && c != 'm' || c >= '2' && c <= '9' || c == '.' || c == '-':
			alts = []string{string(c)}
		default:
			return nil
		}
		next := make([]string, 0, min(len(out)*len(alts), max))
		for _, o := range out {
			for _, a := range alts {
				if len(next) < max {
					next = append(next, o+a)
				}
			}
		}
		out = next
	}
	return out
}

// isHostnameASCII reports whether h has only the characters of a normalized ASCII hostname.
func isHostnameASCII(h string) bool {
	return strings.IndexFunc(h, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '.' && r != '-' && r != '*'
	}) < 0
}

// Serving is the wildcard whose names look like the names normalized hostname h serves or is:
// the one-label wildcard beside an exact name ("*.b.c" for "a.b.c"), a wildcard itself; "" for
// a single label. A name looks like one a wildcard serves when their Servings have one skeleton.
func Serving(h string) string {
	if IsWildcard(h) {
		return h
	}
	if p := Parent(h); p != "" {
		return "*." + p
	}
	return ""
}

// ServedKey is the look-alike key (LookAlikeKeys) under which the names with a punycode label
// that wildcard w would look like it serves are found, and the Unicode wildcards that look like
// w itself: "under " and the skeleton of w.
func ServedKey(w string) string { return "under " + Skeleton(w) }

// LookAlikeKeys are the keys under which a claim of normalized hostname h is found by the names
// that may look like it: its skeleton, for every name; and for a name with a punycode label also
// ServedKey of its Serving wildcard, so that an ASCII name finds the Unicode names and wildcards
// near it with one lookup and no Unicode work, and an ASCII name costs the index one key only.
func LookAlikeKeys(h string) []string {
	if h == "" {
		return nil
	}
	keys := []string{Skeleton(h)}
	if w := Serving(h); w != "" && HasPunycode(h) {
		keys = append(keys, ServedKey(w))
	}
	return keys
}
