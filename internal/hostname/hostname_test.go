package hostname

import (
	"strings"
	"testing"

	"github.com/mtibben/confusables"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalize(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"lower case stays", "shop.example.com", "shop.example.com"},
		{"upper case is lowered", "Shop.EXAMPLE.com", "shop.example.com"},
		{"a trailing dot is dropped", "shop.example.com.", "shop.example.com"},
		{"surrounding spaces are dropped", "  shop.example.com ", "shop.example.com"},
		{"unicode becomes punycode", "bücher.example.com", "xn--bcher-kva.example.com"},
		{"unicode upper case becomes punycode of lower case", "BÜCHER.example.com", "xn--bcher-kva.example.com"},
		{"wildcards keep their star", "*.Example.COM.", "*.example.com"},
		{"unicode under a wildcard", "*.bücher.example.com", "*.xn--bcher-kva.example.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestValidate(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	cases := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"a plain hostname is valid", "shop.example.com", ""},
		{"a single label is valid", "localhost", ""},
		{"a wildcard as the leftmost label is valid", "*.example.com", ""},
		{"a punycode label is valid", "xn--bcher-kva.example.com", ""},
		{"a 63-character label is valid", long63 + ".example.com", ""},
		{"an empty hostname is invalid", "", "empty"},
		{"an IPv4 address is invalid", "10.0.0.1", "IP address"},
		{"an IPv6 address is invalid", "::1", "IP address"},
		{"a bracketed IPv6 address is invalid", "[2001:db8::1]", "IP address"},
		{"a numeric top-level label is invalid", "1.2.3", "numeric"},
		{"a wildcard in the middle is invalid", "a.*.example.com", "leftmost"},
		{"a partial wildcard label is invalid", "a*.example.com", "leftmost"},
		{"a bare star is invalid", "*", "leftmost"},
		{"a 64-character label is invalid", long63 + "a.example.com", "64 characters"},
		{"a hostname over 253 characters is invalid", strings.Repeat(long63+".", 4) + "com", "at most 253"},
		{"a leading dot is invalid", ".example.com", "empty label"},
		{"two dots in a row are invalid", "a..example.com", "empty label"},
		{"a leading hyphen is invalid", "-a.example.com", "start or end"},
		{"an underscore is invalid", "a_b.example.com", "not allowed"},
		{"upper case is invalid once normalized", "A.example.com", "upper-case"},
		{"a reserved double-hyphen label is invalid", "ab--c.example.com", "reserved"},
		{"the wildcard claim label is reserved", WildcardLabel + ".example.com", "reserved"},
		{"a broken punycode label is invalid", "xn--a.example.com", "punycode"},
		{"a wildcard too long for its claim name is invalid", "*." + strings.Repeat(long63+".", 3) + strings.Repeat("a", 57), "wildcard hostname"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.in)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestClaimNameRoundTrips(t *testing.T) {
	for _, h := range []string{"shop.example.com", "*.example.com", "*.a.b.example.com", "example.com"} {
		name := ClaimName(h)
		assert.NotContains(t, name, "*")
		assert.Equal(t, h, FromClaimName(name))
	}
	assert.Equal(t, "shop.example.com", ClaimName("shop.example.com"), "exact hostnames are their own claim name")
	assert.Equal(t, "wc--wildcard.example.com", ClaimName("*.example.com"))
}

func TestWildcardRelations(t *testing.T) {
	assert.Equal(t, []string{"b.example.com", "example.com", "com"}, Ancestors("a.b.example.com"))
	assert.Equal(t, []string{"example.com", "com"}, Ancestors("*.example.com"))
	assert.Equal(t, []string{"a.example.com", "example.com", "com"}, ZoneCandidates("a.example.com"))
	assert.Equal(t, []string{"example.com", "com"}, ZoneCandidates("*.example.com"))
	assert.Equal(t, []string{"*.b.example.com", "*.example.com", "*.com"}, CoveringWildcards("a.b.example.com"))
	assert.Equal(t, []string{"*.example.com", "*.com"}, CoveringWildcards("*.b.example.com"))

	assert.True(t, Covers("*.example.com", "a.example.com"))
	assert.True(t, Covers("*.example.com", "a.b.example.com"))
	assert.True(t, Covers("*.example.com", "*.b.example.com"))
	assert.False(t, Covers("*.example.com", "example.com"), "a wildcard does not match its own domain")
	assert.False(t, Covers("*.example.com", "*.example.com"))
	assert.False(t, Covers("*.example.com", "aexample.com"))
	assert.False(t, Covers("a.example.com", "a.example.com"))
}

// FuzzNormalizeValidate checks the properties admission relies on for any input: normalizing is
// idempotent, a valid result maps to a claim name and back, equivalent spellings land on one claim
// name, and nothing that validates is an IP address or has a misplaced wildcard.
func FuzzNormalizeValidate(f *testing.F) {
	for _, s := range []string{
		"shop.example.com", "Shop.Example.com.", "*.example.com", "bücher.example.com", "10.0.0.1",
		"::1", "a.*.example.com", "*a.example.com", "xn--bcher-kva.example.com", "xn--a.b", "ab--c.d",
		strings.Repeat("a", 64) + ".com", "*.", ".", "", "ÉCOLE.fr", "a..b", "*.*.example.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, err := Normalize(in)
		if err != nil {
			return
		}
		again, err := Normalize(n)
		require.NoError(t, err, "normalizing a normalized hostname must not fail")
		if Validate(n) != nil {
			return
		}
		require.Equal(t, n, again, "normalize must be idempotent on valid hostnames")
		require.Equal(t, n, FromClaimName(ClaimName(n)))
		require.LessOrEqual(t, len(ClaimName(n)), MaxLength)
		require.NotContains(t, ClaimName(n), "*")

		upper, err := Normalize(strings.ToUpper(n) + ".")
		if err == nil {
			require.Equal(t, ClaimName(n), ClaimName(upper), "an equivalent spelling must map to the same claim")
		}

		base := MatchDomain(n)
		require.NotContains(t, base, "*", "a wildcard is only the whole leftmost label")
		_, ipErr := parseAddr(n)
		require.Error(t, ipErr, "an IP address must never validate")
	})
}

func TestSkeletonComparesLookAlikes(t *testing.T) {
	cases := []struct {
		name string
		a, b string // as a person writes them; normalized before comparing
		same bool
	}{
		{"all-Cyrillic рау looks like pay", "рау.example.com", "pay.example.com", true},
		{"all-Cyrillic аре looks like ape", "аре.example.com", "ape.example.com", true},
		{"all-Greek ορο looks like opo", "ορο.example.com", "opo.example.com", true},
		{"Cyrillic ѕһор looks like shop", "ѕһор.example.com", "shop.example.com", true},
		{"two look-alikes in different scripts look alike too", "рау.example.com", "ρаy.example.com", true},
		{"a look-alike wildcard looks like the wildcard", "*.рау.example.com", "*.pay.example.com", true},
		{"a wildcard does not look like an exact name", "*.рау.example.com", "x.pay.example.com", false},
		{"a diacritic is seen: bücher is not bucher", "bücher.example.com", "bucher.example.com", false},
		{"different letters differ", "рау.example.com", "pan.example.com", false},
		{"the zone counts: pay under another domain differs", "рау.example.com", "pay.example.org", false},
		{"ASCII rn looks like m (which is why ASCII names are never checked)", "modern.example.com", "modem.example.com", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Normalize(tc.a)
			require.NoError(t, err)
			b, err := Normalize(tc.b)
			require.NoError(t, err)
			require.NotEqual(t, a, b, "two different hostnames")
			assert.Equal(t, tc.same, Skeleton(a) == Skeleton(b), "skeletons %q and %q", Skeleton(a), Skeleton(b))
		})
	}
}

