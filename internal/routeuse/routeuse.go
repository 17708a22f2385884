// Package routeuse answers which claim a route's hostname answers to and which routes of other
// namespaces list a claim's hostname. It reads claims from the informer cache, and is given the
// routes its callers found through package index; both the routes and the gatewaypool reconcilers
// use it, so neither imports the other.
package routeuse

import (
	"context"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
)

// AnsweringClaim is the claim that answers for normalized hostname h: its own, or for an exact
// name without one, the wildcard claim one label above it; nil when neither exists.
func AnsweringClaim(ctx context.Context, rd client.Reader, h string) (*v1alpha1.DomainClaim, error) {
	names := []string{hostname.ClaimName(h)}
	if p := hostname.Parent(h); !hostname.IsWildcard(h) && p != "" {
		names = append(names, hostname.ClaimName("*."+p))
	}
	for _, n := range names {
		c := &v1alpha1.DomainClaim{}
		err := rd.Get(ctx, client.ObjectKey{Name: n}, c)
		if err == nil {
			return c, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return nil, nil
}

// Strays lists the routes of other namespaces that list claim c's hostname ("Kind
// namespace/name", sorted) when c is the owner's (Claimed and not being deleted): after a
// transfer, or created where admission does not look. https and grpcs are the routes that list
// the hostname in any namespace (the RouteHostname index). The listeners already keep them off
// the ALB; the pool reports them in the claim's StrayRoutes condition, and the routes reconciler
// tells each route.
func Strays(ctx context.Context, rd client.Reader, c *v1alpha1.DomainClaim, https []gwv1.HTTPRoute, grpcs []gwv1.GRPCRoute) ([]string, error) {
	if !c.DeletionTimestamp.IsZero() || !meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionClaimed) {
		return nil, nil
	}
	var strays []string
	foreign := func(kind string, o client.Object, raw []gwv1.Hostname) error {
		hs := make([]string, len(raw))
		for i, h := range raw {
			hs[i] = string(h)
		}
		yes, err := Foreign(ctx, rd, c, o, hs)
		if yes {
			strays = append(strays, kind+" "+o.GetNamespace()+"/"+o.GetName())
		}
		return err
	}
	for i := range https {
		if err := foreign("HTTPRoute", &https[i], https[i].Spec.Hostnames); err != nil {
			return nil, err
		}
	}
	for i := range grpcs {
		if err := foreign("GRPCRoute", &grpcs[i], grpcs[i].Spec.Hostnames); err != nil {
			return nil, err
		}
	}
	sort.Strings(strays)
	return strays, nil
}

// Foreign reports whether o, an object of another namespace than claim c's owner, lists (in raw,
// as written) a hostname that c answers for.
func Foreign(ctx context.Context, rd client.Reader, c *v1alpha1.DomainClaim, o client.Object, raw []string) (bool, error) {
	if o.GetNamespace() == c.Spec.Namespace {
		return false, nil
	}
	for _, h := range raw {
		name, err := hostname.Normalize(h)
		if err != nil {
			continue
		}
		got, err := AnsweringClaim(ctx, rd, name)
		if err != nil {
			return false, err
		}
		if got != nil && got.Name == c.Name {
			return true, nil
		}
	}
	return false, nil
}
