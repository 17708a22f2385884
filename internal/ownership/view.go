package ownership

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/index"
)

// View is what admission decisions read: claims, zones and namespaces, by key. The manager's
// informer cache backs it in production, so every read is a map lookup.
type View interface {
	// Claim returns the DomainClaim with this name, or nil.
	Claim(ctx context.Context, name string) (*v1alpha1.DomainClaim, error)
	// ClaimsBelow returns the claims whose names lie strictly below domain.
	ClaimsBelow(ctx context.Context, domain string) ([]v1alpha1.DomainClaim, error)
	// ClaimsLike returns the claims that have key among the hostname.LookAlikeKeys of their
	// hostnames: a UTS #39 skeleton (hostname.Skeleton), or a hostname.ServedKey.
	ClaimsLike(ctx context.Context, key string) ([]v1alpha1.DomainClaim, error)
	// Zone returns the ManagedZone whose spec.domain is domain, or nil.
	Zone(ctx context.Context, domain string) (*v1alpha1.ManagedZone, error)
	// ZonesBelow returns the ManagedZones whose domains lie strictly below domain.
	ZonesBelow(ctx context.Context, domain string) ([]v1alpha1.ManagedZone, error)
	// Namespace returns the namespace with this name, or nil.
	Namespace(ctx context.Context, name string) (*corev1.Namespace, error)
}

// CacheView reads through a client.Reader, normally the manager's cache with the indexes of
// package index.
type CacheView struct {
	Reader client.Reader
	// Live, when set, is asked for a namespace the cache does not have yet: a namespace and its
	// routes are often applied together, faster than the cache sees the namespace.
	Live client.Reader
}

var _ View = CacheView{}

// Claim implements View.
func (v CacheView) Claim(ctx context.Context, name string) (*v1alpha1.DomainClaim, error) {
	c := &v1alpha1.DomainClaim{}
	if err := v.Reader.Get(ctx, client.ObjectKey{Name: name}, c); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return c, nil
}

// ClaimsBelow implements View.
func (v CacheView) ClaimsBelow(ctx context.Context, domain string) ([]v1alpha1.DomainClaim, error) {
	var l v1alpha1.DomainClaimList
	if err := v.Reader.List(ctx, &l, client.MatchingFields{index.ClaimAncestor: domain}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	return l.Items, nil
}

// ClaimsLike implements View through the ClaimSkeleton index.
func (v CacheView) ClaimsLike(ctx context.Context, key string) ([]v1alpha1.DomainClaim, error) {
	var l v1alpha1.DomainClaimList
	if err := v.Reader.List(ctx, &l, client.MatchingFields{index.ClaimSkeleton: key}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	return l.Items, nil
}

// Zone implements View.
func (v CacheView) Zone(ctx context.Context, domain string) (*v1alpha1.ManagedZone, error) {
	var l v1alpha1.ManagedZoneList
	if err := v.Reader.List(ctx, &l, client.MatchingFields{index.ZoneDomain: domain}); err != nil {
		return nil, err
	}
	if len(l.Items) == 0 {
		return nil, nil
	}
	oldest := &l.Items[0]
	for i := range l.Items[1:] {
		z := &l.Items[i+1]
		if z.CreationTimestamp.Before(&oldest.CreationTimestamp) {
			oldest = z
		}
	}
	return oldest, nil
}

// ZonesBelow implements View.
func (v CacheView) ZonesBelow(ctx context.Context, domain string) ([]v1alpha1.ManagedZone, error) {
	var l v1alpha1.ManagedZoneList
	if err := v.Reader.List(ctx, &l, client.MatchingFields{index.ZoneAncestor: domain}); err != nil {
		return nil, err
	}
	return l.Items, nil
}

// Namespace implements View.
func (v CacheView) Namespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	ns := &corev1.Namespace{}
	err := v.Reader.Get(ctx, client.ObjectKey{Name: name}, ns)
	if apierrors.IsNotFound(err) && v.Live != nil {
		err = v.Live.Get(ctx, client.ObjectKey{Name: name}, ns)
	}
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ns, nil
}

var _ ClaimCounter = CacheView{}

// CountClaims implements ClaimCounter through the ClaimNamespaceDomain index, reading only the
// counts that lim caps.
func (v CacheView) CountClaims(ctx context.Context, ns, domain string, lim Limits) (ClaimCount, error) {
	count := func(key string) (int, error) {
		var l v1alpha1.DomainClaimList
		err := v.Reader.List(ctx, &l, client.MatchingFields{index.ClaimNamespaceDomain: key}, client.UnsafeDisableDeepCopy)
		return len(l.Items), err
	}
	var out ClaimCount
	var err error
	if lim.MaxClaims > 0 {
		if out.Claims, err = count(index.NamespaceDomainKey(ns, domain)); err != nil {
			return out, err
		}
	}
	if lim.MaxUnbound > 0 {
		out.Unbound, err = count(index.UnboundKey(ns, domain))
	}
	return out, err
}

// LiveClaims is a View whose claim reads go to the API server itself (Live), not the cache: for
// checks that must see a claim created a moment ago, such as an admin's claim racing a route's.
// Zones and namespaces come from View. It serves the DomainClaim webhook, which admission's own
// claims skip, so its list of every claim is paid only for claims written by hand.
type LiveClaims struct {
	View
	Live client.Reader
}

// Claim implements View, reading live.
func (v LiveClaims) Claim(ctx context.Context, name string) (*v1alpha1.DomainClaim, error) {
	return CacheView{Reader: v.Live}.Claim(ctx, name)
}

// ClaimsBelow implements View: the API server's claims below domain, from a list of every claim
// (claims carry no label that would select those below a domain).
func (v LiveClaims) ClaimsBelow(ctx context.Context, domain string) ([]v1alpha1.DomainClaim, error) {
	var live v1alpha1.DomainClaimList
	if err := v.Live.List(ctx, &live); err != nil {
		return nil, err
	}
	out := live.Items[:0]
	for _, c := range live.Items {
		if slices.Contains(hostname.Ancestors(c.Spec.Hostname), domain) {
			out = append(out, c)
		}
	}
	return out, nil
}
