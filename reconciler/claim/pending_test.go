package claim

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

func TestAPendingMarkIsRemovedOnlyOnceItIsCertainlyStale(t *testing.T) {
	created := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		age       time.Duration
		wantStays bool
	}{
		{name: "a mark of a request that may still be running stays", age: 10 * time.Second, wantStays: true},
		{name: "a mark older than any admission request is removed", age: 2 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scheme := runtime.NewScheme()
			require.NoError(t, v1alpha1.AddToScheme(scheme))
			c := &v1alpha1.DomainClaim{
				ObjectMeta: metav1.ObjectMeta{Name: "wc--wildcard.w.example.com", CreationTimestamp: metav1.NewTime(created),
					Annotations: map[string]string{v1alpha1.AnnotationAdmissionPending: "true"}},
				Spec: v1alpha1.DomainClaimSpec{Hostname: "*.w.example.com", Namespace: "team-a", ClaimedBy: v1alpha1.ClaimedByRoute},
			}
			k := fake.NewClientBuilder().WithScheme(scheme).WithObjects(c).Build()
			r := &Reconciler{Client: k, Clock: clocktesting.NewFakePassiveClock(created.Add(tc.age))}

			res, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKeyFromObject(c)})

			require.NoError(t, err)
			got := &v1alpha1.DomainClaim{}
			require.NoError(t, k.Get(context.Background(), client.ObjectKeyFromObject(c), got))
			if tc.wantStays {
				assert.Equal(t, "true", got.Annotations[v1alpha1.AnnotationAdmissionPending])
				assert.Equal(t, pendingHorizon-tc.age, res.RequeueAfter, "looked at again when the mark would be stale")
				return
			}
			assert.Empty(t, got.Annotations[v1alpha1.AnnotationAdmissionPending])
		})
	}
}
