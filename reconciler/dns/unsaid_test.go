package dns

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
)

func unsaidCount(r *Reconciler) int {
	n := 0
	r.unsaid.Range(func(any, any) bool { n++; return true })
	return n
}

// TestTheNoteOfAQueuedChangeGoesWithItsClaim: a claim whose first change was queued unsaid and
// that is gone before its condition is written leaves no note behind; a claim made again under
// its name is not taken for it.
func TestTheNoteOfAQueuedChangeGoesWithItsClaim(t *testing.T) {
	ctx := context.Background()
	r, _, _ := setup(t, claim(), map[bool]dnsbatch.State{false: dnsbatch.Pending})
	_, c := reconcileOnce(t, r)
	require.Equal(t, 1, unsaidCount(r), "the queued first change is noted")

	again := c.DeepCopy()
	again.UID = "uid-2"
	assert.False(t, r.queued(again), "a claim made again under the name is not the one whose change was queued")

	c.Finalizers = nil
	require.NoError(t, r.Client.Update(ctx, c))
	require.NoError(t, r.Client.Delete(ctx, c))
	_, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: client.ObjectKey{Name: host}})
	require.NoError(t, err)
	assert.Zero(t, unsaidCount(r), "the reconcile of the claim's deletion drops its note")
}
