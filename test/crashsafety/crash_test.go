// Package crashsafety stops the orchestrator at each step boundary of a claim's reconciliation,
// as a crash would, and restarts it: no second certificate, no orphaned record, and the same end
// state. It has its own control plane because it stops and moves the clock of its manager.
package crashsafety

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
	"github.com/opendi/gateway-orchestrator/test/builders"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

var (
	env  *testenv.Env
	clk  = &testenv.Clock{}
	opts testenv.Options
	k8s  client.Client
)

func TestMain(m *testing.M) {
	opts = testenv.Options{AWS: &awsfake.Options{Clock: clk}}
	opts.App.Clock = clk
	os.Exit(testenv.Run(m, opts, func(e *testenv.Env) { env, k8s = e, e.Client }))
}

// claim is an admin's claim that provisions at once.
func claim(h, ns string) *v1alpha1.DomainClaim {
	return builders.AdminClaim(h, ns, builders.ProvisionAlways)
}

// setup creates a zone with its hosted zone and an allowed namespace.
func setup(t *testing.T) (domain, zoneID, ns string) {
	ctx := context.Background()
	name := builders.Unique("crash")
	domain = name + ".example.com"
	zoneID = env.AWS.Route53.AddZone(domain)
	ns = builders.Unique("team")
	require.NoError(t, k8s.Create(ctx, builders.Namespace(ns, nil)))
	zone := builders.Zone(name, builders.Hosted(zoneID), builders.AllowNamespaces(ns))
	require.NoError(t, k8s.Create(ctx, zone))
	require.NoError(t, env.WaitForCache(zone, 10*time.Second))
	return domain, zoneID, ns
}

// crash stops the manager the moment op has been called n times in all, and starts a new one
// after prepare has run.
func crash(t *testing.T, op string, n int, prepare func()) {
	t.Helper()
	require.Eventually(t, func() bool { return env.AWS.Calls(op) >= n }, 20*time.Second, time.Millisecond, "%s never called", op)
	require.NoError(t, env.StopManager())
	if prepare != nil {
		prepare()
	}
	require.NoError(t, env.StartManager(context.Background(), opts))
}

func waitIssued(t *testing.T, h string) *v1alpha1.DomainClaim {
	t.Helper()
	var c v1alpha1.DomainClaim
	require.Eventually(t, func() bool {
		return k8s.Get(context.Background(), client.ObjectKey{Name: h}, &c) == nil &&
			meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionCertificateIssued)
	}, 30*time.Second, 50*time.Millisecond, "claim %s never got an issued certificate", h)
	return &c
}

func records(zoneID string) []string {
	var out []string
	for _, rs := range env.AWS.Route53.Records(zoneID) {
		out = append(out, rs.Type+" "+rs.Name)
	}
	return out
}

func TestCrashAtEachStepBoundary(t *testing.T) {
	steps := []struct {
		name string
		op   string
		// hold keeps the claim from getting past the boundary before the crash.
		hold func(string)
	}{
		{name: "after RequestCertificate returned, before status was written", op: "acm:RequestCertificate",
			hold: func(string) { env.AWS.SetFault("acm:DescribeCertificate", &awsfake.Fault{Code: "ValidationException"}) }},
		{name: "after the validation record's Route53 batch", op: "route53:ChangeResourceRecordSets"},
		{name: "while waiting for issuance", op: "acm:ListCertificates",
			hold: func(h string) { env.AWS.ACM.Hold(h) }},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			domain, zoneID, ns := setup(t)
			h := "app." + domain
			if step.hold != nil {
				step.hold(h)
			}
			before := env.AWS.Calls(step.op)
			require.NoError(t, k8s.Create(context.Background(), claim(h, ns)))
			crash(t, step.op, before+1, func() {
				env.AWS.SetFault("acm:DescribeCertificate", nil)
				env.AWS.ACM.Release(h)
			})
			c := waitIssued(t, h)
			certs := env.AWS.ACM.ForDomain(h)
			require.Len(t, certs, 1, "no second certificate")
			assert.Equal(t, certs[0], c.Status.CertificateARN)
			name, _ := awsfake.ValidationRecord(h)
			assert.ElementsMatch(t, []string{"CNAME " + name, "TXT " + dnsbatch.MarkerName(name, "CNAME")}, records(zoneID), "no orphaned or duplicated record")
		})
	}
}

func TestCrashPastTheIdempotencyTokensHourAdoptsTheTaggedCertificate(t *testing.T) {
	domain, zoneID, ns := setup(t)
	h := "late." + domain
	env.AWS.SetFault("acm:DescribeCertificate", &awsfake.Fault{Code: "ValidationException"})
	before := env.AWS.Calls("acm:RequestCertificate")
	require.NoError(t, k8s.Create(context.Background(), claim(h, ns)))
	crash(t, "acm:RequestCertificate", before+1, func() {
		env.AWS.SetFault("acm:DescribeCertificate", nil)
		clk.Advance(2 * time.Hour) // ACM forgets the token after one hour
	})
	c := waitIssued(t, h)
	certs := env.AWS.ACM.ForDomain(h)
	require.Len(t, certs, 1, "the certificate tagged for the claim is adopted, not requested again")
	assert.Positive(t, env.AWS.Calls("acm:ListTagsForCertificate"), "adoption looked for the claim's tags")
	assert.Equal(t, certs[0], c.Status.CertificateARN)
	assert.Len(t, env.AWS.Route53.Records(zoneID), 2)
}

func TestCrashDuringDeletionLeavesNothingBehind(t *testing.T) {
	domain, zoneID, ns := setup(t)
	h := "bye." + domain
	require.NoError(t, k8s.Create(context.Background(), claim(h, ns)))
	c := waitIssued(t, h)
	before := env.AWS.Calls("acm:DeleteCertificate")
	require.NoError(t, k8s.Delete(context.Background(), c))
	crash(t, "acm:DeleteCertificate", before+1, nil)
	require.Eventually(t, func() bool {
		return k8s.Get(context.Background(), client.ObjectKey{Name: h}, &v1alpha1.DomainClaim{}) != nil
	}, 30*time.Second, 50*time.Millisecond, "the claim is released")
	assert.Empty(t, env.AWS.ACM.ForDomain(h))
	assert.Empty(t, env.AWS.Route53.Records(zoneID))
}
