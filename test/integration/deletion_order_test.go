package integration

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// deletionWatch samples, every few milliseconds, what a user of the hostname depends on while
// its claim is deleted: the ALIAS record in Route53, the certificate on the ALB's listener (as
// the LBC stand-in put it there) and the certificate in ACM, and the claim's DNSRecordReady.
type deletionWatch struct {
	mu sync.Mutex
	// first time each was seen gone (zero: not yet).
	aliasGone, listenerGone, acmGone, claimGone time.Time
	// recordsRemoved is when the claim first said DNSRecordReady=False/RecordsRemoved.
	recordsRemoved time.Time
	// violations counts the samples that broke the order, by what they saw.
	violations map[string]int
}

func (w *deletionWatch) sample(c *v1alpha1.DomainClaim, zoneID string) {
	now := time.Now()
	// The claim is read first: what it says then must already be true in AWS when read after.
	got, err := getClaim(c.Name)
	alias := false
	for _, rs := range env.AWS.Route53.Records(zoneID) {
		if rs.Name == c.Spec.Hostname+"." && (rs.Type == "A" || rs.Type == "AAAA") {
			alias = true
		}
	}
	onListener := false
	for _, arn := range listenerCertificates(*c.Status.Gateway) {
		onListener = onListener || arn == c.Status.CertificateARN
	}
	inACM := env.AWS.ACM.Status(c.Status.CertificateARN) != ""

	w.mu.Lock()
	defer w.mu.Unlock()
	mark := func(t *time.Time, gone bool) {
		if gone && t.IsZero() {
			*t = now
		}
	}
	mark(&w.aliasGone, !alias)
	mark(&w.listenerGone, !onListener)
	mark(&w.acmGone, !inACM)
	mark(&w.claimGone, apierrors.IsNotFound(err))
	if err == nil {
		if cond := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionDNSRecord); cond != nil && cond.Reason == v1alpha1.ReasonRecordsRemoved {
			mark(&w.recordsRemoved, true)
		}
	}
	if w.violations == nil {
		w.violations = map[string]int{}
	}
	if alias && !onListener {
		w.violations["the ALIAS still pointed at the ALB after the certificate left its listener"]++
	}
	if onListener && !inACM {
		w.violations["the certificate was deleted from ACM while on a listener"]++
	}
}

func TestDeletingAClaimRemovesTheAliasBeforeTheCertificateLeavesTheListener(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	h := "order." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(tenant(t), h)))
	c := ready(t, h, 60*time.Second)
	require.NotNil(t, c.Status.Gateway)
	require.Eventually(t, func() bool {
		for _, arn := range listenerCertificates(*c.Status.Gateway) {
			if arn == c.Status.CertificateARN {
				return true
			}
		}
		return false
	}, 20*time.Second, 50*time.Millisecond, "the certificate reaches the ALB's listener")

	w := &deletionWatch{}
	w.sample(c, z.Spec.HostedZoneID)
	require.Empty(t, w.violations)
	require.True(t, w.aliasGone.IsZero() && w.listenerGone.IsZero() && w.acmGone.IsZero(), "served before the deletion: %+v", w)

	// Route53 takes its time with the deletion, as it may: the ALIAS stays up meanwhile, and
	// the certificate must stay on the listener as long.
	env.AWS.SetFault("route53:ChangeResourceRecordSets", &awsfake.Fault{Latency: 2 * time.Second})
	t.Cleanup(func() { env.AWS.SetFault("route53:ChangeResourceRecordSets", nil) })
	require.NoError(t, k8s.Delete(ctx, c))
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		w.sample(c, z.Spec.HostedZoneID)
		if !w.claimGone.IsZero() {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	require.False(t, w.claimGone.IsZero(), "the claim is gone in time: %+v", w)
	assert.Empty(t, w.violations)
	require.False(t, w.aliasGone.IsZero() || w.listenerGone.IsZero() || w.acmGone.IsZero(), "everything is gone: %+v", w)
	require.False(t, w.recordsRemoved.IsZero(), "the claim said RecordsRemoved before it went")
	assert.False(t, w.recordsRemoved.Before(w.aliasGone), "RecordsRemoved is said once the ALIAS is gone from Route53")
	assert.False(t, w.listenerGone.Before(w.recordsRemoved), "the certificate leaves the listener after RecordsRemoved")
	assert.False(t, w.acmGone.Before(w.listenerGone), "ACM deletes the certificate after it left the listener")
	assert.False(t, w.claimGone.Before(w.acmGone), "the claim goes last")
}
