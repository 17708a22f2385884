package integration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// condition returns a claim's condition of type typ, or an empty one.
func condition(c *v1alpha1.DomainClaim, typ string) metav1.Condition {
	if cond := meta.FindStatusCondition(c.Status.Conditions, typ); cond != nil {
		return *cond
	}
	return metav1.Condition{}
}

// acmRequests sums the RequestCertificate calls the AWS test server saw for the hostnames.
func acmRequests(hostnames []string) int {
	n := 0
	for _, h := range hostnames {
		n += env.AWS.ACM.Requests(h)
	}
	return n
}

// recordsFor returns the zone's records that name one of the hostnames or sit below one (an
// ALIAS, or a validation CNAME "_x.<hostname>.").
func recordsFor(zoneID string, hostnames []string) []string {
	want := map[string]bool{}
	for _, h := range hostnames {
		want[h+"."] = true
	}
	var out []string
	for _, rs := range env.AWS.Route53.Records(zoneID) {
		name := rs.Name
		if want[name] {
			out = append(out, rs.Type+" "+name)
			continue
		}
		if i := strings.IndexByte(name, '.'); i >= 0 && want[name[i+1:]] {
			out = append(out, rs.Type+" "+name)
		}
	}
	return out
}

// TestFailedCreatesSpendNothingAndTheirClaimsAreReleased sends 300 creates of an HTTPRoute
// whose name already exists, each with 16 new hostnames. Admission claims every hostname before
// the API server refuses the name; none of those claims is ever bound, so none gets a
// certificate request or a record, and every one is released after the unused-claim retention.
func TestFailedCreatesSpendNothingAndTheirClaimsAreReleased(t *testing.T) {
	const creates, perCreate, workers = 300, 16, 4
	ctx := context.Background()
	unused := 20 * time.Second
	z := newZone(t, func(z *v1alpha1.ManagedZone) {
		z.Spec.UnusedClaimRetention = &metav1.Duration{Duration: unused}
		z.Spec.Limits = &v1alpha1.ZoneLimits{
			MaxClaimsPerNamespace:        ptr.To[int32](creates*perCreate + 10),
			MaxUnboundClaimsPerNamespace: ptr.To[int32](creates*perCreate + 10),
		}
	})
	ns := tenant(t)
	existing := route(ns, "kept."+z.Spec.Domain)
	require.NoError(t, k8s.Create(ctx, existing))

	var failed []string
	for i := range creates {
		for j := range perCreate {
			failed = append(failed, fmt.Sprintf("h%d-%d.%s", i, j, z.Spec.Domain))
		}
	}
	create := func(i int) error {
		dup := route(ns, failed[i*perCreate:(i+1)*perCreate]...)
		dup.Name = existing.Name
		// Kept off the pool: there, one match with 16 hostnames needs more ALB condition values
		// than a rule holds, and admission would deny it before the API server refuses the name.
		dup.Annotations = map[string]string{v1alpha1.AnnotationAutoAttach: "false"}
		return k8s.Create(ctx, dup)
	}

	// Admission claims for a refused create; the claims say why nothing is provisioned.
	start := time.Now()
	err := create(0)
	require.True(t, apierrors.IsAlreadyExists(err), "the API server refuses the existing name after admission: %v", err)
	c := waitCondition(t, failed[0], v1alpha1.ConditionBound, metav1.ConditionFalse)
	assert.Equal(t, v1alpha1.ReasonUnbound, condition(c, v1alpha1.ConditionBound).Reason)
	assert.Contains(t, condition(c, v1alpha1.ConditionBound).Message, "HTTPRoute "+ns+"/"+existing.Name)
	assert.NotEmpty(t, c.Annotations[v1alpha1.AnnotationClaimedForUID], "admission recorded the refused object's UID")
	assert.NotEqual(t, string(existing.UID), c.Annotations[v1alpha1.AnnotationClaimedForUID])
	require.Eventually(t, func() bool {
		c, err := getClaim(failed[0])
		return err == nil && condition(c, v1alpha1.ConditionCertificateRequested).Reason == v1alpha1.ReasonUnbound &&
			condition(c, v1alpha1.ConditionReady).Reason == v1alpha1.ReasonUnbound
	}, 10*time.Second, 50*time.Millisecond, "the waiting step and Ready say Unbound")

	var wg sync.WaitGroup
	errs := make([]error, creates)
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				errs[i] = create(i)
			}
		})
	}
	for i := 1; i < creates; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	createTime := time.Since(start)
	timedOut := 0
	for i, err := range errs[1:] {
		if err != nil && strings.Contains(err.Error(), "context deadline exceeded") {
			// On a loaded machine a request can outlast the webhook's 5 s timeout; its claims
			// are those of a refused object all the same.
			timedOut++
			continue
		}
		require.True(t, apierrors.IsAlreadyExists(err), "create %d: the API server refuses the existing name after admission: %v", i+1, err)
	}
	require.Less(t, timedOut, creates/10, "most creates reached the API server's name check")

	// Every claim goes after the retention, having spent nothing.
	require.Eventually(t, func() bool {
		var l v1alpha1.DomainClaimList
		if err := k8s.List(ctx, &l, client.MatchingLabels{webhook.LabelOwner: ns}); err != nil {
			return false
		}
		left := 0
		for _, c := range l.Items {
			if c.Spec.Hostname != "kept."+z.Spec.Domain {
				left++
			}
		}
		return left == 0
	}, createTime+unused+3*time.Minute, time.Second, "every claim of a refused create is released")
	releaseTime := time.Since(start)
	assert.Zero(t, acmRequests(failed), "no certificate was requested for a claim no object used")
	assert.Empty(t, recordsFor(z.Spec.HostedZoneID, failed), "no record was written for a claim no object used")
	t.Logf("%d refused creates (%d timed out in admission) with %d hostnames each: sent in %s, all %d claims released %s after the first create",
		creates, timedOut, perCreate, createTime.Round(time.Millisecond), len(failed), releaseTime.Round(time.Second))

	// The route that exists is bound and provisioned as before.
	kept := issued(t, "kept."+z.Spec.Domain)
	assert.Equal(t, "bound by HTTPRoute "+ns+"/"+existing.Name, condition(kept, v1alpha1.ConditionBound).Message)
}

