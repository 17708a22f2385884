// Package routeuse answers which claim a route's hostname answers to and which routes of other
// namespaces list a claim's hostname. It reads the informer cache through the indexes of package
// index; both the routes and the gatewaypool reconcilers use it, so neither imports the other.
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
	"github.com/opendi/gateway-orchestrator/internal/index"
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

// Strays lists, for each claim that is the owner's (Claimed and not being deleted), the routes
// of other namespaces that list its hostname ("Kind namespace/name", sorted): after a transfer,
// or created where admission does not look. The listeners already keep them off the ALB; the
// pool reports them in the claim's StrayRoutes condition, and the routes reconciler tells each route.
func Strays(ctx context.Context, rd client.Reader, claims []*v1alpha1.DomainClaim) (map[string][]string, error) {
	strays := map[string][]string{}
	for _, c := range claims {
		if !c.DeletionTimestamp.IsZero() || !meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionClaimed) {
			continue
		}
		opts := client.MatchingFields{index.RouteHostname: c.Spec.Hostname}
		var https gwv1.HTTPRouteList
		if err := rd.List(ctx, &https, opts); err != nil {
			return nil, err
		}
		var grpcs gwv1.GRPCRouteList
		if err := rd.List(ctx, &grpcs, opts); err != nil {
			return nil, err
		}
		foreign := func(kind string, o client.Object, raw []gwv1.Hostname) error {
			if o.GetNamespace() == c.Spec.Namespace {
				return nil
			}
			for _, h := range raw {
				name, err := hostname.Normalize(string(h))
				if err != nil {
					continue
				}
				got, err := AnsweringClaim(ctx, rd, name)
				if err != nil {
					return err
				}
				if got != nil && got.Name == c.Name {
					strays[c.Name] = append(strays[c.Name], kind+" "+o.GetNamespace()+"/"+o.GetName())
					return nil
				}
			}
			return nil
		}
		for i := range https.Items {
			if err := foreign("HTTPRoute", &https.Items[i], https.Items[i].Spec.Hostnames); err != nil {
				return nil, err
			}
		}
		for i := range grpcs.Items {
			if err := foreign("GRPCRoute", &grpcs.Items[i], grpcs.Items[i].Spec.Hostnames); err != nil {
				return nil, err
			}
		}
		sort.Strings(strays[c.Name])
	}
	return strays, nil
}
