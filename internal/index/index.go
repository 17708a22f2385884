// Package index declares the informer-cache field indexes that admission and the reconcilers
// look objects up by, so that no request lists every object.
package index

import (
	"context"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
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
	// RouteHostname indexes HTTPRoutes, GRPCRoutes, Ingresses and Gateways by the claims their
	// hostnames use: each normalized hostname, and for an exact hostname also the one-label
	// wildcard above it, whose claim (and certificate) covers it when the same namespace owns it.
	RouteHostname = "gateway.opendi.com/route-hostname"
	// ClaimValidationRecord indexes DomainClaims by their certificate's validation record name,
	// which ACM shares between a name and its wildcard.
	ClaimValidationRecord = "gateway.opendi.com/claim-validation-record"
	// ClaimZone indexes DomainClaims by status.managedZone.
	ClaimZone = "gateway.opendi.com/claim-zone"
	// ZonePool indexes ManagedZones by spec.gatewayPoolRef.name.
	ZonePool = "gateway.opendi.com/zone-pool"
	// ClaimNamespaceDomain indexes DomainClaims not being deleted by NamespaceDomainKey of their
	// owning namespace and every domain a ManagedZone covering them may have, and unbound claims
	// also by UnboundKey, so admission counts a namespace's claims in a zone with one lookup.
	ClaimNamespaceDomain = "gateway.opendi.com/claim-namespace-domain"
	// ClaimRouteNamespace indexes DomainClaims made by routes by spec.namespace, so a Namespace
	// created or deleted wakes only the pools serving its routes' claims.
	ClaimRouteNamespace = "gateway.opendi.com/claim-route-namespace"
	// ClaimSkeleton indexes DomainClaims by the UTS #39 skeleton of their hostname
	// (hostname.LookAlikeKeys), so admission finds the claims a hostname looks like, and those
	// a wildcard looks like it serves, with one lookup or two.
	ClaimSkeleton = "gateway.opendi.com/claim-skeleton"
	// IngressGroup indexes Ingresses by the IngressGroup their annotation names
	// (IngressGroupKey) and by the IngressClass whose IngressClassParams may impose one
	// (IngressClassKey), so admission finds the other members of a group.
	IngressGroup = "gateway.opendi.com/ingress-group"
	// ClaimCertificateARN indexes DomainClaims by status.certificateARN, so admission finds the
	// claim whose certificate an Ingress's certificate-arn annotation names with one lookup.
	ClaimCertificateARN = "gateway.opendi.com/claim-certificate-arn"
	// ConfigurationCertificateARN indexes LBC LoadBalancerConfigurations by the certificate ARNs
	// their listenerConfigurations name, so a claim's transfer finds the configurations that
	// serve its certificate.
	ConfigurationCertificateARN = "gateway.opendi.com/configuration-certificate-arn"
	// LoadBalancerName indexes Gateways and Ingresses by the names of the ALBs they are on
	// (status addresses and status.loadBalancer hostnames, lbc.ALBNameFromDNS) and Ingresses and
	// LBC LoadBalancerConfigurations by the ALB name they set, all lower-cased (ELB does not
	// tell case apart), so admission finds whose ALB an explicit name is with one lookup.
	LoadBalancerName = "gateway.opendi.com/load-balancer-name"
)

// NamespaceDomainKey is the ClaimNamespaceDomain key of namespace ns's claims under domain d.
func NamespaceDomainKey(ns, d string) string { return ns + "/" + d }

