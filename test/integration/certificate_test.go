package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// issued waits until the claim for h has an issued certificate and returns it.
func issued(t *testing.T, h string) *v1alpha1.DomainClaim {
	t.Helper()
	return waitCondition(t, strings.Replace(h, "*", "wc--wildcard", 1), v1alpha1.ConditionCertificateIssued, metav1.ConditionTrue)
}

func recordNames(zoneID string) []string {
	var out []string
	for _, rs := range env.AWS.Route53.Records(zoneID) {
		out = append(out, rs.Type+" "+rs.Name)
	}
	return out
}

func TestClaimGetsAnIssuedCertificateAndItsValidationRecord(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns := tenant(t)
	h := "cert." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(ns, h)))

	c := issued(t, h)
	arns := env.AWS.ACM.ForDomain(h)
	require.Len(t, arns, 1, "exactly one certificate for the hostname")
	assert.Equal(t, arns[0], c.Status.CertificateARN)
	tags := env.AWS.ACM.Tags(arns[0])
	assert.Equal(t, h, tags[v1alpha1.TagClaim])
	assert.Equal(t, string(c.UID), tags[v1alpha1.TagClaimUID])
	assert.Equal(t, "test", tags[v1alpha1.TagCluster])
	for _, typ := range []string{v1alpha1.ConditionCertificateRequested, v1alpha1.ConditionValidationRecord} {
		assert.True(t, meta.IsStatusConditionTrue(c.Status.Conditions, typ), typ)
	}
	assert.Contains(t, c.Finalizers, v1alpha1.FinalizerAWSCleanup)
	// reconciler/readiness rolls the steps up into Ready right after they are written.
	var ready *metav1.Condition
	require.Eventually(t, func() bool {
		got, err := getClaim(h)
		ready = meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady)
		return err == nil && ready != nil && ready.Reason == v1alpha1.ReasonNoGatewayPool
	}, 20*time.Second, 50*time.Millisecond, "Ready names the next step, which the zone without a pool blocks: %+v", ready)
	assert.Equal(t, metav1.ConditionFalse, ready.Status, "no load balancer in a zone without a pool")

	name, value := awsfake.ValidationRecord(h)
	require.NotNil(t, c.Status.ValidationRecord)
	assert.Equal(t, name, c.Status.ValidationRecord.Name)
	assert.Equal(t, value, c.Status.ValidationRecord.Value)
	assert.Equal(t, []string{"CNAME " + name, "TXT " + dnsbatch.MarkerName(name, "CNAME")}, recordNames(z.Spec.HostedZoneID),
		"the validation CNAME and its ownership marker are in the zone's hosted zone")

	require.Eventually(t, func() bool {
		var evs eventsv1.EventList
		_ = k8s.List(ctx, &evs)
		seen := map[string]bool{}
		for _, e := range evs.Items {
			if e.Regarding.Name == h {
				seen[e.Reason] = true
			}
		}
		return seen[v1alpha1.EventCertificateRequested] && seen[v1alpha1.EventCertificateIssued]
	}, 10*time.Second, 100*time.Millisecond, "events tell the story")
}

func TestDeletingAClaimRemovesExactlyWhatWasCreated(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	foreign := awsfake.RecordSet{Name: "legacy." + z.Spec.Domain, Type: "A", TTL: ptr.To[int64](60), Values: []string{"192.0.2.1"}}
	env.AWS.Route53.Put(z.Spec.HostedZoneID, foreign)
	h := "gone." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))
	c := issued(t, h)

	require.NoError(t, k8s.Delete(ctx, c))
	waitGone(t, h, 20*time.Second)
	assert.Empty(t, env.AWS.ACM.ForDomain(h), "the certificate is deleted")
	assert.Equal(t, []string{"A legacy." + z.Spec.Domain + "."}, recordNames(z.Spec.HostedZoneID), "only the foreign record is left")
}

