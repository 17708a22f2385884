// Package index declares the informer-cache field indexes that admission and the reconcilers
// look objects up by, so that no request lists every object.
package index

import (
	"context"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
)

const (
	// ZoneDomain indexes ManagedZones by spec.domain.
	ZoneDomain = "gateway.opendi.com/zone-domain"
	// ZoneAncestor indexes ManagedZones by every domain their spec.domain lies strictly below, so
	// a wildcard finds the zones it would cover.
	ZoneAncestor = "gateway.opendi.com/zone-ancestor"
	// ClaimAncestor indexes DomainClaims by every domain their names lie strictly below
	// (hostname.Ancestors), so a wildcard "*.d" finds the claims it would overlap under key d.
	ClaimAncestor = "gateway.opendi.com/claim-ancestor"
	// RouteHostname indexes HTTPRoutes by the claims their hostnames use: each normalized
	// hostname, and for an exact hostname also the one-label wildcard above it, whose claim (and
	// certificate) covers it when the same namespace owns it.
	RouteHostname = "gateway.opendi.com/route-hostname"
	// ClaimValidationRecord indexes DomainClaims by their certificate's validation record name,
	// which ACM shares between a name and its wildcard.
	ClaimValidationRecord = "gateway.opendi.com/claim-validation-record"
	// ClaimZone indexes DomainClaims by status.managedZone.
	ClaimZone = "gateway.opendi.com/claim-zone"
	// ZonePool indexes ManagedZones by spec.gatewayPoolRef.name.
	ZonePool = "gateway.opendi.com/zone-pool"
)

// Setup registers every index with the manager's cache. It must run before the cache starts.
func Setup(ctx context.Context, fi client.FieldIndexer) error {
	if err := fi.IndexField(ctx, &v1alpha1.ManagedZone{}, ZoneDomain, zoneDomain); err != nil {
		return err
	}
	if err := fi.IndexField(ctx, &v1alpha1.ManagedZone{}, ZoneAncestor, func(o client.Object) []string {
		return hostname.Ancestors(o.(*v1alpha1.ManagedZone).Spec.Domain)
	}); err != nil {
		return err
	}
	if err := fi.IndexField(ctx, &v1alpha1.DomainClaim{}, ClaimAncestor, claimAncestors); err != nil {
		return err
	}
	if err := fi.IndexField(ctx, &v1alpha1.DomainClaim{}, ClaimValidationRecord, validationRecord); err != nil {
		return err
	}
	if err := fi.IndexField(ctx, &v1alpha1.DomainClaim{}, ClaimZone, func(o client.Object) []string {
		if z := o.(*v1alpha1.DomainClaim).Status.ManagedZone; z != "" {
			return []string{z}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := fi.IndexField(ctx, &v1alpha1.ManagedZone{}, ZonePool, func(o client.Object) []string {
		if ref := o.(*v1alpha1.ManagedZone).Spec.GatewayPoolRef; ref != nil {
			return []string{ref.Name}
		}
		return nil
	}); err != nil {
		return err
	}
	return fi.IndexField(ctx, &gwv1.HTTPRoute{}, RouteHostname, RouteKeys)
}

func validationRecord(o client.Object) []string {
	if r := o.(*v1alpha1.DomainClaim).Status.ValidationRecord; r != nil {
		n := strings.ToLower(r.Name)
		if !strings.HasSuffix(n, ".") {
			n += "."
		}
		return []string{n}
	}
	return nil
}

func zoneDomain(o client.Object) []string {
	return []string{o.(*v1alpha1.ManagedZone).Spec.Domain}
}

func claimAncestors(o client.Object) []string {
	return hostname.Ancestors(o.(*v1alpha1.DomainClaim).Spec.Hostname)
}

// RouteKeys are the RouteHostname index keys of an HTTPRoute.
func RouteKeys(o client.Object) []string {
	r := o.(*gwv1.HTTPRoute)
	keys := make([]string, 0, 2*len(r.Spec.Hostnames))
	for _, raw := range r.Spec.Hostnames {
		h, err := hostname.Normalize(string(raw))
		if err != nil {
			continue
		}
		keys = append(keys, h)
		if !hostname.IsWildcard(h) {
			if p := hostname.Parent(h); p != "" {
				keys = append(keys, "*."+p)
			}
		}
	}
	return keys
}
