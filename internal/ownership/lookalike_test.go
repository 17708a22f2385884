package ownership

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
)

// indexedView is mapView with its ClaimsLike keys indexed once, as the cache's claim-skeleton
// index is, and a count of the claims its lists return: what a look-alike check must read.
type indexedView struct {
	mapView
	like   map[string][]v1alpha1.DomainClaim
	listed int
}

func indexed(m mapView) *indexedView {
	v := &indexedView{mapView: m, like: map[string][]v1alpha1.DomainClaim{}}
	for _, c := range m.claims {
		for _, k := range hostname.LookAlikeKeys(c.Spec.Hostname) {
			v.like[k] = append(v.like[k], *c)
		}
	}
	return v
}

func (v *indexedView) ClaimsLike(_ context.Context, key string) ([]v1alpha1.DomainClaim, error) {
	v.listed += len(v.like[key])
	return v.like[key], nil
}

func (v *indexedView) ClaimsBelow(ctx context.Context, d string) ([]v1alpha1.DomainClaim, error) {
	out, err := v.mapView.ClaimsBelow(ctx, d)
	v.listed += len(out)
	return out, err
}

// unicodeSiblings are n claims of namespace ns, Cyrillic "ѕһор<i>" under parent: Unicode names
// beside every ASCII name of parent that look like none of them.
func unicodeSiblings(t testing.TB, n int, parent, ns string) []*v1alpha1.DomainClaim {
	var out []*v1alpha1.DomainClaim
	for i := range n {
		h, err := hostname.Normalize(fmt.Sprintf("ѕһор%d.%s", i, parent))
		require.NoError(t, err)
		out = append(out, claim(h, ns, time.Hour))
	}
	return out
}

func TestAnASCIINamesLookAlikeCheckReadsOnlyItsCandidates(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{10, 1000} {
		t.Run(fmt.Sprintf("beside %d Unicode names", n), func(t *testing.T) {
			claims := append(unicodeSiblings(t, n, "example.com", "b"), claim("xn--80a5ak.example.com", "b", time.Hour))

			v := indexed(view(claims...))
			d, err := Decide(ctx, v, "docs.example.com", "a", Options{})
			require.NoError(t, err)
			assert.Equal(t, Claim, d.Verdict, d.Message)
			assert.Zero(t, v.listed, "a name that looks like nothing reads no claim")

			v = indexed(view(claims...))
			d, err = Decide(ctx, v, "pay.example.com", "a", Options{})
			require.NoError(t, err)
			assert.Equal(t, Deny, d.Verdict)
			assert.Contains(t, d.Message, `looks like "xn--80a5ak.example.com"`)
			assert.Equal(t, 1, v.listed, "only the look-alike is read, not its %d siblings", n)

			v = indexed(view(claims...))
			d, err = Decide(ctx, v, "shop.pay.example.com", "a", Options{})
			require.NoError(t, err)
			assert.Equal(t, Claim, d.Verdict, d.Message)
			assert.Zero(t, v.listed)
		})
	}
}

// BenchmarkLookAlikeOfAnASCIIName: one free ASCII name's look-alike check beside 5,000 Unicode
// names under its parent, which it does not look like.
func BenchmarkLookAlikeOfAnASCIIName(b *testing.B) {
	v := indexed(view(unicodeSiblings(b, 5000, "example.com", "b")...))
	d := Decision{Hostname: "docs.example.com", Zone: v.zones["example.com"]}
	ctx := context.Background()
	for b.Loop() {
		if got, err := LookAlike(ctx, v, d, "a", nil); err != nil || got.Verdict != Allow {
			b.Fatal(got.Message, err)
		}
	}
}

func TestOnlyAnOlderLookAlikeTakesAHeldName(t *testing.T) {
	const (
		cyrillicPay = "xn--80a5ak.example.com"   // "рау.example.com", every letter Cyrillic
		cyrillicWc  = "*.xn--80a5ak.example.com" // "*.рау.example.com"
	)
	cases := []struct {
		name     string
		claims   []*v1alpha1.DomainClaim
		host, ns string
		want     Verdict
		wantMsg  string
	}{
		{name: "a newer look-alike does not take the name its older owner serves through its wildcard",
			claims: []*v1alpha1.DomainClaim{claim("*.pay.example.com", "a", 2*time.Hour), claim(cyrillicWc, "b", time.Hour)},
			host:   "shop.pay.example.com", ns: "a", want: Allow},
		{name: "an older look-alike denies a name the namespace serves through a newer wildcard, rightly calling itself earlier",
			claims: []*v1alpha1.DomainClaim{claim("*.pay.example.com", "a", time.Hour), claim(cyrillicWc, "b", 2*time.Hour)},
			host:   "shop.pay.example.com", ns: "a", want: Deny, wantMsg: `claimed earlier by namespace "b"`},
		{name: "a wildcard being deleted holds nothing",
			claims: []*v1alpha1.DomainClaim{deleting(claim("*.pay.example.com", "a", 2*time.Hour)), claim(cyrillicWc, "b", time.Hour)},
			host:   "shop.pay.example.com", ns: "a", want: Deny},
		{name: "another namespace's wildcard holds nothing for this one",
			claims: []*v1alpha1.DomainClaim{claim("*.pay.example.com", "ops", 2*time.Hour), claim(cyrillicWc, "b", time.Hour)},
			host:   "shop.pay.example.com", ns: "a", want: Deny, wantMsg: `claimed earlier by namespace "b"`},
		{name: "a new name is denied beside any look-alike",
			claims: []*v1alpha1.DomainClaim{claim(cyrillicPay, "b", 0)},
			host:   "pay.example.com", ns: "a", want: Deny, wantMsg: `claimed earlier by namespace "b"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decide(context.Background(), view(tc.claims...), tc.host, tc.ns, Options{})
			require.NoError(t, err)
			assert.Equal(t, tc.want, d.Verdict, d.Message)
			if tc.want == Deny {
				assert.Equal(t, ReasonConfusable, d.Reason)
			}
			assert.Contains(t, d.Message, tc.wantMsg)
		})
	}
}

func TestATransferIsDeniedOnlyByAnOlderLookAlike(t *testing.T) {
	const cyrillicPay = "xn--80a5ak.example.com" // "рау.example.com"
	cases := []struct {
		name      string
		lookAlike time.Duration // age of namespace b's look-alike
		want      Verdict
	}{
		{name: "a look-alike newer than the transferred claim does not take it", lookAlike: 10 * time.Minute, want: Allow},
		{name: "a look-alike older than the transferred claim denies it", lookAlike: 2 * time.Hour, want: Deny},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			moving := admin(claim("pay.example.com", "old-owner", time.Hour))
			v := view(moving, claim(cyrillicPay, "b", tc.lookAlike))
			moving = moving.DeepCopy()
			moving.Spec.Namespace = "a"

			d, err := LookAlike(context.Background(), v, Decision{Hostname: moving.Spec.Hostname, Zone: v.zones["example.com"]}, "a", moving)
			require.NoError(t, err)
			assert.Equal(t, tc.want, d.Verdict, d.Message)
			if tc.want == Deny {
				assert.Contains(t, d.Message, `claimed earlier by namespace "b"`)
			}
		})
	}
}
