package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/cmd/gateway-orchestrator/app"
	"github.com/opendi/gateway-orchestrator/internal/claimstatus"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

// claimWrites records every version of the claim named name from now on: each create, update,
// patch or apply that changed it is one event of a watch. Stop ends the watch and returns them,
// one line each: the field manager's conditions, as "Type=Status/Reason".
func claimWrites(ctx context.Context, t *testing.T, name string) (stop func() []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: app.NewScheme()})
	require.NoError(t, err)
	w, err := wc.Watch(ctx, &v1alpha1.DomainClaimList{}, client.MatchingFields{"metadata.name": name})
	require.NoError(t, err)
	done := make(chan []string, 1)
	go func() {
		var seen []string
		var before []metav1.Condition
		for ev := range w.ResultChan() {
			c, ok := ev.Object.(*v1alpha1.DomainClaim)
			if !ok || ev.Type == watch.Bookmark {
				continue
			}
			var changed []string
			for _, cond := range c.Status.Conditions {
				if was := meta.FindStatusCondition(before, cond.Type); was == nil || was.Status != cond.Status || was.Reason != cond.Reason {
					changed = append(changed, fmt.Sprintf("%s=%s/%s", cond.Type, cond.Status, cond.Reason))
				}
			}
			before = c.Status.Conditions
			seen = append(seen, string(ev.Type)+" "+strings.Join(changed, " "))
		}
		done <- seen
	}()
	return func() []string {
		cancel()
		w.Stop()
		return <-done
	}
}

func TestARouteHostnameReachesReadyInSixWritesAndAFailureIsWrittenAtOnce(t *testing.T) {
	ctx := context.Background()
	// The quiet period a cluster has: the test runs well within it.
	restartManager(ctx, t, testenv.Options{AWSRates: testRates, QuietPeriod: claimstatus.DefaultQuietPeriod})

	t.Run("six writes from the route's create to Ready", func(t *testing.T) {
		z, _ := servedZone(t)
		h := "six." + z.Spec.Domain
		stop := claimWrites(ctx, t, h)
		require.NoError(t, k8s.Create(ctx, route(tenant(t), h)))
		c := ready(t, h, 45*time.Second)
		require.Less(t, time.Since(c.CreationTimestamp.Time), claimstatus.DefaultQuietPeriod, "Ready within the quiet period, as most claims are")
		// Whatever comes right after Ready is counted too.
		assert.Never(t, func() bool {
			got, err := getClaim(h)
			return err != nil || got.ResourceVersion != c.ResourceVersion
		}, 2*time.Second, 100*time.Millisecond, "nothing is written once the claim is Ready")
		writes := stop()
		assert.Len(t, writes, 6, "the create, then one apply each by claim, certificate, gatewaypool, dns and readiness:\n%s", strings.Join(writes, "\n"))
		for _, w := range writes[1:] {
			assert.NotContains(t, w, "/"+v1alpha1.ReasonPending, "no step is written only to say it is on its way: %s", w)
		}
	})

	t.Run("an ACM failure in the quiet period is written at once", func(t *testing.T) {
		z := newZone(t)
		h := "refused." + z.Spec.Domain
		env.AWS.ACM.Hold(h)
		defer env.AWS.ACM.Release(h)
		require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))
		var arns []string
		require.Eventually(t, func() bool {
			arns = env.AWS.ACM.ForDomain(h)
			return len(arns) == 1
		}, 15*time.Second, 50*time.Millisecond, "a certificate is requested")
		require.Never(t, func() bool {
			got, err := getClaim(h)
			return err != nil || meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionCertificateRequested) != nil ||
				meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady) != nil
		}, 2*time.Second, 100*time.Millisecond, "a certificate on its way is not written in the quiet period, nor is Ready")

		env.AWS.ACM.Fail(arns[0], "FAILED", "CAA_ERROR")
		require.Eventually(t, func() bool {
			got, err := getClaim(h)
			if err != nil {
				return false
			}
			issued := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionCertificateIssued)
			ready := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady)
			return issued != nil && issued.Reason == "FAILED" && got.Status.CertificateARN == arns[0] && got.Status.ValidationRecord != nil &&
				ready != nil && ready.Reason == "FAILED"
		}, 10*time.Second, 50*time.Millisecond, "the failure, the ARN and its record are written at once, and Ready says why")
		c, err := getClaim(h)
		require.NoError(t, err)
		assert.Less(t, time.Since(c.CreationTimestamp.Time), claimstatus.DefaultQuietPeriod, "within the quiet period")
	})
}

func TestAClaimStillWaitingAfterItsQuietPeriodSaysWhatFor(t *testing.T) {
	ctx := context.Background()
	const quiet = 3 * time.Second
	restartManager(ctx, t, testenv.Options{AWSRates: testRates, QuietPeriod: quiet})
	z := newZone(t)
	h := "slow." + z.Spec.Domain
	env.AWS.ACM.Hold(h)
	defer env.AWS.ACM.Release(h)
	require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))

	var c *v1alpha1.DomainClaim
	require.Eventually(t, func() bool {
		var err error
		c, err = getClaim(h)
		if err != nil {
			return false
		}
		issued := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionCertificateIssued)
		ready := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionReady)
		return issued != nil && issued.Reason == v1alpha1.ReasonPending && ready != nil && ready.Reason == v1alpha1.ReasonPending
	}, 15*time.Second, 100*time.Millisecond, "past its quiet period a waiting claim says what it waits for")
	ready := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionReady)
	assert.Equal(t, metav1.ConditionFalse, ready.Status)
	assert.Contains(t, ready.Message, v1alpha1.ConditionCertificateIssued+": ", "Ready names the step it waits for")
	assert.GreaterOrEqual(t, ready.LastTransitionTime.Sub(c.CreationTimestamp.Time), quiet-time.Second, "not before the quiet period ended")
	assert.NotEmpty(t, c.Status.CertificateARN, "with the certificate an admin can look up")
}
