package ownership

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
)

// mapView is an in-memory View for table tests.
type mapView struct {
	claims     map[string]*v1alpha1.DomainClaim
	zones      map[string]*v1alpha1.ManagedZone
	namespaces map[string]*corev1.Namespace
}

func (m mapView) Claim(_ context.Context, name string) (*v1alpha1.DomainClaim, error) {
	return m.claims[name], nil
}

func (m mapView) ClaimsBelow(_ context.Context, d string) ([]v1alpha1.DomainClaim, error) {
	var out []v1alpha1.DomainClaim
	for _, c := range m.claims {
		for _, a := range hostname.Ancestors(c.Spec.Hostname) {
			if a == d {
				out = append(out, *c)
			}
		}
	}
	return out, nil
}

// ClaimsLike compares the look-alike keys of every claim, as strict as the index it stands for.
func (m mapView) ClaimsLike(_ context.Context, key string) ([]v1alpha1.DomainClaim, error) {
	var out []v1alpha1.DomainClaim
	for _, c := range m.claims {
		if slices.Contains(hostname.LookAlikeKeys(c.Spec.Hostname), key) {
			out = append(out, *c)
		}
	}
	return out, nil
}

func (m mapView) Zone(_ context.Context, d string) (*v1alpha1.ManagedZone, error) {
	return m.zones[d], nil
}

func (m mapView) ZonesBelow(_ context.Context, d string) ([]v1alpha1.ManagedZone, error) {
	var out []v1alpha1.ManagedZone
	for _, z := range m.zones {
		if strings.HasSuffix(z.Spec.Domain, "."+d) {
			out = append(out, *z)
		}
	}
	return out, nil
}

func (m mapView) Namespace(_ context.Context, n string) (*corev1.Namespace, error) {
	return m.namespaces[n], nil
}

func claim(h, ns string, age time.Duration) *v1alpha1.DomainClaim {
	return &v1alpha1.DomainClaim{
		ObjectMeta: metav1.ObjectMeta{Name: hostname.ClaimName(h), CreationTimestamp: metav1.NewTime(time.Unix(1e9, 0).Add(-age))},
		Spec:       v1alpha1.DomainClaimSpec{Hostname: h, Namespace: ns},
	}
}

func transferred(c *v1alpha1.DomainClaim, at string) *v1alpha1.DomainClaim {
	c.Annotations = map[string]string{v1alpha1.AnnotationTransferredAt: at}
	return c
}

// stamped is c as admission made it for its namespace with UID uid, before reconciler/claim
// recorded anything in its status.
func stamped(c *v1alpha1.DomainClaim, uid types.UID) *v1alpha1.DomainClaim {
	c.Spec.ClaimedBy = v1alpha1.ClaimedByRoute
	StampNamespace(c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: c.Spec.Namespace, UID: uid}})
	return c
}

func ofNamespace(c *v1alpha1.DomainClaim, uid types.UID) *v1alpha1.DomainClaim {
	c.Spec.ClaimedBy = v1alpha1.ClaimedByRoute
	c.Status.OwnerNamespace = &v1alpha1.NamespaceRecord{Name: c.Spec.Namespace, UID: uid}
	return c
}

func admin(c *v1alpha1.DomainClaim) *v1alpha1.DomainClaim {
	c.Spec.ClaimedBy = v1alpha1.ClaimedByAdmin
	return c
}

func deleting(c *v1alpha1.DomainClaim) *v1alpha1.DomainClaim {
	c.DeletionTimestamp = &metav1.Time{Time: time.Unix(1e9, 0)}
	return c
}

func conflicted(c *v1alpha1.DomainClaim) *v1alpha1.DomainClaim {
	c.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionClaimed, Status: metav1.ConditionFalse,
		Reason: v1alpha1.ReasonConflicted, Message: `overlaps "*.example.com", claimed earlier by namespace "b"`}}
	return c
}