func TestCertificateInUseIsDeletedOnlyOnceReleased(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	h := "busy." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))
	c := issued(t, h)
	env.AWS.ACM.SetInUse(c.Status.CertificateARN, []string{"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/1"})

	require.NoError(t, k8s.Delete(ctx, c))
	c = waitCondition(t, h, v1alpha1.ConditionCertificateRequested, metav1.ConditionTrue)
	require.Eventually(t, func() bool {
		got, err := getClaim(h)
		return err == nil && meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionCertificateRequested).Reason == "InUse"
	}, 10*time.Second, 50*time.Millisecond, "the claim says it waits for the load balancer")
	assert.Len(t, env.AWS.ACM.ForDomain(h), 1)

	env.AWS.ACM.SetInUse(c.Status.CertificateARN, nil)
	waitGone(t, h, 45*time.Second)
	assert.Empty(t, env.AWS.ACM.ForDomain(h))
}

func TestNameAndWildcardShareOneValidationRecord(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns := tenant(t)
	base := "shared." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(ns, base, "*."+base)))
	a, b := issued(t, base), issued(t, "*."+base)
	require.Equal(t, a.Status.ValidationRecord.Name, b.Status.ValidationRecord.Name, "ACM gives a name and its wildcard one record")
	cname := "CNAME " + a.Status.ValidationRecord.Name

	require.NoError(t, k8s.Delete(ctx, a))
	waitGone(t, a.Name, 20*time.Second)
	assert.Contains(t, recordNames(z.Spec.HostedZoneID), cname, "the wildcard's claim still needs the record")

	require.NoError(t, k8s.Delete(ctx, b))
	waitGone(t, b.Name, 20*time.Second)
	assert.NotContains(t, recordNames(z.Spec.HostedZoneID), cname, "the last user removes it")
}

func TestForeignRecordAtTheValidationNameIsAConflict(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	h := "taken-dns." + z.Spec.Domain
	name, _ := awsfake.ValidationRecord(h)
	foreign := awsfake.RecordSet{Name: name, Type: "CNAME", TTL: ptr.To[int64](60), Values: []string{"somewhere-else.example.net."}}
	env.AWS.Route53.Put(z.Spec.HostedZoneID, foreign)
	require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))

	c := waitCondition(t, h, v1alpha1.ConditionValidationRecord, metav1.ConditionFalse)
	require.Eventually(t, func() bool {
		c, _ = getClaim(h)
		return meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionValidationRecord).Reason == v1alpha1.ReasonDNSConflict
	}, 10*time.Second, 50*time.Millisecond)
	assert.Contains(t, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionValidationRecord).Message, "not created by gateway-orchestrator")
	recs := env.AWS.Route53.Records(z.Spec.HostedZoneID)
	require.Len(t, recs, 1, "nothing is added beside the foreign record")
	assert.Equal(t, []string{"somewhere-else.example.net."}, recs[0].Values, "the foreign record is unchanged")
}

func TestACMFailureBecomesACondition(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	h := "caa." + z.Spec.Domain
	env.AWS.ACM.Hold(h)
	defer env.AWS.ACM.Release(h)
	require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))
	c := waitCondition(t, h, v1alpha1.ConditionValidationRecord, metav1.ConditionTrue)
	env.AWS.ACM.Fail(c.Status.CertificateARN, "FAILED", "CAA_ERROR")

	require.Eventually(t, func() bool {
		c, _ = getClaim(h)
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionCertificateIssued)
		return cond != nil && cond.Reason == "FAILED"
	}, 15*time.Second, 50*time.Millisecond)
	assert.Contains(t, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionCertificateIssued).Message, "CAA_ERROR")
}

