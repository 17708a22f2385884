package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// TestDeniedCertificateRequestsBackOffAndTellTheRoutesOwners has IAM deny RequestCertificate: the
// claim says so, the request is tried again after 10 s and then less and less often (not on
// every event about the claim), and a Warning Event is on the claim and on the route.
func TestDeniedCertificateRequestsBackOffAndTellTheRoutesOwners(t *testing.T) {
	ctx := context.Background()
	env.AWS.SetFault("acm:RequestCertificate", &awsfake.Fault{Code: "AccessDeniedException"})
	t.Cleanup(func() { env.AWS.SetFault("acm:RequestCertificate", nil) })
	z := newZone(t)
	ns := tenant(t)
	h := "denied." + z.Spec.Domain
	r := route(ns, h)
	before := env.AWS.Calls("acm:RequestCertificate")
	require.NoError(t, k8s.Create(ctx, r))

	require.Eventually(t, func() bool {
		c, err := getClaim(h)
		if err != nil {
			return false
		}
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionCertificateRequested)
		return cond != nil && cond.Reason == "AccessDenied"
	}, 15*time.Second, 50*time.Millisecond, "the claim says IAM denied the request")

	// Events about the claim keep coming (other reconcilers write it); requests must not.
	time.Sleep(12 * time.Second)
	calls := env.AWS.Calls("acm:RequestCertificate") - before
	assert.GreaterOrEqual(t, calls, 1)
	assert.LessOrEqual(t, calls, 3, "at most one retry in the first 12 s (then 20 s, 40 s, … up to 10 min)")

	warned := func(kind, name, namespace string) bool {
		var evs eventsv1.EventList
		if err := k8s.List(ctx, &evs, client.InNamespace(namespace)); err != nil {
			return false
		}
		for _, e := range evs.Items {
			if e.Regarding.Kind == kind && e.Regarding.Name == name && e.Reason == "AccessDenied" && e.Type == "Warning" {
				return true
			}
		}
		return false
	}
	assert.Eventually(t, func() bool { return warned("HTTPRoute", r.Name, ns) }, 10*time.Second, 100*time.Millisecond, "the route's owners are told")
	assert.Eventually(t, func() bool { return warned("DomainClaim", h, "default") }, 10*time.Second, 100*time.Millisecond, "the claim has the Event")
}