func view(claims ...*v1alpha1.DomainClaim) mapView {
	m := mapView{
		claims: map[string]*v1alpha1.DomainClaim{},
		zones: map[string]*v1alpha1.ManagedZone{
			"example.com": {ObjectMeta: metav1.ObjectMeta{Name: "example-com"}, Spec: v1alpha1.ManagedZoneSpec{
				Domain:            "example.com",
				AllowedNamespaces: v1alpha1.AllowedNamespaces{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"tenant": "true"}}},
			}},
			"private.example.com": {ObjectMeta: metav1.ObjectMeta{Name: "private"}, Spec: v1alpha1.ManagedZoneSpec{
				Domain:            "private.example.com",
				AllowedNamespaces: v1alpha1.AllowedNamespaces{Names: []string{"ops"}},
			}},
			"open.example.com": {ObjectMeta: metav1.ObjectMeta{Name: "open"}, Spec: v1alpha1.ManagedZoneSpec{
				Domain:            "open.example.com",
				AllowedNamespaces: v1alpha1.AllowedNamespaces{Names: []string{"a"}},
			}},
			"wide.example.com": {ObjectMeta: metav1.ObjectMeta{Name: "wide"}, Spec: v1alpha1.ManagedZoneSpec{
				Domain:            "wide.example.com",
				AllowedNamespaces: v1alpha1.AllowedNamespaces{Names: []string{"a"}},
				AllowZoneWildcard: true,
			}},
			"corp.example.com": {ObjectMeta: metav1.ObjectMeta{Name: "corp"}, Spec: v1alpha1.ManagedZoneSpec{
				Domain:            "corp.example.com",
				AllowedNamespaces: v1alpha1.AllowedNamespaces{Names: []string{"a", "ops"}},
				AllowZoneWildcard: true,
			}},
			"lookalikes.example.com": {ObjectMeta: metav1.ObjectMeta{Name: "lookalikes"}, Spec: v1alpha1.ManagedZoneSpec{
				Domain:                   "lookalikes.example.com",
				AllowedNamespaces:        v1alpha1.AllowedNamespaces{Names: []string{"a", "b"}},
				AllowConfusableHostnames: true,
			}},
			"xn--n1ae5d4v.example.com": {ObjectMeta: metav1.ObjectMeta{Name: "cyrillic-shop"}, Spec: v1alpha1.ManagedZoneSpec{
				Domain:            "xn--n1ae5d4v.example.com", // ѕһор.example.com, every letter Cyrillic
				AllowedNamespaces: v1alpha1.AllowedNamespaces{Names: []string{"a", "b"}},
			}},
			"hr.corp.example.com": {ObjectMeta: metav1.ObjectMeta{Name: "hr"}, Spec: v1alpha1.ManagedZoneSpec{
				Domain:            "hr.corp.example.com",
				AllowedNamespaces: v1alpha1.AllowedNamespaces{Names: []string{"ops"}},
				AllowZoneWildcard: true,
			}},
		},
		namespaces: map[string]*corev1.Namespace{},
	}
	for _, n := range []string{"a", "b", "ops"} {
		m.namespaces[n] = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n, UID: types.UID("uid-" + n), Labels: map[string]string{"tenant": "true"}}}
	}
	m.namespaces["outsider"] = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "outsider"}}
	for _, c := range claims {
		m.claims[c.Name] = c
	}
	return m
}