// TestAFailedCertificateIsReplacedOnceItsCauseIsFixed: a CAA record forbids Amazon, so ACM fails
// the claim's certificate (CAA_ERROR). The claim says which attempt failed, why and when the next
// one is; the tenant fixes the record and asks for the retry on its route; the failed certificate
// is deleted and a new one, requested with the next attempt's token and tag, is issued. Real ACM
// client against the AWS test server, which checks CAA before it issues.
func TestAFailedCertificateIsReplacedOnceItsCauseIsFixed(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns := tenant(t)
	h := "caa-retry." + z.Spec.Domain
	caa := func(issuer string) {
		env.AWS.Route53.Put(z.Spec.HostedZoneID, awsfake.RecordSet{Name: z.Spec.Domain, Type: "CAA", TTL: ptr.To[int64](300),
			Values: []string{`0 issue "` + issuer + `"`}})
	}
	caa("letsencrypt.org")
	r := route(ns, h)
	require.NoError(t, k8s.Create(ctx, r))

	var c *v1alpha1.DomainClaim
	require.Eventually(t, func() bool {
		var err error
		if c, err = getClaim(h); err != nil {
			return false
		}
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionCertificateIssued)
		return cond != nil && cond.Reason == "FAILED" && c.Status.CertificateRetryTime != nil
	}, 30*time.Second, 50*time.Millisecond, "ACM fails the certificate, and the claim schedules the next attempt")
	failed := c.Status.CertificateARN
	msg := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionCertificateIssued).Message
	assert.Contains(t, msg, "attempt 1 is FAILED: CAA_ERROR")
	assert.Contains(t, msg, "attempt 2 deletes it and requests a new one at "+c.Status.CertificateRetryTime.UTC().Format(time.RFC3339))
	assert.Contains(t, msg, v1alpha1.AnnotationRetryCertificate, "the message says how to retry at once")
	assert.WithinDuration(t, time.Now().Add(15*time.Minute), c.Status.CertificateRetryTime.Time, time.Minute, "the first back-off")
	assert.Equal(t, []string{failed}, env.AWS.ACM.ForDomain(h))

	caa("amazon.com") // the tenant's fix
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(r), r); err != nil {
			return err
		}
		metav1.SetMetaDataAnnotation(&r.ObjectMeta, v1alpha1.AnnotationRetryCertificate, "1")
		return k8s.Update(ctx, r)
	}))

	require.Eventually(t, func() bool {
		var err error
		c, err = getClaim(h)
		return err == nil && meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionCertificateIssued)
	}, 30*time.Second, 50*time.Millisecond, "the next attempt's certificate is issued")
	assert.NotEqual(t, failed, c.Status.CertificateARN, "a new certificate")
	assert.Equal(t, []string{c.Status.CertificateARN}, env.AWS.ACM.ForDomain(h), "the failed certificate is deleted, and no other is left")
	assert.Equal(t, int32(1), c.Status.CertificateAttempt)
	assert.Nil(t, c.Status.CertificateRetryTime)
	tags := env.AWS.ACM.Tags(c.Status.CertificateARN)
	assert.Equal(t, "1", tags[v1alpha1.TagCertificateAttempt])
	assert.Equal(t, string(c.UID), tags[v1alpha1.TagClaimUID])
	assert.Equal(t, 2, env.AWS.ACM.Requests(h), "one request per attempt")
}

func TestEveryClaimCompletesWhileHalfOfAllCallsAreThrottled(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns := tenant(t)
	env.AWS.SetFault("acm:*", &awsfake.Fault{Code: "ThrottlingException", Every: 2})
	env.AWS.SetFault("route53:*", &awsfake.Fault{Code: "Throttling", Every: 2})
	defer env.AWS.SetFault("acm:*", nil)
	defer env.AWS.SetFault("route53:*", nil)

	var hosts []string
	for i := 0; i < 10; i++ {
		h := unique("throttled") + "." + z.Spec.Domain
		hosts = append(hosts, h)
		require.NoError(t, k8s.Create(ctx, route(ns, h)))
	}
	for _, h := range hosts {
		c := issued(t, h)
		for _, cond := range c.Status.Conditions {
			assert.NotContains(t, cond.Message, "retry quota", "no retry quota error may escape")
		}
		assert.Len(t, env.AWS.ACM.ForDomain(h), 1)
	}
	assert.Positive(t, env.AWS.Throttled("acm:RequestCertificate"))
	assert.Positive(t, env.AWS.Throttled("route53:ChangeResourceRecordSets")+env.AWS.Throttled("route53:ListResourceRecordSets"))
}

