package fairqueue

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/util/workqueue"
)

// drain pops every waiting item of q, in order.
func drain(q *Queue[string]) []string {
	var out []string
	for q.Len() > 0 {
		out = append(out, q.Pop())
	}
	return out
}

func TestRemovedItemsAreNeverHandedOutAndTheOthersKeepTheirTurns(t *testing.T) {
	for _, tc := range []struct {
		name   string
		push   []string
		remove []string
		want   []string
	}{
		{
			name:   "removing a tenant's first item lets its next take its turn",
			push:   append(items("a", 3), items("b", 3)...),
			remove: []string{"a.0"},
			want:   []string{"b.0", "a.1", "b.1", "a.2", "b.2"},
		},
		{
			name:   "removing an item in the middle gives its tenant no turn back",
			push:   append(items("a", 3), items("b", 3)...),
			remove: []string{"a.1"},
			want:   []string{"a.0", "b.0", "b.1", "a.2", "b.2"},
		},
		{
			name:   "removing every item of a tenant leaves the others in order",
			push:   append(items("a", 3), items("b", 2)...),
			remove: []string{"a.2", "a.0", "a.1"},
			want:   []string{"b.0", "b.1"},
		},
		{
			name:   "removing runs of items, front and back, skips them all",
			push:   items("a", 6),
			remove: []string{"a.1", "a.2", "a.0", "a.5"},
			want:   []string{"a.3", "a.4"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := NewRemovable(byPrefix)
			for _, it := range tc.push {
				q.Push(it)
			}
			for _, it := range tc.remove {
				require.True(t, q.Remove(it), "%s waits", it)
			}
			assert.Equal(t, len(tc.want), q.Len())
			assert.Equal(t, tc.want, drain(q))
		})
	}
}

func TestRemoveReportsWhetherTheItemWaited(t *testing.T) {
	q := NewRemovable(byPrefix)
	q.Push("a.0")
	q.Push("a.1")
	assert.False(t, q.Remove("a.7"), "never pushed")
	assert.Equal(t, "a.0", q.Pop())
	assert.False(t, q.Remove("a.0"), "already handed out")
	assert.True(t, q.Remove("a.1"))
	assert.False(t, q.Remove("a.1"), "already removed")
	assert.Zero(t, q.Len())

	q.Push("a.1")
	q.Push("a.2")
	require.True(t, q.Remove("a.2"))
	q.Push("a.2")
	assert.Equal(t, []string{"a.1", "a.2"}, drain(q), "an item pushed again after its removal waits once, at its new place")
}

func TestRemoveNeedsARemovableQueue(t *testing.T) {
	q := New(byPrefix)
	q.Push("a.0")
	assert.Panics(t, func() { q.Remove("a.0") })
}

// TestRemovingATenantsFrontItemsCostsAFewComparisonsEach: removing 9,999 of a tenant's 10,000
// items from the front moves its line in the tenants' heap each time, not through its backlog.
func TestRemovingATenantsFrontItemsCostsAFewComparisonsEach(t *testing.T) {
	q := NewRemovable(byPrefix)
	for _, it := range append(items("a", 10000), "b.0") {
		q.Push(it)
	}
	before := q.compares
	for _, it := range items("a", 9999) {
		require.True(t, q.Remove(it))
	}
	assert.LessOrEqual(t, q.compares-before, 2*9999, "heap comparisons for 9,999 removals")
	assert.Equal(t, []string{"b.0", "a.9999"}, drain(q), "a's last keeps its tag")
}

// TestRemovingTheWaitingItemOfATenantAtItsLimit: the held tenant's line leaves the held heap, and
// Pop hands out the others'.
func TestRemovingTheWaitingItemOfATenantAtItsLimit(t *testing.T) {
	q := NewRemovable(byPrefix)
	Limit(workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[string]{Name: "test", Queue: q}), q, 1)
	q.Push("a.0")
	q.Push("b.0")
	q.mu.Lock()
	q.addBusy("a", 1)
	require.Len(t, q.held.lines, 1, "a waits in the held heap")
	q.mu.Unlock()

	assert.True(t, q.Remove("a.0"))
	q.mu.Lock()
	assert.Empty(t, q.held.lines, "nothing of a waits")
	q.mu.Unlock()
	assert.Equal(t, []string{"b.0"}, drain(q))
}