func TestDecide(t *testing.T) {
	cases := []struct {
		name       string
		claims     []*v1alpha1.DomainClaim
		host, ns   string
		opts       Options
		want       Verdict
		wantReason string
		wantMsg    string
	}{
		{name: "a free hostname is claimed", host: "shop.example.com", ns: "a", want: Claim, wantReason: ReasonFree},
		{name: "the owner is allowed again without a new claim", claims: []*v1alpha1.DomainClaim{claim("shop.example.com", "a", 0)},
			host: "shop.example.com", ns: "a", want: Allow, wantReason: ReasonOwned},
		{name: "another namespace is denied with the owner named", claims: []*v1alpha1.DomainClaim{claim("shop.example.com", "a", 0)},
			host: "shop.example.com", ns: "b", want: Deny, wantReason: ReasonTaken,
			wantMsg: `hostname "shop.example.com" is claimed by namespace "a" (DomainClaim shop.example.com, since 2001-09-09T01:46:40Z)`},
		{name: "a transferred hostname is owned since its transfer",
			claims: []*v1alpha1.DomainClaim{transferred(claim("shop.example.com", "a", 0), "2001-09-10T00:00:00Z")},
			host:   "shop.example.com", ns: "b", want: Deny, wantReason: ReasonTaken,
			wantMsg: `hostname "shop.example.com" is claimed by namespace "a" (DomainClaim shop.example.com, since 2001-09-10T00:00:00Z)`},
		{name: "an invalid hostname is denied", host: "10.0.0.1", ns: "a", want: Deny, wantReason: ReasonInvalid, wantMsg: "IP address"},
		{name: "a hostname under no zone is denied", host: "shop.example.org", ns: "a", want: Deny, wantReason: ReasonNoZone, wantMsg: "not under any ManagedZone"},
		{name: "a hostname under no zone passes when unmanaged names are allowed", host: "shop.example.org", ns: "a",
			opts: Options{AllowUnmanaged: true}, want: Allow, wantReason: ReasonUnmanaged},
		{name: "a namespace the zone's selector does not match is denied", host: "shop.example.com", ns: "outsider", want: Deny,
			wantReason: ReasonNotAllowed, wantMsg: `namespace "outsider" may not claim hostnames in ManagedZone "example-com"`},
		{name: "an unknown namespace is denied", host: "shop.example.com", ns: "ghost", want: Deny, wantReason: ReasonNotAllowed},
		{name: "the longest zone decides: not listed", host: "x.private.example.com", ns: "a", want: Deny, wantReason: ReasonNotAllowed, wantMsg: `ManagedZone "private"`},
		{name: "the longest zone decides: listed by name", host: "x.private.example.com", ns: "ops", want: Claim},
		{name: "the zone's own domain can be claimed", host: "example.com", ns: "a", want: Claim},
		{name: "a name under another namespace's wildcard is denied", claims: []*v1alpha1.DomainClaim{claim("*.shop.example.com", "a", 0)},
			host: "x.y.shop.example.com", ns: "b", want: Deny, wantReason: ReasonUnderWildcard, wantMsg: `covered by wildcard "*.shop.example.com", claimed by namespace "a"`},
		{name: "a deeper wildcard under another namespace's wildcard is denied", claims: []*v1alpha1.DomainClaim{claim("*.shop.example.com", "a", 0)},
			host: "*.y.shop.example.com", ns: "b", want: Deny, wantReason: ReasonUnderWildcard},
		{name: "a wildcard does not cover its own domain", claims: []*v1alpha1.DomainClaim{claim("*.shop.example.com", "a", 0)},
			host: "shop.example.com", ns: "b", want: Claim},
		{name: "the owner's one-label name is covered by its wildcard", claims: []*v1alpha1.DomainClaim{claim("*.shop.example.com", "a", 0)},
			host: "x.shop.example.com", ns: "a", want: Allow, wantReason: ReasonCovered},
		{name: "the owner's deeper name gets a claim of its own", claims: []*v1alpha1.DomainClaim{claim("*.shop.example.com", "a", 0)},
			host: "x.y.shop.example.com", ns: "a", want: Claim},
		{name: "a wildcard over another namespace's name is denied, naming the oldest",
			claims: []*v1alpha1.DomainClaim{claim("new.shop.example.com", "b", time.Hour), claim("old.shop.example.com", "b", 2*time.Hour)},
			host:   "*.shop.example.com", ns: "a", want: Deny, wantReason: ReasonWildcardOverlap, wantMsg: `would cover "old.shop.example.com", claimed by namespace "b"`},
		{name: "a wildcard over the namespace's own names is fine", claims: []*v1alpha1.DomainClaim{claim("x.shop.example.com", "a", 0)},
			host: "*.shop.example.com", ns: "a", want: Claim},
		{name: "a wildcard over a deeper wildcard of another namespace is denied", claims: []*v1alpha1.DomainClaim{claim("*.y.shop.example.com", "b", 0)},
			host: "*.shop.example.com", ns: "a", want: Deny, wantReason: ReasonWildcardOverlap},
		{name: "the wildcard of a whole zone is denied unless the zone opts in", host: "*.open.example.com", ns: "a", want: Deny,
			wantReason: ReasonZoneWildcard, wantMsg: `wildcard "*.open.example.com" would cover every name of ManagedZone "open" (domain open.example.com); a cluster admin can allow`},
		{name: "the wildcard of a zone that opts in is claimed", host: "*.wide.example.com", ns: "a", want: Claim},
		{name: "a wildcard reaching into a child zone is denied", host: "*.example.com", ns: "a", want: Deny,
			wantReason: ReasonZoneWildcard, wantMsg: `ManagedZone "example-com"`},
		{name: "a wildcard above a child zone the namespace may not use is denied", host: "*.corp.example.com", ns: "a",
			want: Deny, wantReason: ReasonZoneWildcard, wantMsg: `ManagedZone "hr" (domain hr.corp.example.com), in which namespace "a" may not claim`},
		{name: "a wildcard above opted-in zones the namespace may use is claimed", host: "*.corp.example.com", ns: "ops", want: Claim},
		{name: "an unmanaged wildcard over a managed zone is denied even when unmanaged names pass", host: "*.com", ns: "a",
			opts: Options{AllowUnmanaged: true}, want: Deny, wantReason: ReasonZoneWildcard, wantMsg: "would cover every name of ManagedZone"},
		{name: "an unmanaged wildcard over no zone passes when unmanaged names are allowed", host: "*.example.org", ns: "a",
			opts: Options{AllowUnmanaged: true}, want: Allow, wantReason: ReasonUnmanaged},
		{name: "a label mixing Latin and Cyrillic letters is denied", host: "xn--pypal-4ve.example.com", ns: "a", want: Deny,
			wantReason: ReasonLookAlike, wantMsg: `label "xn--pypal-4ve" (pаypal) mixes Latin and Cyrillic letters`},
		{name: "a label mixing Latin and Greek letters is denied", host: "xn--shp-bzc.example.com", ns: "a", want: Deny,
			wantReason: ReasonLookAlike, wantMsg: "mixes Latin and Greek letters"},
		{name: "a label of Latin letters with diacritics is claimed", host: "xn--bcher-kva.example.com", ns: "a", want: Claim},
		{name: "a label entirely in Cyrillic is claimed", host: "xn--d1acpjx3f.example.com", ns: "a", want: Claim},
		{name: "a route-made claim of an earlier namespace of the same name owns nothing", claims: []*v1alpha1.DomainClaim{ofNamespace(claim("old.example.com", "a", 0), "uid-before")},
			host: "old.example.com", ns: "a", want: Deny, wantReason: ReasonStaleOwner, wantMsg: `was claimed by an earlier namespace named "a", deleted since`},
		{name: "a route-made claim recorded for the namespace as it is owns the name", claims: []*v1alpha1.DomainClaim{ofNamespace(claim("old.example.com", "a", 0), "uid-a")},
			host: "old.example.com", ns: "a", want: Allow, wantReason: ReasonOwned},
		{name: "a claim admission made for an earlier namespace of the same name owns nothing before its first reconcile",
			claims: []*v1alpha1.DomainClaim{stamped(claim("old.example.com", "a", 0), "uid-before")},
			host:   "old.example.com", ns: "a", want: Deny, wantReason: ReasonStaleOwner, wantMsg: `was claimed by an earlier namespace named "a", deleted since`},
		{name: "a claim admission made for the namespace as it is owns the name before its first reconcile",
			claims: []*v1alpha1.DomainClaim{stamped(claim("old.example.com", "a", 0), "uid-a")},
			host:   "old.example.com", ns: "a", want: Allow, wantReason: ReasonOwned},
		{name: "an admin claim follows the namespace's name", claims: []*v1alpha1.DomainClaim{admin(ofNamespace(claim("old.example.com", "a", 0), "uid-before"))},
			host: "old.example.com", ns: "a", want: Allow, wantReason: ReasonOwned},
		{name: "a claim being deleted owns nothing for its owner", claims: []*v1alpha1.DomainClaim{deleting(claim("gone.example.com", "a", 0))},
			host: "gone.example.com", ns: "a", want: Deny, wantReason: ReasonReleasing, wantMsg: `hostname "gone.example.com" is being released`},
		{name: "a claim being deleted cannot be taken by another namespace", claims: []*v1alpha1.DomainClaim{deleting(claim("gone.example.com", "a", 0))},
			host: "gone.example.com", ns: "b", want: Deny, wantReason: ReasonReleasing, wantMsg: `is being released by namespace "a"`},
		{name: "a conflicted claim owns nothing for its owner", claims: []*v1alpha1.DomainClaim{conflicted(claim("lost.example.com", "a", 0))},
			host: "lost.example.com", ns: "a", want: Deny, wantReason: ReasonConflicted, wantMsg: "lost to an older claim (overlaps"},
		{name: "a conflicted claim cannot be taken by another namespace", claims: []*v1alpha1.DomainClaim{conflicted(claim("lost.example.com", "a", 0))},
			host: "lost.example.com", ns: "b", want: Deny, wantReason: ReasonConflicted, wantMsg: `is claimed by namespace "a"`},
		{name: "a hostname of 64 characters is claimed", host: strings.Repeat("a", 52) + ".example.com", ns: "a", want: Claim},
		{name: "a hostname longer than an ACM certificate's 64 characters is denied", host: strings.Repeat("a", 53) + ".example.com", ns: "a",
			want: Deny, wantReason: ReasonTooLong, wantMsg: "is 65 characters long; ACM issues certificates only for names of at most 64 characters"},
		{name: "a wildcard counts its *. toward the 64 characters", host: "*." + strings.Repeat("a", 51) + ".example.com", ns: "a",
			want: Deny, wantReason: ReasonTooLong},
		{name: "a long hostname under no zone passes when unmanaged names are allowed", host: strings.Repeat("a", 60) + ".example.org", ns: "a",
			opts: Options{AllowUnmanaged: true}, want: Allow, wantReason: ReasonUnmanaged},
		{name: "a sibling wildcard does not overlap", claims: []*v1alpha1.DomainClaim{claim("x.other.example.com", "b", 0)},
			host: "*.shop.example.com", ns: "a", want: Claim},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decide(context.Background(), view(tc.claims...), tc.host, tc.ns, tc.opts)
			require.NoError(t, err)
			assert.Equal(t, tc.want, d.Verdict, d.Message)
			if tc.wantReason != "" {
				assert.Equal(t, tc.wantReason, d.Reason)
			}
			assert.True(t, strings.Contains(d.Message, tc.wantMsg), "message %q should contain %q", d.Message, tc.wantMsg)
		})
	}
}

