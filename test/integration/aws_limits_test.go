package integration

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/clusterid"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

// awsHolds asserts that the AWS test server holds, for zone z, exactly one certificate for each
// of the hostnames and exactly the records given ("TYPE name").
func awsHolds(t *testing.T, z *v1alpha1.ManagedZone, hosts []string, records []string) {
	t.Helper()
	certs := []string{}
	for _, arn := range env.AWS.ACM.Certificates() {
		if d := env.AWS.ACM.Domain(arn); d == z.Spec.Domain || strings.HasSuffix(d, "."+z.Spec.Domain) {
			certs = append(certs, d)
		}
	}
	want := append([]string{}, hosts...)
	sort.Strings(certs)
	sort.Strings(want)
	assert.Equal(t, want, certs, "one certificate for each live claim, no other")
	got := append([]string{}, recordNames(z.Spec.HostedZoneID)...)
	want = append([]string{}, records...)
	sort.Strings(got)
	sort.Strings(want)
	assert.Equal(t, want, got, "exactly the records live claims need")
}

// validationRecords are the validation CNAME of h and its marker.
func validationRecords(h string) []string {
	name, _ := awsfake.ValidationRecord(h)
	return []string{"CNAME " + name, "TXT " + dnsbatch.MarkerName(name, "CNAME")}
}

func TestHostnameTooLongForACertificateIsDeniedAtAdmission(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns := tenant(t)
	long := strings.Repeat("a", 65-len(z.Spec.Domain)-1) + "." + z.Spec.Domain
	require.Len(t, long, 65)

	err := k8s.Create(ctx, route(ns, long))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is 65 characters long; ACM issues certificates only for names of at most 64 characters")
	_, err = getClaim(long)
	assert.True(t, apierrors.IsNotFound(err), "no claim is made")

	fits := long[1:]
	require.NoError(t, k8s.Create(ctx, route(ns, fits)), "64 characters fit")
	issued(t, fits)

	// An admin's claim is denied at admission too: it would be admitted and then stuck.
	err = k8s.Create(ctx, adminClaim(long, ns))
	require.True(t, apierrors.IsInvalid(err), "%v", err)
	assert.Contains(t, err.Error(), "is 65 characters long; ACM issues certificates only for names of at most 64 characters")
	_, err = getClaim(long)
	assert.True(t, apierrors.IsNotFound(err), "no claim is made")

	// A claim that got past admission all the same (made before the check) says why nothing is
	// requested.
	skipClaimAdmission(t)
	past := adminClaim(long, ns)
	past.Labels = map[string]string{skipLabel: "true"}
	require.Eventually(t, func() bool { return k8s.Create(ctx, past) == nil }, 10*time.Second, 100*time.Millisecond)
	require.Eventually(t, func() bool {
		c, err := getClaim(long)
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionCertificateRequested)
		return err == nil && cond != nil && cond.Reason == v1alpha1.ReasonHostnameTooLong
	}, 15*time.Second, 50*time.Millisecond)
	assert.Zero(t, env.AWS.ACM.Requests(long), "nothing was asked of ACM for the long name")
	assert.Equal(t, 1, env.AWS.ACM.Requests(fits))
}

func TestCertificateQuotaIsAConditionWithAWSMessageAndALongBackOff(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns := tenant(t)
	if len(env.AWS.ACM.Certificates()) == 0 {
		// A quota of zero means AWS's default: hold one certificate first, so that the quota
		// set below is reached when this test runs alone too.
		fillACM(ctx, t)
	}
	env.AWS.ACM.SetQuota(len(env.AWS.ACM.Certificates()), 0)
	t.Cleanup(func() { env.AWS.ACM.SetQuota(0, 0) })
	h := "quota." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, adminClaim(h, ns)))

	var cond *metav1.Condition
	require.Eventually(t, func() bool {
		c, err := getClaim(h)
		if err != nil {
			return false
		}
		cond = meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionCertificateRequested)
		return cond != nil && cond.Reason == v1alpha1.ReasonQuotaExceeded
	}, 15*time.Second, 50*time.Millisecond)
	assert.Contains(t, cond.Message, "Cannot request more certificates in this account", "AWS's own message")
	assert.NotContains(t, cond.Message, "throttling")
	// The test manager waits 2 s after a quota answer (10 minutes by default): no tight loop.
	assert.Never(t, func() bool { return env.AWS.ACM.Requests(h) > 2 }, 1500*time.Millisecond, 50*time.Millisecond,
		"one request, perhaps one retry after the back-off")

	env.AWS.ACM.SetQuota(0, 0)
	issued(t, h)
	assert.Len(t, env.AWS.ACM.ForDomain(h), 1)
}