// TestCreatedRouteIsBoundByItAndServedAndStaysBoundAcrossARedeploy creates a route normally:
// its claim is Bound naming the route (matched by the UID admission recorded), then Ready. A
// redeploy (route deleted and created again within the retention) keeps the certificate.
func TestCreatedRouteIsBoundByItAndServedAndStaysBoundAcrossARedeploy(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	ns := tenant(t)
	h := "bound." + z.Spec.Domain
	r := route(ns, h)
	require.NoError(t, k8s.Create(ctx, r))

	c := waitCondition(t, h, v1alpha1.ConditionBound, metav1.ConditionTrue)
	assert.Equal(t, string(r.UID), c.Annotations[v1alpha1.AnnotationClaimedForUID], "admission recorded the route's UID")
	bound := condition(c, v1alpha1.ConditionBound)
	assert.Equal(t, v1alpha1.ReasonObjectExists, bound.Reason)
	assert.Equal(t, "bound by HTTPRoute "+ns+"/"+r.Name, bound.Message)
	c = ready(t, h, 60*time.Second)
	arn := c.Status.CertificateARN
	require.NotEmpty(t, arn)
	assert.Equal(t, 1, env.AWS.ACM.Requests(h))

	require.NoError(t, k8s.Delete(ctx, r))
	waitCondition(t, h, v1alpha1.ConditionInUse, metav1.ConditionFalse)
	again := route(ns, h)
	require.NoError(t, k8s.Create(ctx, again))
	waitCondition(t, h, v1alpha1.ConditionInUse, metav1.ConditionTrue)
	c = ready(t, h, 30*time.Second)
	assert.Equal(t, arn, c.Status.CertificateARN, "the redeploy keeps the certificate")
	assert.Equal(t, bound.Message, condition(c, v1alpha1.ConditionBound).Message, "the claim stayed bound by the first route")
	assert.Equal(t, 1, env.AWS.ACM.Requests(h), "no second certificate")
}

