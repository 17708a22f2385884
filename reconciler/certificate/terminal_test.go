package certificate

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/claimstatus"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// A hostname too long for ACM can never get a certificate (a claim's hostname never changes):
// the claim says so at once, no ACM call is made, and the error is terminal, so the work queue
// does not retry it.
func TestAHostnameTooLongForACMIsATerminalError(t *testing.T) {
	h := strings.Repeat("a", ownership.MaxCertificateName) + ".example.com"
	c := &v1alpha1.DomainClaim{
		ObjectMeta: metav1.ObjectMeta{Name: h, UID: "uid-long", Generation: 1, Finalizers: []string{v1alpha1.FinalizerAWSCleanup}},
		Spec:       v1alpha1.DomainClaimSpec{Hostname: h, Namespace: "team"},
		Status: v1alpha1.DomainClaimStatus{Conditions: []metav1.Condition{
			{Type: v1alpha1.ConditionClaimed, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonClaimed, LastTransitionTime: metav1.Now()},
			{Type: v1alpha1.ConditionBound, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonProvisionAlways, LastTransitionTime: metav1.Now()},
		}},
	}
	acm := &deletingACM{} // any ACM call but DeleteCertificate panics; this one must not be made either
	var managers []string
	r := finalizing(t, c, acm, interceptor.Funcs{SubResourceApply: func(ctx context.Context, cl client.Client, sub string, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
		managers = append(managers, (&client.SubResourceApplyOptions{}).ApplyOpts(opts).FieldManager)
		return cl.SubResource(sub).Apply(ctx, obj, opts...)
	}})

	res, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKey{Name: h}})
	require.Error(t, err)
	require.ErrorIs(t, err, reconcile.TerminalError(nil), "retrying cannot make the hostname shorter")
	assert.Zero(t, res)
	assert.Empty(t, acm.deletes)

	got := &v1alpha1.DomainClaim{}
	require.NoError(t, r.Client.Get(context.Background(), client.ObjectKey{Name: h}, got))
	cond := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionCertificateRequested)
	require.NotNil(t, cond, "the failure is written at once, quiet period or not")
	assert.Equal(t, metav1.ConditionFalse, cond.Status)
	assert.Equal(t, v1alpha1.ReasonHostnameTooLong, cond.Reason)
	assert.Contains(t, cond.Message, "at most 64 characters")
	assert.Empty(t, got.Status.CertificateARN)
	assert.Equal(t, []string{claimstatus.Certificate.Manager}, managers, "one apply, under the certificate reconciler's field manager")

	// Looked at again (any change of the claim wakes it): nothing new to say, nothing written.
	_, err = r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKey{Name: h}})
	require.ErrorIs(t, err, reconcile.TerminalError(nil))
	assert.Len(t, managers, 1)
}