func TestOlderOrdersByCreationThenName(t *testing.T) {
	older, newer := claim("b.example.com", "a", time.Hour), claim("a.example.com", "b", 0)
	assert.True(t, Older(older, newer))
	assert.False(t, Older(newer, older))
	sameA, sameB := claim("a.example.com", "a", 0), claim("b.example.com", "b", 0)
	assert.True(t, Older(sameA, sameB), "equal creation times fall back to the name")
}

func TestDecideLookAlikes(t *testing.T) {
	const cyrillicPay = "xn--80a5ak.example.com" // "рау.example.com", every letter Cyrillic
	cases := []struct {
		name       string
		claims     []*v1alpha1.DomainClaim
		host, ns   string
		want       Verdict
		wantReason string
		wantMsg    string
	}{
		{name: "a whole-script Cyrillic look-alike of another namespace's name is denied, naming it",
			claims: []*v1alpha1.DomainClaim{claim("pay.example.com", "a", 0)}, host: cyrillicPay, ns: "b", want: Deny, wantReason: ReasonConfusable,
			wantMsg: `hostname "xn--80a5ak.example.com" (рау.example.com) looks like "pay.example.com", owned by namespace "a" (DomainClaim pay.example.com, since 2001-09-09T01:46:40Z): the two are confusable under Unicode UTS #39`},
		{name: "the denial says how a zone allows look-alikes",
			claims: []*v1alpha1.DomainClaim{claim("pay.example.com", "a", 0)}, host: cyrillicPay, ns: "b", want: Deny,
			wantMsg: `a cluster admin can allow look-alikes in ManagedZone "example-com" with spec.allowConfusableHostnames`},
		{name: "a Greek look-alike is denied", claims: []*v1alpha1.DomainClaim{claim("opo.example.com", "a", 0)},
			host: "xn--0xaaf.example.com", ns: "b", want: Deny, wantReason: ReasonConfusable, wantMsg: `(ορο.example.com) looks like "opo.example.com"`},
		{name: "a namespace may hold look-alikes of its own names", claims: []*v1alpha1.DomainClaim{claim("pay.example.com", "a", 0)},
			host: cyrillicPay, ns: "a", want: Claim},
		{name: "a zone that allows look-alikes lets them be claimed", claims: []*v1alpha1.DomainClaim{claim("pay.lookalikes.example.com", "a", 0)},
			host: "xn--80a5ak.lookalikes.example.com", ns: "b", want: Claim},
		{name: "a look-alike of a Unicode name is denied too", claims: []*v1alpha1.DomainClaim{claim(cyrillicPay, "a", 0)},
			host: "xn--80a5a9x.example.com", ns: "b", want: Deny, wantReason: ReasonConfusable, wantMsg: `(раү.example.com) looks like "xn--80a5ak.example.com"`},
		{name: "ASCII names are never compared: modern next to modem", claims: []*v1alpha1.DomainClaim{claim("modem.example.com", "a", 0)},
			host: "modern.example.com", ns: "b", want: Claim},
		{name: "the squatter first: an ASCII name after its Unicode look-alike is denied, naming it and what to do",
			claims: []*v1alpha1.DomainClaim{claim(cyrillicPay, "b", 0)}, host: "pay.example.com", ns: "a", want: Deny, wantReason: ReasonConfusable,
			wantMsg: `hostname "pay.example.com" looks like "xn--80a5ak.example.com" (рау.example.com), claimed earlier by namespace "b" (DomainClaim xn--80a5ak.example.com, since 2001-09-09T01:46:40Z): the two are confusable under Unicode UTS #39 (equal skeletons); if that claim only imitates this name, a cluster admin can delete DomainClaim xn--80a5ak.example.com (then claim this name again); or a cluster admin can allow look-alikes in ManagedZone "example-com" with spec.allowConfusableHostnames`},
		{name: "the squatter first, in a zone that allows look-alikes: claimed", claims: []*v1alpha1.DomainClaim{claim("xn--80a5ak.lookalikes.example.com", "b", 0)},
			host: "pay.lookalikes.example.com", ns: "a", want: Claim},
		{name: "an ASCII name after a Unicode look-alike of its own namespace is claimed", claims: []*v1alpha1.DomainClaim{claim(cyrillicPay, "a", 0)},
			host: "pay.example.com", ns: "a", want: Claim},
		{name: "an ASCII name after a Unicode look-alike being deleted is claimed", claims: []*v1alpha1.DomainClaim{deleting(claim(cyrillicPay, "b", 0))},
			host: "pay.example.com", ns: "a", want: Claim},
		{name: "an ASCII name after a Unicode look-alike in another ManagedZone is claimed", claims: []*v1alpha1.DomainClaim{claim("pay.xn--n1ae5d4v.example.com", "b", 0)},
			host: "pay.shop.example.com", ns: "a", want: Claim},
		{name: "an ASCII name next to a Unicode sibling that does not look like it is claimed", claims: []*v1alpha1.DomainClaim{claim("shop.xn--80a5ak.example.com", "b", 0)},
			host: "blog.pay.example.com", ns: "a", want: Claim},
		{name: "a Unicode look-alike of a name another namespace's wildcard serves is denied",
			claims: []*v1alpha1.DomainClaim{claim("*.pay.example.com", "a", 0)}, host: "shop.xn--80a5ak.example.com", ns: "b", want: Deny, wantReason: ReasonConfusable,
			wantMsg: `hostname "shop.xn--80a5ak.example.com" (shop.рау.example.com) looks like a name served by wildcard "*.pay.example.com", claimed earlier by namespace "a" (DomainClaim wc--wildcard.pay.example.com, since 2001-09-09T01:46:40Z): the two are confusable under Unicode UTS #39 (equal skeletons); a cluster admin can allow look-alikes in ManagedZone "example-com"`},
		{name: "the squatter first: a wildcard that would serve a look-alike of an earlier Unicode name is denied",
			claims: []*v1alpha1.DomainClaim{claim("shop.xn--80a5ak.example.com", "b", 0)}, host: "*.pay.example.com", ns: "a", want: Deny, wantReason: ReasonConfusable,
			wantMsg: `hostname "*.pay.example.com" would serve names that look like "shop.xn--80a5ak.example.com" (shop.рау.example.com), claimed earlier by namespace "b"`},
		{name: "an ASCII name that looks like one an earlier Unicode wildcard serves is denied",
			claims: []*v1alpha1.DomainClaim{claim("*.xn--80a5ak.example.com", "b", 0)}, host: "shop.pay.example.com", ns: "a", want: Deny, wantReason: ReasonConfusable,
			wantMsg: `hostname "shop.pay.example.com" looks like a name served by wildcard "*.xn--80a5ak.example.com" (*.рау.example.com), claimed earlier by namespace "b"`},
		{name: "an ASCII wildcard after its Unicode look-alike wildcard is denied",
			claims: []*v1alpha1.DomainClaim{claim("*.xn--80a5ak.example.com", "b", 0)}, host: "*.pay.example.com", ns: "a", want: Deny, wantReason: ReasonConfusable,
			wantMsg: `hostname "*.pay.example.com" looks like "*.xn--80a5ak.example.com" (*.рау.example.com), claimed earlier by namespace "b"`},
		{name: "a Unicode wildcard that would serve look-alikes of an earlier ASCII name is denied",
			claims: []*v1alpha1.DomainClaim{claim("shop.pay.example.com", "a", 0)}, host: "*.xn--80a5ak.example.com", ns: "b", want: Deny, wantReason: ReasonConfusable,
			wantMsg: `hostname "*.xn--80a5ak.example.com" (*.рау.example.com) would serve names that look like "shop.pay.example.com", claimed earlier by namespace "a"`},
		{name: "a Unicode wildcard serves no look-alike of a name two labels below",
			claims: []*v1alpha1.DomainClaim{claim("x.shop.pay.example.com", "a", 0)}, host: "*.xn--80a5ak.example.com", ns: "b", want: Claim},
		{name: "a Unicode name a foreign wildcard really covers is denied as covered, not as a look-alike",
			claims: []*v1alpha1.DomainClaim{claim("*.pay.example.com", "a", 0)}, host: "xn--80a5ak.pay.example.com", ns: "b", want: Deny, wantReason: ReasonUnderWildcard},
		{name: "a one-label wildcard serves no look-alike two labels below it",
			claims: []*v1alpha1.DomainClaim{claim("*.pay.example.com", "a", 0)}, host: "x.shop.xn--80a5ak.example.com", ns: "b", want: Claim},
		{name: "a look-alike in another ManagedZone does not count", claims: []*v1alpha1.DomainClaim{claim("pay.shop.example.com", "a", 0)},
			host: "pay.xn--n1ae5d4v.example.com", ns: "b", want: Claim},
		{name: "a claim being deleted owns nothing to look like", claims: []*v1alpha1.DomainClaim{deleting(claim("pay.example.com", "a", 0))},
			host: cyrillicPay, ns: "b", want: Claim},
		{name: "a conflicted claim owns nothing to look like", claims: []*v1alpha1.DomainClaim{conflicted(claim("pay.example.com", "a", 0))},
			host: cyrillicPay, ns: "b", want: Claim},
		{name: "a look-alike wildcard is denied", claims: []*v1alpha1.DomainClaim{claim("*.pay.shop.example.com", "a", 0)},
			host: "*.xn--80a5ak.shop.example.com", ns: "b", want: Deny, wantReason: ReasonConfusable, wantMsg: `looks like "*.pay.shop.example.com"`},
		{name: "of several names it looks like, the oldest is named",
			claims: []*v1alpha1.DomainClaim{claim("pay.example.com", "a", time.Minute), claim("xn--80a5a9x.example.com", "ops", time.Hour)},
			host:   cyrillicPay, ns: "b", want: Deny, wantReason: ReasonConfusable, wantMsg: `owned by namespace "ops"`},
		{name: "a look-alike the namespace already owns stays its own", claims: []*v1alpha1.DomainClaim{claim("pay.example.com", "a", time.Hour), claim(cyrillicPay, "b", 0)},
			host: cyrillicPay, ns: "b", want: Allow, wantReason: ReasonOwned},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decide(context.Background(), view(tc.claims...), tc.host, tc.ns, Options{})
			require.NoError(t, err)
			assert.Equal(t, tc.want, d.Verdict, d.Message)
			if tc.wantReason != "" {
				assert.Equal(t, tc.wantReason, d.Reason)
			}
			assert.Contains(t, d.Message, tc.wantMsg)
		})
	}
}