func TestANewCertificateThatACMDoesNotShowYetIsWaitedFor(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	env.AWS.ACM.SetNotFoundAfterRequest(5 * time.Second)
	t.Cleanup(func() { env.AWS.ACM.SetNotFoundAfterRequest(0) })
	h := "eventual." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))

	require.Eventually(t, func() bool {
		c, err := getClaim(h)
		return err == nil && meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionCertificateIssued)
	}, 30*time.Second, 100*time.Millisecond)
	assert.Equal(t, 1, env.AWS.ACM.Requests(h), "one request: not found meant not visible yet")
	assert.Len(t, env.AWS.ACM.ForDomain(h), 1)
}

func TestClaimsDeletedWhileTheirRequestsAreQueuedLeaveNoCertificate(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns := tenant(t)
	live := "live." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, adminClaim(live, ns)))
	issued(t, live)

	// Four requests in flight for a while (the Requester's workers), the rest queued behind
	// them, and ACM not showing new certificates for a moment after each request.
	env.AWS.SetFault("acm:RequestCertificate", &awsfake.Fault{Latency: 1500 * time.Millisecond})
	env.AWS.ACM.SetNotFoundAfterRequest(2 * time.Second)
	t.Cleanup(func() {
		env.AWS.SetFault("acm:RequestCertificate", nil)
		env.AWS.ACM.SetNotFoundAfterRequest(0)
	})
	before := env.AWS.Calls("acm:RequestCertificate")
	var hosts []string
	for i := 0; i < 8; i++ {
		h := unique("queued") + "." + z.Spec.Domain
		hosts = append(hosts, h)
		require.NoError(t, k8s.Create(ctx, adminClaim(h, ns)))
	}
	require.Eventually(t, func() bool { return env.AWS.Calls("acm:RequestCertificate") >= before+4 },
		15*time.Second, 10*time.Millisecond, "four requests in flight")
	for _, h := range hosts {
		c, err := getClaim(h)
		require.NoError(t, err)
		require.NoError(t, k8s.Delete(ctx, c))
	}
	for _, h := range hosts {
		waitGone(t, h, 30*time.Second)
	}
	// A request still queued or in flight would make its certificate within two latencies.
	assert.Never(t, func() bool {
		for _, h := range hosts {
			if len(env.AWS.ACM.ForDomain(h)) > 0 {
				return true
			}
		}
		return false
	}, 4*time.Second, 100*time.Millisecond, "no certificate appears for a deleted claim")
	sent := 0
	for _, h := range hosts {
		sent += env.AWS.ACM.Requests(h)
	}
	assert.Less(t, sent, len(hosts), "queued requests were withdrawn, never sent")
	for _, h := range hosts {
		assert.Empty(t, env.AWS.ACM.ForDomain(h), "no certificate is left for %s", h)
	}
	awsHolds(t, z, []string{live}, validationRecords(live))
}

func TestDualStackClaimLeavesNeitherAliasBehind(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	h := "dual." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))
	issued(t, h)
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c, err := getClaim(h)
		if err != nil {
			return err
		}
		c.Status.LoadBalancerHostname, c.Status.LoadBalancerZoneID = "dualstack.k8s-gw-1.us-east-1.elb.amazonaws.com", "Z35SXDOTRQ7X7K"
		c.Status.DualStack = true
		return k8s.Status().Update(ctx, c)
	}))
	c := waitCondition(t, h, v1alpha1.ConditionDNSRecord, metav1.ConditionTrue)
	awsHolds(t, z, []string{h}, append(validationRecords(h),
		"A "+h+".", "TXT "+dnsbatch.MarkerName(h, "A"), "AAAA "+h+".", "TXT "+dnsbatch.MarkerName(h, "AAAA")))

	require.NoError(t, k8s.Delete(ctx, c))
	waitGone(t, h, 20*time.Second)
	awsHolds(t, z, nil, nil)
}