func TestClaimWithoutRoutesIsReleasedWithItsCertificate(t *testing.T) {
	ctx := context.Background()
	z := newZone(t, shortRetention)
	h := "short." + z.Spec.Domain
	r := route(tenant(t), h)
	require.NoError(t, k8s.Create(ctx, r))
	issued(t, h)
	require.NoError(t, k8s.Delete(ctx, r))
	waitGone(t, h, 30*time.Second)
	assert.Empty(t, env.AWS.ACM.ForDomain(h))
	assert.Empty(t, env.AWS.Route53.Records(z.Spec.HostedZoneID))
	_, err := getClaim(h)
	assert.True(t, apierrors.IsNotFound(err))
	_ = client.IgnoreNotFound(err)
}

// setLoadBalancer records an ALB for a claim, as the Gateway work does.
func setLoadBalancer(t *testing.T, name, lb, lbZone string) {
	t.Helper()
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c, err := getClaim(name)
		if err != nil {
			return err
		}
		c.Status.LoadBalancerHostname, c.Status.LoadBalancerZoneID = lb, lbZone
		return k8s.Status().Update(context.Background(), c)
	}))
}

func TestAliasRecordPointsAtTheLoadBalancer(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	h := "alias." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))
	issued(t, h)
	lb := "k8s-gateway-public1-0123456789.us-east-1.elb.amazonaws.com"
	setLoadBalancer(t, h, lb, "Z35SXDOTRQ7X7K")

	c := waitCondition(t, h, v1alpha1.ConditionDNSRecord, metav1.ConditionTrue)
	var alias *awsfake.RecordSet
	for _, rs := range env.AWS.Route53.Records(z.Spec.HostedZoneID) {
		if rs.Name == h+"." && rs.Type == "A" {
			alias = &rs
		}
	}
	require.NotNil(t, alias, "an ALIAS A record for the hostname")
	require.NotNil(t, alias.Alias)
	assert.Equal(t, lb+".", dnsbatch.Canonical(alias.Alias.DNSName))
	assert.Equal(t, "Z35SXDOTRQ7X7K", alias.Alias.HostedZoneID)
	assert.Contains(t, recordNames(z.Spec.HostedZoneID), "TXT "+dnsbatch.MarkerName(h, "A"), "with its ownership marker")

	require.NoError(t, k8s.Delete(ctx, c))
	waitGone(t, h, 20*time.Second)
	assert.Empty(t, env.AWS.Route53.Records(z.Spec.HostedZoneID), "deletion removes the ALIAS, its marker and the validation record")
}

func TestForeignRecordAtTheHostnameIsNeverOverwritten(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	h := "occupied." + z.Spec.Domain
	foreign := awsfake.RecordSet{Name: h, Type: "A", TTL: ptr.To[int64](60), Values: []string{"192.0.2.7"}}
	env.AWS.Route53.Put(z.Spec.HostedZoneID, foreign)
	require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))
	issued(t, h)
	setLoadBalancer(t, h, "lb.us-east-1.elb.amazonaws.com", "Z35SXDOTRQ7X7K")

	require.Eventually(t, func() bool {
		c, _ := getClaim(h)
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord)
		return cond != nil && cond.Reason == v1alpha1.ReasonDNSConflict
	}, 15*time.Second, 50*time.Millisecond)
	for _, rs := range env.AWS.Route53.Records(z.Spec.HostedZoneID) {
		if rs.Name == h+"." {
			assert.Equal(t, []string{"192.0.2.7"}, rs.Values, "the foreign record is unchanged")
		}
	}
	c, err := getClaim(h)
	require.NoError(t, err)
	require.NoError(t, k8s.Delete(ctx, c))
	waitGone(t, h, 20*time.Second)
	recs := env.AWS.Route53.Records(z.Spec.HostedZoneID)
	require.Len(t, recs, 1, "deleting the claim leaves the foreign record alone")
	assert.Equal(t, "A", recs[0].Type)
}