// TestDenialsNamingAnOwnerSayWhatToDo: a denial that names another claim ends with what the
// tenant can do about it (after the diagnosis, past the first ";").
func TestDenialsNamingAnOwnerSayWhatToDo(t *testing.T) {
	cases := []struct {
		name    string
		claims  []*v1alpha1.DomainClaim
		host    string
		ns      string
		wantMsg string
	}{
		{name: "a name under another namespace's wildcard names the wildcard's claim", claims: []*v1alpha1.DomainClaim{claim("*.shop.example.com", "a", 0)},
			host: "x.shop.example.com", ns: "b",
			wantMsg: "; use a name outside it, or ask a cluster admin to transfer or delete DomainClaim " + hostname.ClaimName("*.shop.example.com")},
		{name: "a wildcard over another namespace's name names that name's claim", claims: []*v1alpha1.DomainClaim{claim("x.shop.example.com", "b", 0)},
			host: "*.shop.example.com", ns: "a",
			wantMsg: "; claim the exact names you need, or ask a cluster admin to transfer or delete DomainClaim " + hostname.ClaimName("x.shop.example.com")},
		{name: "a wildcard above a child zone the namespace may not use says how to get in", host: "*.corp.example.com", ns: "a",
			wantMsg: "may not claim hostnames; claim a wildcard below that zone, or ask a cluster admin to allow the namespace in its spec.allowedNamespaces"},
		{name: "the owner of a conflicted claim is told to settle it", claims: []*v1alpha1.DomainClaim{conflicted(claim("lost.example.com", "a", 0))},
			host: "lost.example.com", ns: "a", wantMsg: "); use another hostname, or ask a cluster admin to delete or transfer one of the two claims"},
		{name: "another namespace is told whose conflicted claim must go", claims: []*v1alpha1.DomainClaim{conflicted(claim("lost.example.com", "a", 0))},
			host: "lost.example.com", ns: "b", wantMsg: "); use another hostname, or ask a cluster admin to delete DomainClaim " + hostname.ClaimName("lost.example.com")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decide(context.Background(), view(tc.claims...), tc.host, tc.ns, Options{})
			require.NoError(t, err)
			require.Equal(t, Deny, d.Verdict, d.Message)
			assert.True(t, strings.HasSuffix(d.Message, tc.wantMsg), "message %q should end with %q", d.Message, tc.wantMsg)
		})
	}
}

