// Package fairqueue is a work-queue storage (client-go's workqueue.Queue) that hands items out
// fairly across tenants, for the reconcilers whose keys are DomainClaims: a namespace that creates
// 1,000 claims at once must not make another namespace's first claim wait behind all of them
// while the reconcilers' writes are paced by the write budget (package writebudget).
//
// The queue keeps client-go's semantics around it (an item is queued at most once, an item being
// worked on is queued again only when done, delays and per-item backoff): only the order in which
// the waiting items are handed out changes.
package fairqueue

import (
	"container/heap"
	"context"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// Queue orders waiting items by start-time fair queuing across tenants: each item gets a start
// tag, the later of the tag being served and the end of its tenant's previous item (its start +
// 1), and the smallest tag goes first, ties in arrival order. One tenant queuing 1,000 items
// therefore delays another tenant's first item by at most one item per busy tenant, and each
// tenant's items keep their arrival order. It implements workqueue.Queue; like every
// workqueue.Queue it is used under the work queue's lock and is not safe for concurrent use by
// itself.
type Queue[T comparable] struct {
	tenant  func(T) string
	items   itemHeap[T]
	end     map[string]uint64 // tenant -> end tag of its latest item
	virtual uint64            // start tag of the item served last
	seq     uint64
}

var _ workqueue.Queue[string] = &Queue[string]{}

// New returns an empty Queue; tenant names an item's tenant (it is asked once, when the item is
// pushed).
func New[T comparable](tenant func(T) string) *Queue[T] {
	return &Queue[T]{tenant: tenant, end: map[string]uint64{}}
}

// Push adds item, which is not in the queue (the work queue dedupes before it pushes).
func (q *Queue[T]) Push(item T) {
	t := q.tenant(item)
	start := max(q.virtual, q.end[t])
	q.end[t] = start + 1
	q.seq++
	heap.Push(&q.items, entry[T]{item: item, tenant: t, start: start, seq: q.seq})
}

// Pop removes and returns the next item; the work queue calls it only when Len is above zero.
func (q *Queue[T]) Pop() T {
	e := heap.Pop(&q.items).(entry[T])
	q.virtual = e.start
	if len(q.items) == 0 {
		// Every remembered end is now at most virtual+1: forget them, keeping the one that
		// makes the tenant just served wait for a turn.
		q.end = map[string]uint64{e.tenant: q.end[e.tenant]}
	}
	return e.item
}

// Len is the number of waiting items.
func (q *Queue[T]) Len() int { return len(q.items) }

// Touch is called when a waiting item is added again: it keeps its place (as in client-go's
// FIFO), so that a busy tenant cannot move its items ahead by touching them.
func (q *Queue[T]) Touch(T) {}

type entry[T comparable] struct {
	item   T
	tenant string
	start  uint64
	seq    uint64
}

type itemHeap[T comparable] []entry[T]

func (h itemHeap[T]) Len() int { return len(h) }
func (h itemHeap[T]) Less(a, b int) bool {
	if h[a].start != h[b].start {
		return h[a].start < h[b].start
	}
	return h[a].seq < h[b].seq
}
func (h itemHeap[T]) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *itemHeap[T]) Push(x any)   { *h = append(*h, x.(entry[T])) }
func (h *itemHeap[T]) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = entry[T]{}
	*h = old[:len(old)-1]
	return e
}

// NewQueue returns a controller.Options.NewQueue that builds client-go's rate-limiting work
// queue, with controller-runtime's rate limiter and its delays, over a Queue ordered by tenant.
func NewQueue(tenant func(reconcile.Request) string) func(string, workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
	return func(name string, rl workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
		base := workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[reconcile.Request]{Name: name, Queue: New(tenant)})
		delaying := workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[reconcile.Request]{Name: name, Queue: base})
		return workqueue.NewTypedRateLimitingQueueWithConfig(rl, workqueue.TypedRateLimitingQueueConfig[reconcile.Request]{Name: name, DelayingQueue: delaying})
	}
}

// ByClaimNamespace is the NewQueue of a controller whose keys are DomainClaims (cluster-scoped,
// named by hostname): a claim's tenant is its spec.namespace, read from r (the manager's cache);
// a claim r does not hold (deleted meanwhile) is the tenant "".
func ByClaimNamespace(r client.Reader) func(string, workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
	return NewQueue(func(req reconcile.Request) string {
		c := &v1alpha1.DomainClaim{}
		if err := r.Get(context.Background(), req.NamespacedName, c); err != nil {
			return ""
		}
		return c.Spec.Namespace
	})
}