// UnboundKey is the ClaimNamespaceDomain key of namespace ns's unbound claims under domain d.
func UnboundKey(ns, d string) string { return ns + "/" + d + "/unbound" }

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
	if err := fi.IndexField(ctx, &v1alpha1.DomainClaim{}, ClaimAncestor, ClaimAncestorKeys); err != nil {
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
	if err := fi.IndexField(ctx, &v1alpha1.DomainClaim{}, ClaimNamespaceDomain, ClaimNamespaceDomainKeys); err != nil {
		return err
	}
	if err := fi.IndexField(ctx, &v1alpha1.DomainClaim{}, ClaimRouteNamespace, ClaimRouteNamespaceKeys); err != nil {
		return err
	}
	if err := fi.IndexField(ctx, &v1alpha1.DomainClaim{}, ClaimSkeleton, ClaimSkeletonKeys); err != nil {
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
	if err := fi.IndexField(ctx, &v1alpha1.DomainClaim{}, ClaimCertificateARN, ClaimCertificateARNKeys); err != nil {
		return err
	}
	if err := fi.IndexField(ctx, &networkingv1.Ingress{}, IngressGroup, IngressGroupKeys); err != nil {
		return err
	}
	for _, o := range []client.Object{&gwv1.Gateway{}, &networkingv1.Ingress{}} {
		if err := fi.IndexField(ctx, o, LoadBalancerName, LoadBalancerNameKeys); err != nil {
			return err
		}
	}
	// ListenerSets are indexed by SetupListenerSets, only where their CRD is served: an index
	// would make the manager wait for an informer of a kind many clusters do not have.
	for _, o := range []client.Object{&gwv1.HTTPRoute{}, &gwv1.GRPCRoute{}, &networkingv1.Ingress{}, &gwv1.Gateway{}} {
		if err := fi.IndexField(ctx, o, RouteHostname, RouteKeys); err != nil {
			return err
		}
	}
	return nil
}

// SetupListenerSets indexes ListenerSets by the claims their listener hostnames use
// (RouteHostname), like Gateways. Call it only where the ListenerSet kind is served.
func SetupListenerSets(ctx context.Context, fi client.FieldIndexer) error {
	return fi.IndexField(ctx, &gwv1.ListenerSet{}, RouteHostname, RouteKeys)
}

// SetupTLSRoutes indexes TLSRoutes by the claims their hostnames use (RouteHostname), so that
// a claim listed by a TLSRoute of its namespace is kept in use. Call it only where the TLSRoute
// kind is served.
func SetupTLSRoutes(ctx context.Context, fi client.FieldIndexer) error {
	return fi.IndexField(ctx, &gwv1.TLSRoute{}, RouteHostname, RouteKeys)
}

// SetupLoadBalancerConfigurations indexes LBC LoadBalancerConfigurations by the certificate
// ARNs they name (ConfigurationCertificateARN) and the ALB name they set (LoadBalancerName).
// Call it only where that kind is served.
func SetupLoadBalancerConfigurations(ctx context.Context, fi client.FieldIndexer) error {
	if err := fi.IndexField(ctx, lbc.NewUnstructured(), ConfigurationCertificateARN, ConfigurationCertificateARNKeys); err != nil {
		return err
	}
	return fi.IndexField(ctx, lbc.NewUnstructured(), LoadBalancerName, LoadBalancerNameKeys)
}

// LoadBalancerNameKeys are the LoadBalancerName index keys of a Gateway (the ALB names of its
// status addresses), an Ingress (those of its status.loadBalancer hostnames, and its
// load-balancer-name annotation) or a LoadBalancerConfiguration read as unstructured (its
// spec.loadBalancerName), lower-cased, each once.
func LoadBalancerNameKeys(o client.Object) []string {
	var names []string
	add := func(n string) {
		if n = strings.ToLower(n); n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	fromDNS := func(dns string) {
		if n, ok := lbc.ALBNameFromDNS(dns); ok {
			add(n)
		}
	}
	switch o := o.(type) {
	case *gwv1.Gateway:
		for _, a := range o.Status.Addresses {
			fromDNS(a.Value)
		}
	case *networkingv1.Ingress:
		for _, lb := range o.Status.LoadBalancer.Ingress {
			fromDNS(lb.Hostname)
		}
		add(o.Annotations[lbc.LoadBalancerNameAnnotation])
	case *unstructured.Unstructured:
		if n, _, _ := unstructured.NestedString(o.Object, "spec", "loadBalancerName"); n != "" {
			add(n)
		}
	}
	return names
}

// ConfigurationCertificateARNKeys are the ConfigurationCertificateARN index keys of a
// LoadBalancerConfiguration (read as unstructured): each certificate ARN it names, once.
func ConfigurationCertificateARNKeys(o client.Object) []string {
	u, ok := o.(*unstructured.Unstructured)
	if !ok {
		return nil
	}
	cfg, err := lbc.FromUnstructured(u)
	if err != nil {
		return nil
	}
	var keys []string
	for _, ref := range cfg.CertificateRefs() {
		if !slices.Contains(keys, ref.ARN) {
			keys = append(keys, ref.ARN)
		}
	}
	return keys
}

// IngressGroupKey is the IngressGroup key of the Ingresses whose annotation names group g.
func IngressGroupKey(g string) string { return "group/" + g }

// IngressClassKey is the IngressGroup key of the Ingresses of IngressClass c by
// spec.ingressClassName, or of those without a class when c is "" (the default class's).
func IngressClassKey(c string) string { return "class/" + c }

// IngressGroupKeys are the IngressGroup index keys of an Ingress: its annotation's group, and,
// unless the kubernetes.io/ingress.class annotation classifies it (then LBC reads no
// IngressClassParams), its class.
func IngressGroupKeys(o client.Object) []string {
	ing := o.(*networkingv1.Ingress)
	var keys []string
	if g := lbc.ExplicitIngressGroup(ing.Annotations); g != "" {
		keys = append(keys, IngressGroupKey(g))
	}
	if _, ok := ing.Annotations[lbc.IngressClassAnnotation]; !ok {
		keys = append(keys, IngressClassKey(ptr.Deref(ing.Spec.IngressClassName, "")))
	}
	return keys
}

// ClaimCertificateARNKeys are the ClaimCertificateARN index keys of a DomainClaim: its
// status.certificateARN.
func ClaimCertificateARNKeys(o client.Object) []string {
	if a := o.(*v1alpha1.DomainClaim).Status.CertificateARN; a != "" {
		return []string{a}
	}
	return nil
}

// ClaimNamespaceDomainKeys are the ClaimNamespaceDomain index keys of a DomainClaim.
func ClaimNamespaceDomainKeys(o client.Object) []string {
	c := o.(*v1alpha1.DomainClaim)
	if c.DeletionTimestamp != nil || c.Spec.Namespace == "" {
		return nil
	}
	ds := hostname.ZoneCandidates(c.Spec.Hostname)
	unbound := Unbound(c)
	keys := make([]string, 0, 2*len(ds))
	for _, d := range ds {
		keys = append(keys, NamespaceDomainKey(c.Spec.Namespace, d))
		if unbound {
			keys = append(keys, UnboundKey(c.Spec.Namespace, d))
		}
	}
	return keys
}

// ClaimRouteNamespaceKeys are the ClaimRouteNamespace index keys of a DomainClaim: its
// spec.namespace if a route made it.
func ClaimRouteNamespaceKeys(o client.Object) []string {
	if c := o.(*v1alpha1.DomainClaim); c.Spec.ClaimedBy == v1alpha1.ClaimedByRoute && c.Spec.Namespace != "" {
		return []string{c.Spec.Namespace}
	}
	return nil
}

// ClaimSkeletonKeys are the ClaimSkeleton index keys of a DomainClaim: hostname.LookAlikeKeys
// of its hostname. ASCII hostnames are indexed too (by their skeleton only), since a Unicode name
// is most often a look-alike of an ASCII one.
func ClaimSkeletonKeys(o client.Object) []string {
	return hostname.LookAlikeKeys(o.(*v1alpha1.DomainClaim).Spec.Hostname)
}

// Unbound reports whether c is a claim that admission made for an object which no object has
// used yet: made by a route's admission and not Bound (see v1alpha1.ProvisioningAllowed). A
// claim a route used once and let go stays bound and is retained on purpose (claimRetention); an
// admin's claim is never counted here.
func Unbound(c *v1alpha1.DomainClaim) bool {
	return c.Spec.ClaimedBy == v1alpha1.ClaimedByRoute && !v1alpha1.ProvisioningAllowed(c)
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

// ClaimAncestorKeys are the ClaimAncestor index keys of a DomainClaim.
func ClaimAncestorKeys(o client.Object) []string {
	return hostname.Ancestors(o.(*v1alpha1.DomainClaim).Spec.Hostname)
}

// Hostnames lists the hostnames an HTTPRoute, GRPCRoute, Ingress, Gateway, ListenerSet or
// TLSRoute carries, as written.
func Hostnames(o client.Object) []string {
	var out []string
	switch o := o.(type) {
	case *gwv1.HTTPRoute:
		for _, h := range o.Spec.Hostnames {
			out = append(out, string(h))
		}
	case *gwv1.GRPCRoute:
		for _, h := range o.Spec.Hostnames {
			out = append(out, string(h))
		}
	case *networkingv1.Ingress:
		for _, r := range o.Spec.Rules {
			if r.Host != "" {
				out = append(out, r.Host)
			}
		}
		for _, t := range o.Spec.TLS {
			out = append(out, t.Hosts...)
		}
		hosts, _ := lbc.IngressConditionHosts(o.Annotations)
		for _, h := range hosts {
			if !h.Pattern {
				out = append(out, h.Value)
			}
		}
	case *gwv1.Gateway:
		for _, l := range o.Spec.Listeners {
			if l.Hostname != nil {
				out = append(out, string(*l.Hostname))
			}
		}
	case *gwv1.ListenerSet:
		for _, l := range o.Spec.Listeners {
			if l.Hostname != nil {
				out = append(out, string(*l.Hostname))
			}
		}
	case *gwv1.TLSRoute:
		for _, h := range o.Spec.Hostnames {
			out = append(out, string(h))
		}
	}
	return out
}

// RouteKeys are the RouteHostname index keys of an object that Hostnames reads.
func RouteKeys(o client.Object) []string {
	raws := Hostnames(o)
	keys := make([]string, 0, 2*len(raws))
	seen := map[string]bool{}
	for _, raw := range raws {
		h, err := hostname.Normalize(raw)
		if err != nil {
			continue
		}
		if seen[h] {
			continue
		}
		seen[h] = true
		keys = append(keys, h)
		if !hostname.IsWildcard(h) {
			if p := hostname.Parent(h); p != "" && !seen["*."+p] {
				seen["*."+p] = true
				keys = append(keys, "*."+p)
			}
		}
	}
	return keys
}