func TestRecordedNamespace(t *testing.T) {
	live := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a", UID: "uid-a"}}
	transferredTo := func(c *v1alpha1.DomainClaim, ns string) *v1alpha1.DomainClaim {
		c.Spec.Namespace = ns
		return c
	}
	cases := []struct {
		name      string
		c         *v1alpha1.DomainClaim
		want      *v1alpha1.NamespaceRecord
		wantStale bool
	}{
		{name: "a claim without a record has none", c: claim("x.example.com", "a", 0)},
		{name: "admission's stamp is the record until the status has one",
			c: stamped(claim("x.example.com", "a", 0), "uid-before"), want: &v1alpha1.NamespaceRecord{Name: "a", UID: "uid-before"}, wantStale: true},
		{name: "the status's record wins over the stamp",
			c:    ofNamespace(stamped(claim("x.example.com", "a", 0), "uid-before"), "uid-a"),
			want: &v1alpha1.NamespaceRecord{Name: "a", UID: "uid-a"}},
		{name: "a stamp of another namespace (the claim was transferred since) is no record",
			c: transferredTo(stamped(claim("x.example.com", "b", 0), "uid-b"), "a")},
		{name: "a malformed stamp is no record",
			c: func() *v1alpha1.DomainClaim {
				c := claim("x.example.com", "a", 0)
				c.Annotations = map[string]string{v1alpha1.AnnotationOwnerNamespace: "a"}
				return c
			}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.Spec.ClaimedBy = v1alpha1.ClaimedByRoute
			assert.Equal(t, tc.want, RecordedNamespace(tc.c))
			assert.Equal(t, tc.wantStale, Stale(tc.c, live))
		})
	}
}