// skipClaimAdmission lets DomainClaims labelled skipLabel past the DomainClaim webhook, as a
// race between two admissions would, until the test ends.
const skipLabel = "test.gateway.opendi.com/skip-admission"

func skipClaimAdmission(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	// set changes the selector of both DomainClaim validating webhooks (creates and transfers)
	// and returns the selectors they had, by name.
	set := func(sel func(name string, old *metav1.LabelSelector) *metav1.LabelSelector) (was map[string]*metav1.LabelSelector) {
		require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
			was = map[string]*metav1.LabelSelector{}
			var l admissionv1.ValidatingWebhookConfigurationList
			if err := k8s.List(ctx, &l); err != nil {
				return err
			}
			for i := range l.Items {
				cfg := &l.Items[i]
				for j, w := range cfg.Webhooks {
					if w.Name == "vdomainclaim.gateway.opendi.com" || w.Name == "vdomainclaim-transfer.gateway.opendi.com" {
						was[w.Name] = w.ObjectSelector
						cfg.Webhooks[j].ObjectSelector = sel(w.Name, w.ObjectSelector.DeepCopy())
					}
				}
				if len(was) > 0 {
					return k8s.Update(ctx, cfg)
				}
			}
			t.Fatal("no DomainClaim webhook registered")
			return nil
		}))
		return was
	}
	// The webhooks' own selectors (which keep admission's claims away) stay, with skipLabel added.
	was := set(func(_ string, old *metav1.LabelSelector) *metav1.LabelSelector {
		if old == nil {
			old = &metav1.LabelSelector{}
		}
		old.MatchExpressions = append(old.MatchExpressions, metav1.LabelSelectorRequirement{Key: skipLabel, Operator: metav1.LabelSelectorOpDoesNotExist})
		return old
	})
	t.Cleanup(func() { set(func(name string, _ *metav1.LabelSelector) *metav1.LabelSelector { return was[name] }) })
}

func TestClaimConflictedAfterProvisioningIsUnprovisioned(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	first, second := tenant(t), tenant(t)
	wildcard, name := "*."+z.Spec.Domain, "x."+z.Spec.Domain
	w := adminClaim(wildcard, second)
	w.Labels = map[string]string{skipLabel: "true"}
	require.NoError(t, k8s.Create(ctx, w))
	require.NoError(t, k8s.Create(ctx, adminClaim(name, second)), "the same namespace's name under its wildcard")
	issued(t, wildcard)
	issued(t, name)
	setLoadBalancer(t, name, "k8s-gw-2.us-east-1.elb.amazonaws.com", "Z35SXDOTRQ7X7K")
	waitCondition(t, name, v1alpha1.ConditionDNSRecord, metav1.ConditionTrue)
	require.NotEmpty(t, env.AWS.ACM.ForDomain(name))

	// The older wildcard moves to another namespace past admission: the name loses.
	skipClaimAdmission(t)
	require.Eventually(t, func() bool {
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			c, err := getClaim(w.Name)
			if err != nil {
				return err
			}
			c.Spec.Namespace = first
			return k8s.Update(ctx, c)
		})
		return err == nil
	}, 10*time.Second, 100*time.Millisecond, "the webhook lets the labelled claim pass")

	var c *v1alpha1.DomainClaim
	require.Eventually(t, func() bool {
		var err error
		c, err = getClaim(name)
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionCertificateRequested)
		return err == nil && cond != nil && cond.Reason == v1alpha1.ReasonUnprovisioned
	}, 20*time.Second, 50*time.Millisecond)
	assert.Equal(t, v1alpha1.ReasonConflicted, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionClaimed).Reason)
	assert.Equal(t, v1alpha1.ReasonUnprovisioned, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord).Reason)
	assert.Empty(t, c.Status.CertificateARN)
	assert.Contains(t, c.Finalizers, "gateway.opendi.com/aws-cleanup", "the claim keeps its finalizer")
	awsHolds(t, z, []string{wildcard}, validationRecords(wildcard))

	require.NoError(t, k8s.Delete(ctx, c))
	waitGone(t, name, 20*time.Second)
	awsHolds(t, z, []string{wildcard}, validationRecords(wildcard))
}