// TestAdminClaimProvisionsOnlyWhenAsked: an admin's claim without spec.provision stays unbound
// and spends nothing, each waiting step saying so; spec.provision: Always provisions it up to
// Ready.
func TestAdminClaimProvisionsOnlyWhenAsked(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	ns := tenant(t)
	h := "reserved." + z.Spec.Domain
	reservation := adminClaim(h, ns)
	reservation.Spec.Provision = ""
	require.NoError(t, k8s.Create(ctx, reservation))

	c := waitCondition(t, h, v1alpha1.ConditionBound, metav1.ConditionFalse)
	assert.Equal(t, v1alpha1.ReasonUnbound, condition(c, v1alpha1.ConditionBound).Reason)
	assert.Contains(t, condition(c, v1alpha1.ConditionBound).Message, "spec.provision: Always")
	require.Eventually(t, func() bool {
		c, err := getClaim(h)
		return err == nil && condition(c, v1alpha1.ConditionReady).Reason == v1alpha1.ReasonUnbound &&
			condition(c, v1alpha1.ConditionCertificateRequested).Reason == v1alpha1.ReasonUnbound &&
			condition(c, v1alpha1.ConditionGatewayAssigned).Reason == v1alpha1.ReasonUnbound
	}, 10*time.Second, 50*time.Millisecond, "Ready and the waiting steps say the claim waits for binding")
	assert.Never(t, func() bool { return env.AWS.ACM.Requests(h) > 0 }, 2*time.Second, 50*time.Millisecond,
		"an unbound admin claim requests no certificate (2 s: long enough for a request, were one made)")
	c, err := getClaim(h)
	require.NoError(t, err)
	assert.Zero(t, env.AWS.ACM.Requests(h), "an unbound admin claim requests no certificate")
	assert.Empty(t, c.Status.CertificateARN)
	assert.Nil(t, c.Status.Gateway, "and takes no seat")
	assert.Empty(t, c.Finalizers, "nothing in AWS to clean up")

	patch := client.MergeFrom(c.DeepCopy())
	c.Spec.Provision = v1alpha1.ProvisionAlways
	require.NoError(t, k8s.Patch(ctx, c, patch))
	c = waitCondition(t, h, v1alpha1.ConditionBound, metav1.ConditionTrue)
	assert.Equal(t, v1alpha1.ReasonProvisionAlways, condition(c, v1alpha1.ConditionBound).Reason)
	c = ready(t, h, 60*time.Second)
	assert.Equal(t, []string{c.Status.CertificateARN}, env.AWS.ACM.ForDomain(h))
	assert.NotEmpty(t, recordsFor(z.Spec.HostedZoneID, []string{h}), "validation record and ALIAS")
}

// TestNeverBoundClaimIsLetGoWithoutAnAWSCall: deleting a claim that was never bound removes its
// finalizer at once, even while every ACM and Route53 call fails: there is nothing to look for.
func TestNeverBoundClaimIsLetGoWithoutAnAWSCall(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns := tenant(t)
	h := "never." + z.Spec.Domain
	c := webhook.NewClaim(h, ns, "HTTPRoute "+ns+"/never", v1alpha1.FinalizerAWSCleanup)
	require.NoError(t, k8s.Create(ctx, c))
	waitCondition(t, h, v1alpha1.ConditionBound, metav1.ConditionFalse)

	denied := &awsfake.Fault{Code: "AccessDeniedException", Status: 400}
	env.AWS.SetFault("acm:*", denied)
	env.AWS.SetFault("route53:*", denied)
	t.Cleanup(func() {
		env.AWS.SetFault("acm:*", nil)
		env.AWS.SetFault("route53:*", nil)
	})
	require.NoError(t, k8s.Delete(ctx, c))
	waitGone(t, h, 10*time.Second)
	assert.Zero(t, env.AWS.ACM.Requests(h))
}

// TestAdminClaimIsBoundByARouteOfItsNamespace: a reservation without spec.provision is
// provisioned once the owning namespace's route uses it.
func TestAdminClaimIsBoundByARouteOfItsNamespace(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns := tenant(t)
	h := "later." + z.Spec.Domain
	reservation := adminClaim(h, ns)
	reservation.Spec.Provision = ""
	require.NoError(t, k8s.Create(ctx, reservation))
	waitCondition(t, h, v1alpha1.ConditionBound, metav1.ConditionFalse)

	r := route(ns, h)
	require.NoError(t, k8s.Create(ctx, r))
	c := waitCondition(t, h, v1alpha1.ConditionBound, metav1.ConditionTrue)
	assert.Equal(t, "bound by HTTPRoute "+ns+"/"+r.Name, condition(c, v1alpha1.ConditionBound).Message)
	issued(t, h)
}

// TestRouteClaimCannotAskToProvisionAlways: spec.provision: Always is for admins' claims.
func TestRouteClaimCannotAskToProvisionAlways(t *testing.T) {
	z := newZone(t)
	c := webhook.NewClaim("forged."+z.Spec.Domain, tenant(t), "HTTPRoute x/y")
	c.Spec.Provision = v1alpha1.ProvisionAlways
	err := k8s.Create(context.Background(), c)
	require.True(t, apierrors.IsInvalid(err), "%v", err)
	assert.Contains(t, err.Error(), "provision: Always is for admin claims")
}
