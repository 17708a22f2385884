package certificate

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/claimstatus"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// failedClaim is a claim made two hours ago (past ACM's idempotency hour, so a certificate lost
// in a crash is found by its tags) at the given attempt.
func failedClaim(attempt int32) *v1alpha1.DomainClaim {
	return &v1alpha1.DomainClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "shop.example.com", UID: uuid.NewUUID(), Generation: 1,
			CreationTimestamp: metav1.NewTime(time.Now().Add(-2 * time.Hour))},
		Spec:   v1alpha1.DomainClaimSpec{Hostname: "shop.example.com", Namespace: "team"},
		Status: v1alpha1.DomainClaimStatus{CertificateAttempt: attempt},
	}
}

// requestTagged requests a certificate for the claim as the attempt would, with the given
// cluster tag, straight from ACM (what a process did before it crashed).
func requestTagged(t *testing.T, c *acm.Client, claim *v1alpha1.DomainClaim, attempt int32, cluster string) string {
	t.Helper()
	tags := []acmtypes.Tag{
		{Key: aws.String(v1alpha1.TagClaim), Value: aws.String(claim.Name)},
		{Key: aws.String(v1alpha1.TagClaimUID), Value: aws.String(string(claim.UID))},
		{Key: aws.String(v1alpha1.TagCluster), Value: aws.String(cluster)},
	}
	if attempt > 0 {
		tags = append(tags, acmtypes.Tag{Key: aws.String(v1alpha1.TagCertificateAttempt), Value: aws.String(strconv.Itoa(int(attempt)))})
	}
	out, err := c.RequestCertificate(context.Background(), &acm.RequestCertificateInput{DomainName: aws.String(claim.Spec.Hostname),
		ValidationMethod: acmtypes.ValidationMethodDns, IdempotencyToken: aws.String(attemptToken(string(claim.UID)+cluster, attempt)), Tags: tags})
	require.NoError(t, err)
	return aws.ToString(out.CertificateArn)
}

// TestAfterACrashTheAttemptsCertificateIsFoundByItsTagsAndOlderOnesGo: a process requested the
// certificate of attempt 3 and crashed before it wrote the ARN, an hour and more ago; attempts 1
// and 2 left certificates behind too (a crash between the status write and the delete is not
// possible, but a certificate made by hand with our tags, or by an older version, may be). The
// certificate of attempt 3 is adopted and nothing is requested; the older attempts' are deleted;
// another cluster's certificate for the same claim stays. Real ACM client against the AWS test
// server.
func TestAfterACrashTheAttemptsCertificateIsFoundByItsTagsAndOlderOnesGo(t *testing.T) {
	s, acmClient, b := realAWS(t)
	c := failedClaim(3)
	first := requestTagged(t, acmClient, c, 0, "test")
	second := requestTagged(t, acmClient, c, 2, "test")
	inFlight := requestTagged(t, acmClient, c, 3, "test")
	theirs := requestTagged(t, acmClient, c, 1, "other-cluster")
	requests := s.ACM.Requests(c.Spec.Hostname)

	r := &Reconciler{ACM: acmClient, DNS: b, Poller: &Poller{}, Requester: &Requester{}, Cluster: "test",
		Clock: clocktesting.NewFakePassiveClock(time.Now()), Recorder: events.NewFakeRecorder(10)}
	arn, fresh, err := r.request(context.Background(), c)
	require.NoError(t, err)
	assert.Equal(t, inFlight, arn, "the attempt's certificate is found by its tags")
	assert.False(t, fresh)
	assert.Equal(t, requests, s.ACM.Requests(c.Spec.Hostname), "nothing is requested")
	assert.Empty(t, s.ACM.Status(first), "attempt 1's certificate is deleted")
	assert.Empty(t, s.ACM.Status(second), "attempt 2's certificate is deleted")
	assert.NotEmpty(t, s.ACM.Status(theirs), "another cluster's certificate is never touched")
}

// TestARetryDeletesOnlyItsOwnFailedCertificate: the retry deletes the failed certificate when
// its tags name the claim and cluster, moves on when it is gone already (a crash after the
// delete), and leaves one tagged for another cluster in ACM; each time the claim moves to its
// next attempt, and says so.
func TestARetryDeletesOnlyItsOwnFailedCertificate(t *testing.T) {
	for name, tc := range map[string]struct {
		cluster   string
		deleted   bool
		wantGone  bool
		wantWords string
	}{
		"ours is deleted":                     {cluster: "test", wantGone: true, wantWords: "it was deleted"},
		"gone already (a crash after delete)": {cluster: "test", deleted: true, wantGone: true, wantWords: "it was deleted"},
		"another cluster's stays":             {cluster: "other-cluster", wantWords: "not tagged for this claim and cluster"},
	} {
		t.Run(name, func(t *testing.T) {
			s, acmClient, b := realAWS(t)
			c := failedClaim(0)
			arn := requestTagged(t, acmClient, c, 0, tc.cluster)
			s.ACM.Fail(arn, "FAILED", "CAA_ERROR")
			if tc.deleted {
				_, err := acmClient.DeleteCertificate(context.Background(), &acm.DeleteCertificateInput{CertificateArn: aws.String(arn)})
				require.NoError(t, err)
			}
			c.Status.CertificateARN = arn
			at := metav1.NewTime(time.Now().Add(-time.Second))
			c.Status.CertificateRetryTime = &at
			r := &Reconciler{ACM: acmClient, DNS: b, Poller: &Poller{}, Requester: &Requester{}, Cluster: "test",
				Clock: clocktesting.NewFakePassiveClock(time.Now()), Recorder: events.NewFakeRecorder(10)}
			st := c.Status.DeepCopy()
			res, err := r.retry(context.Background(), c, st, "ACM failed it")
			require.NoError(t, err)
			assert.Positive(t, res.RequeueAfter, "the next attempt is requested once its number is written")
			assert.Equal(t, tc.wantGone, s.ACM.Status(arn) == "")
			assert.Equal(t, int32(1), st.CertificateAttempt)
			assert.Empty(t, st.CertificateARN)
			assert.Nil(t, st.CertificateRetryTime)
			cond := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionCertificateRequested)
			require.NotNil(t, cond)
			assert.Equal(t, v1alpha1.ReasonRetrying, cond.Reason)
			assert.Contains(t, cond.Message, tc.wantWords)
			assert.Contains(t, cond.Message, "requesting attempt 2")
			assert.True(t, r.cacheBehind(c), "the cache's copy of attempt 1 is not acted on")
		})
	}
}