func TestSkeletonReadsPunycodeAsItsUnicodeSpelling(t *testing.T) {
	assert.Equal(t, Skeleton("pay.example.com"), Skeleton("xn--80a5ak.example.com"), "xn--80a5ak is Cyrillic рау")
	assert.Equal(t, Skeleton("*.pay.example.com"), Skeleton("*.xn--80a5ak.example.com"))
	assert.NotEqual(t, Skeleton("pay.example.com"), Skeleton("xn--80a5ak-bad.example.com"), "a label that does not decode stays as written")
}

func TestASCIISkeletonIsConfusablesSkeleton(t *testing.T) {
	chars := "abcdefghijklmnopqrstuvwxyz0123456789.-*"
	for _, c := range chars {
		assert.Equal(t, confusables.Skeleton(string(c)), Skeleton(string(c)), "the skeleton of %q", c)
	}
	for _, h := range []string{"modern.example.com", "host-1024.zone-0m1.example.com", "*.m0m.l1.example.com", chars} {
		assert.Equal(t, confusables.Skeleton(h), Skeleton(h), "the skeleton of %q", h)
	}
	assert.Equal(t, confusables.Skeleton("Shop_1.example.com"), Skeleton("Shop_1.example.com"), "other ASCII takes the long way")
}

func TestASCIIReadingsHaveTheSkeleton(t *testing.T) {
	assert.Equal(t, []string{"pay"}, ASCIIReadings(Skeleton("xn--80a5ak"), 64), "Cyrillic рау reads as pay")
	got := ASCIIReadings(Skeleton("modem-l0"), 64)
	assert.ElementsMatch(t, []string{"rnodern-l0", "rnodem-l0", "modern-l0", "modem-l0", "rnodern-10", "rnodem-10", "modern-10", "modem-10"},
		got, "m and rn, l and 1 are read both ways, O as 0")
	for _, r := range got {
		assert.Equal(t, Skeleton("modem-l0"), Skeleton(r), "%q has the skeleton", r)
	}
	assert.Len(t, ASCIIReadings(Skeleton("l1l1l1l1"), 10), 10, "at most max")
	assert.Nil(t, ASCIIReadings("é", 64), "a non-ASCII prototype has no ASCII reading")
	assert.Nil(t, ASCIIReadings("m", 64), "no ASCII skeleton has an m")
}