func TestManagedZoneIsNotDeletedBeforeItsClaims(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	h := "stays." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))
	c := issued(t, h)

	err := k8s.Delete(ctx, z)
	require.Error(t, err)
	assert.True(t, apierrors.IsForbidden(err), "%v", err)
	assert.Contains(t, err.Error(), "1 DomainClaim(s) still use the zone ("+h+")")
	assert.Contains(t, err.Error(), "kubectl delete domainclaim "+h)
	require.NoError(t, k8s.Get(ctx, client.ObjectKeyFromObject(z), z), "the zone is still there")

	require.NoError(t, k8s.Delete(ctx, c))
	waitGone(t, h, 20*time.Second)
	awsHolds(t, z, nil, nil)
	require.Eventually(t, func() bool { return k8s.Delete(ctx, z) == nil }, 10*time.Second, 100*time.Millisecond,
		"once its claims are gone, the zone can go")
}

// conditionIn waits until the claim name in the cluster behind cl has condition typ with status.
func conditionIn(t *testing.T, cl client.Client, name, typ string, status metav1.ConditionStatus) *v1alpha1.DomainClaim {
	t.Helper()
	c := &v1alpha1.DomainClaim{}
	if !assert.Eventually(t, func() bool {
		return cl.Get(context.Background(), client.ObjectKey{Name: name}, c) == nil &&
			meta.IsStatusConditionPresentAndEqual(c.Status.Conditions, typ, status)
	}, 20*time.Second, 50*time.Millisecond, "claim %s never had %s=%s", name, typ, status) {
		t.Fatalf("claim %s has conditions %+v", name, c.Status.Conditions)
	}
	return c
}

