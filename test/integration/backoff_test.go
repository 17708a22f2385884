package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/backoff"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

// scale shortens the production back-off (backoff.Default: 10 s doubling to 10 minutes) for the
// back-off tests: 1:100, so 10 s are 100 ms and 5 minutes are 3 s. The events that wake a claim
// (other reconcilers' status writes) are not scaled: they come as often as in a cluster, which
// only makes the test harder. Without the back-off (a 1 ms policy) the same test counts 70–110
// RequestCertificate calls where it allows 10.
const scale = 100

var scaledBackoff = backoff.Policy{Base: backoff.Default.Base / scale, Max: backoff.Default.Max / scale}

// TestBackoffOfPersistentAWSErrorsPerClaimWithOneWarningForItsOwners has the AWS test server
// refuse a claim's calls in the ways a quick retry cannot fix. For each: the claim's condition
// says why and until when; in (scaled) 5 minutes the claim makes at most 10 calls (5 with the
// policy), although events about it keep coming; and one Warning Event is on the claim and one
// on its route, not one per retry. Throttling is retried by the SDK for seconds within each call
// (up to 12 attempts), longer than the scaled 5 minutes, so its calls are not counted here.
func TestBackoffOfPersistentAWSErrorsPerClaimWithOneWarningForItsOwners(t *testing.T) {
	ctx := context.Background()
	restartManager(ctx, t, testenv.Options{AWSRates: testRates, Backoff: scaledBackoff})
	for _, tc := range []struct {
		name      string
		op        string // the refused call
		code      string // the AWS error code
		condition string // the step's condition
		reason    string // its reason, and the Event's
		count     bool   // count the calls
	}{
		{"IAM denies acm:RequestCertificate", "acm:RequestCertificate", "AccessDeniedException", v1alpha1.ConditionCertificateRequested, v1alpha1.ReasonAccessDenied, true},
		{"ACM rejects the request as invalid", "acm:RequestCertificate", "ValidationException", v1alpha1.ConditionCertificateRequested, v1alpha1.ReasonRequestRejected, true},
		{"ACM's quota is used up", "acm:RequestCertificate", "LimitExceededException", v1alpha1.ConditionCertificateRequested, v1alpha1.ReasonQuotaExceeded, true},
		{"ACM throttles beyond the SDK's retries", "acm:RequestCertificate", "ThrottlingException", v1alpha1.ConditionCertificateRequested, v1alpha1.ReasonThrottled, false},
		{"IAM denies route53:ChangeResourceRecordSets", "route53:ChangeResourceRecordSets", "AccessDenied", v1alpha1.ConditionValidationRecord, v1alpha1.ReasonAccessDenied, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.AWS.SetFault(tc.op, &awsfake.Fault{Code: tc.code})
			t.Cleanup(func() { env.AWS.SetFault(tc.op, nil) })
			z := newZone(t)
			ns := tenant(t)
			h := unique("refused") + "." + z.Spec.Domain
			r := route(ns, h)
			// This claim's calls only: the fault refuses every claim's, and a restarted manager
			// takes up the claims other tests left half-way (a request whose ARN was only in
			// the old manager's memory is sent again), each backing off on its own schedule.
			// A bystander, another namespace's claim in another zone refused at the same time,
			// stands for them; not beside a used-up quota, for which the whole account waits
			// (the bystander's calls would delay the claim's, by design).
			bz := newZone(t)
			bystander := unique("bystander") + "." + bz.Spec.Domain
			scope, bscope := h, bystander
			if strings.HasPrefix(tc.op, "route53:") {
				scope, bscope = z.Spec.HostedZoneID, bz.Spec.HostedZoneID
			}
			withBystander := tc.count && tc.reason != v1alpha1.ReasonQuotaExceeded
			before, beforeAll := env.AWS.CallsFor(tc.op, scope), env.AWS.Calls(tc.op)
			if withBystander {
				require.NoError(t, k8s.Create(ctx, route(tenant(t), bystander)))
			}
			require.NoError(t, k8s.Create(ctx, r))

			var cond *metav1.Condition
			require.Eventually(t, func() bool {
				c, err := getClaim(h)
				if err != nil {
					return false
				}
				cond = meta.FindStatusCondition(c.Status.Conditions, tc.condition)
				return cond != nil && cond.Reason == tc.reason
			}, 20*time.Second, 20*time.Millisecond, "the claim says why")
			assert.Contains(t, cond.Message, "backing off: next attempt at ", "and until when")
			assert.Equal(t, metav1.ConditionFalse, cond.Status)

			// The first refused call was at most a moment ago: count the calls of the next
			// (scaled) 5 minutes.
			time.Sleep(5 * time.Minute / scale)
			if tc.count {
				calls := env.AWS.CallsFor(tc.op, scope) - before
				t.Logf("%s: %d requests for this claim in (scaled) 5 minutes, %d from every claim", tc.op, calls, env.AWS.Calls(tc.op)-beforeAll)
				assert.GreaterOrEqual(t, calls, 3, "the claim does try again")
				assert.LessOrEqual(t, calls, 10, "at most 10 calls in 5 minutes (the policy allows 5)")
				if withBystander {
					assert.GreaterOrEqual(t, env.AWS.CallsFor(tc.op, bscope), 3, "the bystander's calls were refused meanwhile, and not counted")
				}
			}

			warnings := func(kind, name, namespace string) int {
				var evs eventsv1.EventList
				require.NoError(t, k8s.List(ctx, &evs, client.InNamespace(namespace)))
				n := 0
				for _, e := range evs.Items {
					if e.Regarding.Kind == kind && e.Regarding.Name == name && e.Reason == tc.reason && e.Type == "Warning" {
						n++
						assert.Contains(t, e.Note, "backing off", "the Event says the claim backs off")
					}
				}
				return n
			}
			assert.Eventually(t, func() bool { return warnings("HTTPRoute", r.Name, ns) > 0 }, 10*time.Second, 100*time.Millisecond, "the route's owners are told")
			assert.Eventually(t, func() bool { return warnings("DomainClaim", h, "default") > 0 }, 10*time.Second, 100*time.Millisecond, "the claim has the Event")
			// Each Event names the next attempt, so one per retry would be separate Events.
			assert.Equal(t, 1, warnings("HTTPRoute", r.Name, ns), "one Event per state change, not per retry")
			assert.Equal(t, 1, warnings("DomainClaim", h, "default"), "one Event per state change, not per retry")

			// Once AWS answers again, the claim goes on by itself within the longest wait so far.
			env.AWS.SetFault(tc.op, nil)
			issued(t, h)
			if strings.HasPrefix(tc.op, "acm:") {
				assert.Len(t, env.AWS.ACM.ForDomain(h), 1)
			}
		})
	}
}
