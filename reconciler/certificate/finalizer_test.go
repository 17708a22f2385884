package certificate

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// TestAFinalizerThatMovedUnderTheRemovalIsNoError: the claim's finalizers changed between the
// read and the patch (another controller removed its own one), so the patch's test operation
// fails. That is not an error to log: the claim is read again a second later, and that
// reconcile removes the finalizer from where it is now.
func TestAFinalizerThatMovedUnderTheRemovalIsNoError(t *testing.T) {
	scheme := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(scheme))
	live := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: "shop.example.com", UID: "uid-1",
		Finalizers: []string{"example.com/other", v1alpha1.FinalizerAWSCleanup}}}
	// The fake client answers a failed test operation with the JSON patch library's own error;
	// the API server answers it 422 Unprocessable Entity (its JSON patch handler's
	// NewGenericServerResponse), which is what the reconciler sees.
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(live).WithInterceptorFuncs(interceptor.Funcs{
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			err := c.Patch(ctx, obj, patch, opts...)
			if err != nil && patch.Type() == types.JSONPatchType && apierrors.ReasonForError(err) == metav1.StatusReasonUnknown {
				return apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schema.GroupResource{}, "", err.Error(), 0, false)
			}
			return err
		},
	}).Build()
	ctx := context.Background()

	stale := live.DeepCopy()
	// Another controller removes its finalizer: ours moves from index 1 to 0.
	now := &v1alpha1.DomainClaim{}
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(live), now))
	now.Finalizers = []string{v1alpha1.FinalizerAWSCleanup}
	require.NoError(t, c.Update(ctx, now))

	res, err := finalizerResult(ctx, removeFinalizer(ctx, c, stale))
	require.NoError(t, err, "a moved finalizer is tried again, not reported as an error")
	assert.Equal(t, time.Second, res.RequeueAfter, "and read again a second later")
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(live), now))
	assert.Equal(t, []string{v1alpha1.FinalizerAWSCleanup}, now.Finalizers, "nothing was removed blindly")

	res, err = finalizerResult(ctx, removeFinalizer(ctx, c, now))
	require.NoError(t, err, "the next reconcile removes it where it is")
	assert.Zero(t, res.RequeueAfter)
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(live), now))
	assert.Empty(t, now.Finalizers)
}