func TestTwoClustersShareAZoneAndNeverTouchEachOthersRecordsOrCertificates(t *testing.T) {
	ctx := context.Background()
	other, err := testenv.Start(ctx, testenv.Options{NoManager: true})
	require.NoError(t, err)
	t.Cleanup(func() {
		other.AWS = nil // the AWS test server is the package's
		_ = other.Stop()
	})
	ours, err := clusterid.Derive(ctx, k8s)
	require.NoError(t, err)
	theirs, err := clusterid.Derive(ctx, other.Client)
	require.NoError(t, err)
	require.NotEqual(t, ours, theirs, "two clusters derive two IDs")
	other.AWS = env.AWS
	require.NoError(t, other.StartManager(ctx, testenv.Options{AWSRates: testRates, Cluster: theirs}))

	// One hosted zone, a ManagedZone for it in each cluster.
	z := newZone(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team", Labels: map[string]string{"tenant": "true"}}}
	require.NoError(t, other.Client.Create(ctx, ns))
	oz := &v1alpha1.ManagedZone{ObjectMeta: metav1.ObjectMeta{Name: z.Name}, Spec: *z.Spec.DeepCopy()}
	require.NoError(t, other.Client.Create(ctx, oz))
	require.Eventually(t, func() bool {
		return other.Manager.GetCache().Get(ctx, client.ObjectKeyFromObject(oz), &v1alpha1.ManagedZone{}) == nil
	}, 10*time.Second, 20*time.Millisecond)

	lb := func(cl client.Client, name, host string) {
		require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
			c := &v1alpha1.DomainClaim{}
			if err := cl.Get(ctx, client.ObjectKey{Name: name}, c); err != nil {
				return err
			}
			c.Status.LoadBalancerHostname, c.Status.LoadBalancerZoneID = host, "Z35SXDOTRQ7X7K"
			return cl.Status().Update(ctx, c)
		}))
	}
	mine := tenant(t)
	ourKept, ourGone := "a-kept."+z.Spec.Domain, "a-gone."+z.Spec.Domain
	theirKept, theirGone := "b-kept."+z.Spec.Domain, "b-gone."+z.Spec.Domain
	// The other cluster claims our name first, so its validation CNAME is the other cluster's
	// before we use it too.
	require.NoError(t, other.Client.Create(ctx, adminClaim(ourKept, ns.Name)))
	conditionIn(t, other.Client, ourKept, v1alpha1.ConditionValidationRecord, metav1.ConditionTrue)
	for _, h := range []string{ourKept, ourGone} {
		require.NoError(t, k8s.Create(ctx, adminClaim(h, mine)))
	}
	for _, h := range []string{theirKept, theirGone} {
		require.NoError(t, other.Client.Create(ctx, adminClaim(h, ns.Name)))
	}
	for _, h := range []string{ourKept, ourGone} {
		conditionIn(t, k8s, h, v1alpha1.ConditionCertificateIssued, metav1.ConditionTrue)
		lb(k8s, h, "ours.us-east-1.elb.amazonaws.com")
		conditionIn(t, k8s, h, v1alpha1.ConditionDNSRecord, metav1.ConditionTrue)
	}
	for _, h := range []string{theirKept, theirGone, ourKept} {
		conditionIn(t, other.Client, h, v1alpha1.ConditionCertificateIssued, metav1.ConditionTrue)
		lb(other.Client, h, "theirs.us-east-1.elb.amazonaws.com")
	}
	for _, h := range []string{theirKept, theirGone} {
		conditionIn(t, other.Client, h, v1alpha1.ConditionDNSRecord, metav1.ConditionTrue)
	}
	require.Eventually(t, func() bool {
		c := &v1alpha1.DomainClaim{}
		_ = other.Client.Get(ctx, client.ObjectKey{Name: ourKept}, c)
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord)
		return cond != nil && cond.Reason == v1alpha1.ReasonDNSConflict
	}, 20*time.Second, 50*time.Millisecond, "the other cluster's claim for our name finds our ALIAS and leaves it alone")

	for _, del := range []struct {
		cl   client.Client
		name string
	}{{k8s, ourGone}, {other.Client, theirGone}, {other.Client, ourKept}} {
		c := &v1alpha1.DomainClaim{}
		require.NoError(t, del.cl.Get(ctx, client.ObjectKey{Name: del.name}, c))
		require.NoError(t, del.cl.Delete(ctx, c))
	}
	for _, del := range []struct {
		cl   client.Client
		name string
	}{{k8s, ourGone}, {other.Client, theirGone}, {other.Client, ourKept}} {
		require.Eventually(t, func() bool {
			return apierrors.IsNotFound(del.cl.Get(ctx, client.ObjectKey{Name: del.name}, &v1alpha1.DomainClaim{}))
		}, 20*time.Second, 100*time.Millisecond, "claim %s is cleaned up", del.name)
	}

	records := append(validationRecords(ourKept), validationRecords(theirKept)...)
	for _, h := range []string{ourKept, theirKept} {
		records = append(records, "A "+h+".", "TXT "+dnsbatch.MarkerName(h, "A"))
	}
	awsHolds(t, z, []string{ourKept, theirKept}, records)
	cname, _ := awsfake.ValidationRecord(ourKept)
	for _, rs := range env.AWS.Route53.Records(z.Spec.HostedZoneID) {
		if rs.Name == dnsbatch.MarkerName(cname, "CNAME") {
			assert.Equal(t, []string{dnsbatch.MarkerValue("test")}, rs.Values, "the shared validation record is ours alone once they left it")
		}
		if rs.Name == ourKept+"." && rs.Type == "A" {
			assert.Equal(t, "ours.us-east-1.elb.amazonaws.com.", dnsbatch.Canonical(rs.Alias.DNSName), "our ALIAS still points at our ALB")
		}
		if rs.Name == dnsbatch.MarkerName(theirKept, "A") {
			assert.Equal(t, []string{dnsbatch.MarkerValue(theirs)}, rs.Values, "their marker names their cluster")
		}
	}
	for _, arn := range env.AWS.ACM.ForDomain(theirKept) {
		assert.Equal(t, theirs, env.AWS.ACM.Tags(arn)["gateway.opendi.com/cluster"])
	}
}

