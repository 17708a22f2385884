package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

const externalDNSZoneID = "Z35SXDOTRQ7X7K" // the ALB's canonical hosted zone

// externalDNSRecords puts into the zone what external-dns (owner ID owner, default TXT registry
// settings) writes for an Ingress whose load balancer is lb: the ALIAS A record and its
// registry TXT records in the current ("a-") and the legacy (same name) format.
func externalDNSRecords(zoneID, h, lb, owner string) {
	value := `"heritage=external-dns,external-dns/owner=` + owner + `,external-dns/resource=ingress/shop/web"`
	env.AWS.Route53.Put(zoneID, awsfake.RecordSet{Name: h, Type: "A", Alias: &awsfake.AliasTarget{HostedZoneID: externalDNSZoneID, DNSName: lb, EvaluateTargetHealth: true}})
	env.AWS.Route53.Put(zoneID, awsfake.RecordSet{Name: "a-" + h, Type: "TXT", TTL: ptr.To[int64](300), Values: []string{value}})
	env.AWS.Route53.Put(zoneID, awsfake.RecordSet{Name: h, Type: "TXT", TTL: ptr.To[int64](300), Values: []string{value}})
}

// event returns the note of an Event of type typ and reason about the object kind/name in
// namespace, or "".
func event(t require.TestingT, namespace, kind, name, typ, reason string) string {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	var evs eventsv1.EventList
	require.NoError(t, k8s.List(context.Background(), &evs, client.InNamespace(namespace)))
	for _, e := range evs.Items {
		if e.Regarding.Kind == kind && e.Regarding.Name == name && e.Type == typ && e.Reason == reason {
			return e.Note
		}
	}
	return ""
}

func TestAnIdenticalRecordExternalDNSOwnsIsUsedAndLeftToIt(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	h := "edns-same." + z.Spec.Domain
	lb := "k8s-shop-web-0123456789.us-east-1.elb.amazonaws.com"
	externalDNSRecords(z.Spec.HostedZoneID, h, lb, "prod-edns")
	before := env.AWS.Route53.Records(z.Spec.HostedZoneID)

	require.NoError(t, k8s.Create(ctx, route(tenant(t), h)))
	issued(t, h)
	setLoadBalancer(t, h, lb, externalDNSZoneID)

	c := waitCondition(t, h, v1alpha1.ConditionDNSRecord, metav1.ConditionTrue)
	cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord)
	assert.Contains(t, cond.Message, `the identical A record `+h+`. is external-dns's (owner ID "prod-edns", for ingress/shop/web)`)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.NotEmpty(c, event(c, "default", "DomainClaim", h, "Normal", v1alpha1.EventExternalDNSRecord))
	}, 10*time.Second, 50*time.Millisecond,
		"an Event on the claim names external-dns's owner ID")
	assert.Contains(t, event(t, "default", "DomainClaim", h, "Normal", v1alpha1.EventExternalDNSRecord), `owner ID "prod-edns"`)
	names := recordNames(z.Spec.HostedZoneID)
	assert.NotContains(t, names, "TXT "+dnsbatch.MarkerName(h, "A"), "the record is not marked ours")

	require.NoError(t, k8s.Delete(ctx, c))
	waitGone(t, h, 20*time.Second)
	assert.Equal(t, before, env.AWS.Route53.Records(z.Spec.HostedZoneID), "external-dns's records are untouched; ours (validation) are gone")
}

func TestARecordExternalDNSOwnsElsewhereIsAConflictNamingItsOwner(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	h := "edns-other." + z.Spec.Domain
	externalDNSRecords(z.Spec.HostedZoneID, h, "k8s-other-lb-99.us-east-1.elb.amazonaws.com", "team-b-edns")
	ns := tenant(t)
	r := route(ns, h)
	require.NoError(t, k8s.Create(ctx, r))
	issued(t, h)
	setLoadBalancer(t, h, "k8s-shop-web-0123456789.us-east-1.elb.amazonaws.com", externalDNSZoneID)

	var cond *metav1.Condition
	require.Eventually(t, func() bool {
		c, err := getClaim(h)
		if err != nil {
			return false
		}
		cond = meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord)
		return cond != nil && cond.Reason == v1alpha1.ReasonDNSConflict
	}, 20*time.Second, 50*time.Millisecond)
	assert.Contains(t, cond.Message, `owned by external-dns (owner ID "team-b-edns", for ingress/shop/web)`)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.NotEmpty(c, event(c, "default", "DomainClaim", h, "Warning", v1alpha1.ReasonDNSConflict))
	}, 10*time.Second, 50*time.Millisecond,
		"a Warning Event on the claim")
	assert.Contains(t, event(t, "default", "DomainClaim", h, "Warning", v1alpha1.ReasonDNSConflict), `owner ID "team-b-edns"`)
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.NotEmpty(c, event(c, ns, "HTTPRoute", r.Name, "Warning", v1alpha1.ReasonDNSConflict))
	}, 10*time.Second, 50*time.Millisecond,
		"and on the route, where its owners look")

	var alias *awsfake.RecordSet
	for _, rs := range env.AWS.Route53.Records(z.Spec.HostedZoneID) {
		if rs.Name == h+"." && rs.Type == "A" {
			alias = &rs
		}
	}
	require.NotNil(t, alias)
	assert.Equal(t, "k8s-other-lb-99.us-east-1.elb.amazonaws.com", alias.Alias.DNSName, "external-dns's record is left alone")
}