// TestAFailedCertificateIsReplacedWhenItsBackOffEnds reconciles a claim whose certificate ACM
// failed, with the next attempt recorded for later: before that time the certificate is kept
// and nothing is requested; once it comes, the certificate is deleted and the next attempt's
// number written, then requested with its own token and tag. Real ACM client against the AWS
// test server, fake clock.
func TestAFailedCertificateIsReplacedWhenItsBackOffEnds(t *testing.T) {
	ctx := context.Background()
	s, acmClient, b := realAWS(t)
	c := failedClaim(0)
	c.CreationTimestamp = metav1.Now()
	c.Finalizers = []string{v1alpha1.FinalizerAWSCleanup}
	failed := requestTagged(t, acmClient, c, 0, "test")
	s.ACM.Fail(failed, "FAILED", "CAA_ERROR")
	name, value := awsfake.ValidationRecord(c.Spec.Hostname)
	now := time.Now()
	due := metav1.NewTime(now.Add(15 * time.Minute).Truncate(time.Second))
	c.Status = v1alpha1.DomainClaimStatus{Conditions: []metav1.Condition{
		{Type: v1alpha1.ConditionClaimed, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonClaimed, LastTransitionTime: metav1.Now()},
		{Type: v1alpha1.ConditionBound, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonProvisionAlways, LastTransitionTime: metav1.Now()},
	}}
	r := finalizing(t, c, nil)
	// What the reconciler wrote when ACM failed the certificate, under its own field manager.
	st := c.Status.DeepCopy()
	st.CertificateARN, st.CertificateRetryTime = failed, &due
	st.ValidationRecord = &v1alpha1.ValidationRecord{Name: name, Type: "CNAME", Value: value}
	st.Conditions = append(st.Conditions, metav1.Condition{Type: v1alpha1.ConditionCertificateIssued, Status: metav1.ConditionFalse,
		Reason: "FAILED", Message: "CAA_ERROR", LastTransitionTime: metav1.Now()})
	_, err := (&claimstatus.Writes{}).Apply(ctx, r.Client, claimstatus.Certificate, c, st)
	require.NoError(t, err)
	r.ACM, r.DNS, r.Cluster = acmClient, b, "test"
	clk := clocktesting.NewFakePassiveClock(now)
	r.Clock = clk
	r.Requester = &Requester{ACM: acmClient, Notify: func(string) {}}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = r.Requester.Start(rctx) }()
	reconcileOnce := func() *v1alpha1.DomainClaim {
		_, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: client.ObjectKey{Name: c.Name}})
		require.NoError(t, err)
		got := &v1alpha1.DomainClaim{}
		require.NoError(t, r.Client.Get(ctx, client.ObjectKey{Name: c.Name}, got))
		return got
	}

	clk.SetTime(now.Add(14 * time.Minute))
	got := reconcileOnce()
	assert.Equal(t, failed, got.Status.CertificateARN, "kept until its back-off ends")
	assert.Equal(t, []string{failed}, s.ACM.ForDomain(c.Spec.Hostname))

	clk.SetTime(due.Time)
	got = reconcileOnce()
	assert.Equal(t, int32(1), got.Status.CertificateAttempt, "the next attempt is written before its request")
	assert.Empty(t, got.Status.CertificateARN)
	assert.Empty(t, s.ACM.ForDomain(c.Spec.Hostname), "the failed certificate is deleted")
	assert.Equal(t, v1alpha1.ReasonRetrying, meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionCertificateRequested).Reason)

	var arns []string
	require.Eventually(t, func() bool {
		reconcileOnce()
		arns = s.ACM.ForDomain(c.Spec.Hostname)
		return len(arns) == 1
	}, 5*time.Second, 20*time.Millisecond, "the next attempt is requested")
	assert.Equal(t, "1", s.ACM.Tags(arns[0])[v1alpha1.TagCertificateAttempt])
	assert.Equal(t, 2, s.ACM.Requests(c.Spec.Hostname), "one request per attempt")
}