func TestServingAndLookAlikeKeys(t *testing.T) {
	assert.Equal(t, "*.example.com", Serving("pay.example.com"))
	assert.Equal(t, "*.example.com", Serving("*.example.com"), "a wildcard serves its own names")
	assert.Empty(t, Serving("com"))
	assert.Equal(t, []string{Skeleton("pay.example.com")}, LookAlikeKeys("pay.example.com"), "an ASCII name has one key")
	assert.Equal(t, []string{Skeleton("pay.example.com"), ServedKey("*.example.com")}, LookAlikeKeys("xn--80a5ak.example.com"))
	assert.Equal(t, ServedKey("*.pay.example.com"), ServedKey("*.xn--80a5ak.example.com"), "look-alike wildcards share a ServedKey")
	assert.NotEqual(t, Skeleton("*.pay.example.com"), ServedKey("*.pay.example.com"), "a ServedKey is never a skeleton")
	assert.Empty(t, LookAlikeKeys(""))
}

func BenchmarkSkeletonOfAnASCIIName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Skeleton("host-1234.zone-abcdef.example.com")
	}
}

func TestHasPunycode(t *testing.T) {
	for h, want := range map[string]bool{
		"pay.example.com":          false,
		"xn--80a5ak.example.com":   true,
		"shop.xn--80a5ak.com":      true,
		"*.xn--80a5ak.example.com": true,
		"axn--b.example.com":       false,
		"modern.example.com":       false,
	} {
		assert.Equal(t, want, HasPunycode(h), h)
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { HasPunycode("shop.example.com") }), "a name without punycode costs no allocation")
}
