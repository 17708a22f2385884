// Package builders makes the objects the test suites create: namespaces, ManagedZones,
// GatewayPools, HTTPRoutes and DomainClaims, with the defaults most tests want and options for
// the rest. It builds objects only; creating them, and waiting for a cache to see them, is each
// suite's own business (its client, its manager).
package builders

import (
	"fmt"
	"strings"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

var seq atomic.Int64

// Unique returns a name unique within this test binary: prefix, a dash and a number.
func Unique(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, seq.Add(1))
}

// TenantLabels are the labels of the namespaces that Zone's default AllowedNamespaces selects.
func TenantLabels() map[string]string { return map[string]string{"tenant": "true"} }

// Namespace is a namespace with labels.
func Namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

// Zone is a ManagedZone named name for the domain name.example.com, allowing the namespaces
// labelled TenantLabels, changed by mutate (AllowNamespaces, Hosted, Served or the test's own).
func Zone(name string, mutate ...func(*v1alpha1.ManagedZone)) *v1alpha1.ManagedZone {
	z := &v1alpha1.ManagedZone{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.ManagedZoneSpec{
			Domain: name + ".example.com",
			AllowedNamespaces: v1alpha1.AllowedNamespaces{
				Selector: &metav1.LabelSelector{MatchLabels: TenantLabels()},
			},
		},
	}
	for _, m := range mutate {
		m(z)
	}
	return z
}

// AllowNamespaces makes a zone allow the namespaces named, instead of a label.
func AllowNamespaces(names ...string) func(*v1alpha1.ManagedZone) {
	return func(z *v1alpha1.ManagedZone) { z.Spec.AllowedNamespaces = v1alpha1.AllowedNamespaces{Names: names} }
}

// AllowLabels makes a zone allow the namespaces with these labels.
func AllowLabels(labels map[string]string) func(*v1alpha1.ManagedZone) {
	return func(z *v1alpha1.ManagedZone) {
		z.Spec.AllowedNamespaces = v1alpha1.AllowedNamespaces{Selector: &metav1.LabelSelector{MatchLabels: labels}}
	}
}

// Hosted sets a zone's Route53 hosted zone ID.
func Hosted(id string) func(*v1alpha1.ManagedZone) {
	return func(z *v1alpha1.ManagedZone) { z.Spec.HostedZoneID = id }
}

// Served makes a zone's hostnames served by the GatewayPool named pool.
func Served(pool string) func(*v1alpha1.ManagedZone) {
	return func(z *v1alpha1.ManagedZone) { z.Spec.GatewayPoolRef = &v1alpha1.LocalObjectReference{Name: pool} }
}

// Pool is a GatewayPool of class alb in namespace gateway-system with AWS's per-ALB limits (25
// certificates, 100 rules) and one to ten Gateways, changed by mutate.
func Pool(name string, mutate ...func(*v1alpha1.GatewayPool)) *v1alpha1.GatewayPool {
	p := &v1alpha1.GatewayPool{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.GatewayPoolSpec{
			GatewayClassName: "alb", Namespace: "gateway-system",
			MaxCertificatesPerGateway: 25, MaxRulesPerGateway: 100, MinGateways: 1, MaxGateways: 10,
		},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

// Route is an HTTPRoute in ns with a unique name, the hostnames and no parentRefs.
func Route(ns string, hostnames ...string) *gwv1.HTTPRoute {
	r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: Unique("route")}}
	for _, h := range hostnames {
		r.Spec.Hostnames = append(r.Spec.Hostnames, gwv1.Hostname(h))
	}
	return r
}

// AdminClaim is an admin's claim of hostname h for namespace ns, named like h ("*" spelled
// wc--wildcard), changed by mutate (ProvisionAlways or the test's own).
func AdminClaim(h, ns string, mutate ...func(*v1alpha1.DomainClaim)) *v1alpha1.DomainClaim {
	c := &v1alpha1.DomainClaim{
		ObjectMeta: metav1.ObjectMeta{Name: strings.Replace(h, "*", "wc--wildcard", 1)},
		Spec:       v1alpha1.DomainClaimSpec{Hostname: h, Namespace: ns, ClaimedBy: v1alpha1.ClaimedByAdmin},
	}
	for _, m := range mutate {
		m(c)
	}
	return c
}

// ProvisionAlways makes a claim provision at once (spec.provision: Always), before any route uses it.
func ProvisionAlways(c *v1alpha1.DomainClaim) { c.Spec.Provision = v1alpha1.ProvisionAlways }