// expiryDays reads the certificate expiry metric of a claim, or -1.
func expiryDays(claim string) float64 {
	families, _ := crmetrics.Registry.Gather()
	for _, f := range families {
		if f.GetName() != "gateway_orchestrator_certificate_expiry_days" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "claim" && l.GetValue() == claim {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}

// testRates are the client-side rates of the package's manager (see TestMain).
var testRates = map[string]float64{"acm:RequestCertificate": 200, "acm:DescribeCertificate": 200, "acm:ListCertificates": 50, "acm:*": 200, "route53:*": 200}

// restartManager runs the package's manager with opts for the rest of the test, and with the
// package's options again afterwards.
func restartManager(ctx context.Context, t *testing.T, opts testenv.Options) {
	t.Helper()
	require.NoError(t, env.StopManager())
	require.NoError(t, env.StartManager(ctx, opts))
	t.Cleanup(func() {
		require.NoError(t, env.StopManager())
		require.NoError(t, env.StartManager(ctx, testenv.Options{AWSRates: testRates}))
	})
}

func TestRenewalShowsOnTheClaimAndInMetrics(t *testing.T) {
	ctx := context.Background()
	// A manager that reads renewal every second instead of every 12 hours, for this test only.
	restartManager(ctx, t, testenv.Options{AWSRates: testRates, RenewalCheck: time.Second})
	z := newZone(t)
	h := "renew." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))
	c := issued(t, h)

	renewal := func(reason string) *v1alpha1.DomainClaim {
		t.Helper()
		require.Eventually(t, func() bool {
			c, _ = getClaim(h)
			cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionRenewal)
			return cond != nil && cond.Reason == reason
		}, 20*time.Second, 100*time.Millisecond, "renewal condition never had reason %s", reason)
		return c
	}
	c = renewal(v1alpha1.ReasonNotInUse)
	assert.Contains(t, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionRenewal).Message, "ACM will not renew it")
	require.NotNil(t, c.Status.CertificateNotAfter)
	assert.InDelta(t, 395, time.Until(c.Status.CertificateNotAfter.Time).Hours()/24, 1, "Amazon-issued certificates are valid 395 days")
	assert.InDelta(t, 395, expiryDays(h), 1, "days to expiry in metrics")

	arn := c.Status.CertificateARN
	env.AWS.ACM.SetInUse(arn, []string{"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/1"})
	c = renewal("Renewable")
	assert.True(t, meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionRenewal))

	env.AWS.ACM.SetRenewal(arn, "FAILED", "CAA_ERROR")
	c = renewal(v1alpha1.ReasonRenewalFailed)
	assert.Equal(t, "FAILED", c.Status.RenewalStatus)
	assert.Contains(t, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionRenewal).Message, "CAA_ERROR")

	env.AWS.ACM.SetInUse(arn, nil)
	require.NoError(t, k8s.Delete(ctx, c))
	waitGone(t, h, 20*time.Second)
	assert.Equal(t, -1.0, expiryDays(h), "a deleted claim leaves no metric")
}

func TestAliasRecordDeletedBehindOurBackIsRepaired(t *testing.T) {
	ctx := context.Background()
	// A manager that reads hosted zones again every second instead of every 10 minutes.
	restartManager(ctx, t, testenv.Options{AWSRates: testRates, DNSRefresh: time.Second})
	z := newZone(t)
	h := "drift." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))
	issued(t, h)
	setLoadBalancer(t, h, "k8s-gw-3.us-east-1.elb.amazonaws.com", "Z35SXDOTRQ7X7K")
	waitCondition(t, h, v1alpha1.ConditionDNSRecord, metav1.ConditionTrue)
	want := append(validationRecords(h), "A "+h+".", "TXT "+dnsbatch.MarkerName(h, "A"))
	awsHolds(t, z, []string{h}, want)

	env.AWS.Route53.Remove(z.Spec.HostedZoneID, h, "A")
	require.Eventually(t, func() bool { return slices.Contains(recordNames(z.Spec.HostedZoneID), "A "+h+".") },
		20*time.Second, 100*time.Millisecond, "the ALIAS is put back")
	awsHolds(t, z, []string{h}, want)
	require.Eventually(t, func() bool {
		var evs eventsv1.EventList
		_ = k8s.List(ctx, &evs)
		for _, e := range evs.Items {
			if e.Regarding.Name == h && e.Reason == v1alpha1.EventDNSDrift {
				return true
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond, "an Event says so")
}

// fillACM requests one certificate in the AWS test server that no claim owns.
func fillACM(ctx context.Context, t *testing.T) {
	c := acm.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(env.AWS.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
	_, err := c.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("filler.quota.invalid"), ValidationMethod: acmtypes.ValidationMethodDns})
	require.NoError(t, err)
}
