package certificate

import (
	"context"
	"sync"
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
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// TestAClaimWaitingForIssuanceSaysThatIAMDeniesThePoll: while IAM denies the poller's
// acm:ListCertificates, no pending certificate's status can be read. The waiting claim's
// CertificateIssued says so (AccessDenied, naming the action) instead of that ACM is still
// validating, and says Pending again once the poll is allowed; the poller wakes it both times.
// Real ACM and Route53 clients against the AWS test server.
func TestAClaimWaitingForIssuanceSaysThatIAMDeniesThePoll(t *testing.T) {
	ctx := context.Background()
	s, acmClient, b := realAWS(t)
	const h = "shop.example.com"
	s.ACM.Hold(h) // pending validation throughout
	out, err := acmClient.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String(h), ValidationMethod: acmtypes.ValidationMethodDns})
	require.NoError(t, err)
	certARN := aws.ToString(out.CertificateArn)
	name, value := awsfake.ValidationRecord(h)
	now := metav1.Now()
	c := &v1alpha1.DomainClaim{
		ObjectMeta: metav1.ObjectMeta{Name: h, UID: uuid.NewUUID(), Generation: 1, Finalizers: []string{v1alpha1.FinalizerAWSCleanup},
			CreationTimestamp: metav1.NewTime(now.Add(-2 * time.Minute))}, // past the quiet period
		Spec: v1alpha1.DomainClaimSpec{Hostname: h, Namespace: "team"},
		Status: v1alpha1.DomainClaimStatus{CertificateARN: certARN, ValidationRecord: &v1alpha1.ValidationRecord{Name: name, Type: "CNAME", Value: value},
			Conditions: []metav1.Condition{
				{Type: v1alpha1.ConditionClaimed, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonClaimed, LastTransitionTime: now},
				{Type: v1alpha1.ConditionBound, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonObjectExists, LastTransitionTime: now},
			}},
	}

	var mu sync.Mutex
	var woken []string
	p := &Poller{ACM: acmClient, Notify: func(owner string) { mu.Lock(); defer mu.Unlock(); woken = append(woken, owner) }}
	wakes := func() int { mu.Lock(); defer mu.Unlock(); return len(woken) }
	r := finalizing(t, c, nil)
	r.ACM, r.DNS, r.Poller = acmClient, b, p

	issued := func() *metav1.Condition {
		t.Helper()
		_, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: client.ObjectKey{Name: h}})
		require.NoError(t, err)
		got := &v1alpha1.DomainClaim{}
		require.NoError(t, r.Client.Get(ctx, client.ObjectKey{Name: h}, got))
		return meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionCertificateIssued)
	}
	require.Eventually(t, func() bool { return issued() != nil }, 5*time.Second, 20*time.Millisecond, "the validation record is written, issuance awaited")
	assert.Equal(t, v1alpha1.ReasonPending, issued().Reason)

	s.SetFault("acm:ListCertificates", &awsfake.Fault{Deny: true})
	p.poll(ctx)
	assert.Equal(t, 1, wakes(), "the waiting claim is woken when the denial begins")
	p.poll(ctx)
	assert.Equal(t, 1, wakes(), "and not again while it lasts")
	cond := issued()
	assert.Equal(t, v1alpha1.ReasonAccessDenied, cond.Reason)
	assert.Contains(t, cond.Message, "missing AWS permission for acm:ListCertificates")

	s.SetFault("acm:ListCertificates", nil)
	p.poll(ctx)
	assert.Equal(t, 2, wakes(), "and when it ends")
	assert.Equal(t, v1alpha1.ReasonPending, issued().Reason, "the claim waits for ACM again")
}
