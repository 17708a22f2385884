// Package fairqueue is a work-queue storage (client-go's workqueue.Queue) that hands items out
// fairly across tenants, for the reconcilers whose keys are DomainClaims: a namespace that creates
// 1,000 claims at once must not make another namespace's first claim wait behind all of them
// while the reconcilers' writes are paced by the write budget (package writebudget).
//
// The queue keeps client-go's semantics around it (an item is queued at most once, an item being
// worked on is queued again only when done, delays and per-item backoff): only the order in which
// the waiting items are handed out changes. The write budget's waiting writes (writebudget.Fair)
// and the certificate Requester's waiting ACM requests (NewRemovable) are ordered by Queues too.
package fairqueue

import (
	"cmp"
	"container/heap"
	"context"
	"slices"
	"sync"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// Queue orders waiting items by start-time fair queuing across tenants: each item gets a start
// tag, the later of the tag being served and the end of its tenant's previous item (its start +
// 1), and the smallest tag goes first, ties in arrival order. One tenant queuing 1,000 items
// therefore delays another tenant's first item by at most one item per busy tenant, and each
// tenant's items keep their arrival order. It implements workqueue.Queue (client-go calls it under
// the work queue's lock; it has a lock of its own for Limit's wrapper).
//
// Each tenant's items wait in a line of their own (their tags grow in arrival order), and the
// tenants with waiting items are in a heap ordered by the tag of their first item, so Push and Pop
// cost O(log tenants) whatever the backlog. With Limit, the tenants at their limit wait in a
// second heap, out of the way, until one of their items is done. A queue made by NewRemovable
// keeps an index of its items (item -> line and tag) for Remove, which only marks the item: the
// marked items leave when they reach the front of their line, so Remove costs O(log items).
type Queue[T comparable] struct {
	tenant func(T) string

	mu      sync.Mutex
	changed *sync.Cond          // an item was pushed, or one being worked on is done (Limit)
	lines   map[string]*line[T] // tenant -> its waiting items; only tenants that have some
	ready   tenantHeap[T]       // tenants below their limit (every tenant, without Limit)
	held    tenantHeap[T]       // tenants at their limit
	n       int                 // waiting items
	where   map[T]spot[T]       // waiting item -> where it waits; nil unless NewRemovable
	end     map[string]uint64   // tenant -> end tag of its latest item
	virtual uint64              // start tag of the item served last
	seq     uint64
	// With Limit: busy counts each tenant's items being worked on, and limit is the most one
	// tenant may have; Pop prefers the items of tenants below it. popped remembers the tenant of
	// each item Pop returned until the wrapper takes it.
	busy   map[string]int
	limit  int
	popped map[T]string
	// compares counts the heaps' comparisons: the queue's work, which tests bound.
	compares int
}

var _ workqueue.Queue[string] = &Queue[string]{}

// New returns an empty Queue; tenant names an item's tenant (it is asked once, when the item is
// pushed).
func New[T comparable](tenant func(T) string) *Queue[T] {
	q := &Queue[T]{tenant: tenant, lines: map[string]*line[T]{}, end: map[string]uint64{}, busy: map[string]int{}, popped: map[T]string{}}
	q.ready.q, q.held.q = q, q
	q.changed = sync.NewCond(&q.mu)
	return q
}

// NewRemovable returns an empty Queue whose items may be withdrawn while they wait (Remove). The
// index this takes costs every Push and Pop a map write.
func NewRemovable[T comparable](tenant func(T) string) *Queue[T] {
	q := New(tenant)
	q.where = map[T]spot[T]{}
	return q
}

// Push adds item, which is not in the queue (the work queue dedupes before it pushes).
func (q *Queue[T]) Push(item T) {
	t := q.tenant(item)
	q.mu.Lock()
	defer q.mu.Unlock()
	start := max(q.virtual, q.end[t])
	q.end[t] = start + 1
	q.seq++
	l := q.lines[t]
	if l == nil {
		l = &line[T]{tenant: t, index: -1}
		q.lines[t] = l
	}
	l.items = append(l.items, entry[T]{item: item, start: start, seq: q.seq})
	if q.where != nil {
		q.where[item] = spot[T]{line: l, seq: q.seq}
	}
	q.n++
	if len(l.items) == 1 {
		q.place(l)
	}
	q.changed.Broadcast()
}

// Pop removes and returns the next item; the work queue calls it only when Len is above zero.
// With a limit, the next item of a tenant below it goes first; only when every waiting item's
// tenant is at its limit does the next item of one of them come out.
func (q *Queue[T]) Pop() T {
	q.mu.Lock()
	defer q.mu.Unlock()
	h := &q.ready
	if len(h.lines) == 0 {
		h = &q.held // every tenant is at its limit: the first of theirs
	}
	l := h.lines[0]
	e := l.items[0]
	l.items[0].removed = true
	q.advance(l)
	if q.where != nil {
		delete(q.where, e.item)
	}
	q.n--
	q.virtual = max(q.virtual, e.start)
	if q.n == 0 {
		// Every remembered end is now at most virtual+1: forget them, keeping the one that
		// makes the tenant just served wait for a turn.
		q.end = map[string]uint64{l.tenant: q.end[l.tenant]}
	}
	if q.limit > 0 {
		q.popped[e.item] = l.tenant
	}
	return e.item
}

// Remove drops item if it waits, and reports whether it did; q must come from NewRemovable. The
// tags of the items queued after it stay as they are: removing an item gives its tenant no turn
// back.
func (q *Queue[T]) Remove(item T) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.where == nil {
		panic("fairqueue: Remove on a Queue not made by NewRemovable")
	}
	s, ok := q.where[item]
	if !ok {
		return false
	}
	delete(q.where, item)
	l := s.line
	i, _ := slices.BinarySearchFunc(l.items, s.seq, func(e entry[T], seq uint64) int { return cmp.Compare(e.seq, seq) })
	l.items[i] = entry[T]{seq: s.seq, removed: true}
	q.n--
	if i == 0 {
		q.advance(l)
	}
	return true
}

// advance drops the removed items at the front of l, whose first item was removed or popped, and
// moves l in its heap by its new first item, or takes it out when no item is left; under q.mu.
func (q *Queue[T]) advance(l *line[T]) {
	for len(l.items) > 0 && l.items[0].removed {
		l.items[0] = entry[T]{}
		l.items = l.items[1:]
	}
	if len(l.items) == 0 {
		heap.Remove(l.in, l.index)
		delete(q.lines, l.tenant)
	} else {
		heap.Fix(l.in, l.index)
	}
}

// Len is the number of waiting items.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// Touch is called when a waiting item is added again: it keeps its place (as in client-go's
// FIFO), so that a busy tenant cannot move its items ahead by touching them.
func (q *Queue[T]) Touch(T) {}

// eligible reports whether an item of a tenant below the limit waits; under q.mu.
func (q *Queue[T]) eligible() bool { return len(q.ready.lines) > 0 }

// addBusy counts one more (by 1) or one fewer (by -1) of tenant's items being worked on, and
// moves its waiting items between ready and held when that crosses the limit; under q.mu.
func (q *Queue[T]) addBusy(tenant string, by int) {
	if q.busy[tenant] += by; q.busy[tenant] <= 0 {
		delete(q.busy, tenant)
	}
	if l := q.lines[tenant]; l != nil {
		q.place(l)
	}
}

// place puts l, which has waiting items, in the heap its tenant's busy count calls for; under q.mu.
func (q *Queue[T]) place(l *line[T]) {
	h := &q.ready
	if q.limit > 0 && q.busy[l.tenant] >= q.limit {
		h = &q.held
	}
	if l.index >= 0 {
		if l.in == h {
			return
		}
		heap.Remove(l.in, l.index)
	}
	l.in = h
	heap.Push(h, l)
}

type entry[T comparable] struct {
	item    T
	start   uint64
	seq     uint64
	removed bool // taken out by Remove (or Pop): dropped from its line once at the front
}

// spot is where a waiting item is: in line, as the entry numbered seq.
type spot[T comparable] struct {
	line *line[T]
	seq  uint64
}

// line is one tenant's waiting items, in arrival order (and so in the order of their tags), with
// the removed ones among them; its first item is never a removed one (advance sees to it).
type line[T comparable] struct {
	tenant string
	items  []entry[T]
	in     *tenantHeap[T] // the heap l is in, at index (-1: none)
	index  int
}

// tenantHeap orders lines by their first item's tag, ties in arrival order. It counts its
// comparisons in q.compares, the measure of the queue's work (tests bound it).
type tenantHeap[T comparable] struct {
	q     *Queue[T]
	lines []*line[T]
}

func (h *tenantHeap[T]) Len() int { return len(h.lines) }
func (h *tenantHeap[T]) Less(a, b int) bool {
	h.q.compares++
	x, y := h.lines[a].items[0], h.lines[b].items[0]
	if x.start != y.start {
		return x.start < y.start
	}
	return x.seq < y.seq
}
func (h *tenantHeap[T]) Swap(a, b int) {
	h.lines[a], h.lines[b] = h.lines[b], h.lines[a]
	h.lines[a].index, h.lines[b].index = a, b
}
func (h *tenantHeap[T]) Push(x any) {
	l := x.(*line[T])
	l.index = len(h.lines)
	h.lines = append(h.lines, l)
}
func (h *tenantHeap[T]) Pop() any {
	old := h.lines
	l := old[len(old)-1]
	old[len(old)-1] = nil
	h.lines = old[:len(old)-1]
	l.index, l.in = -1, nil
	return l
}

// NewQueue returns a controller.Options.NewQueue that builds client-go's rate-limiting work
// queue, with controller-runtime's rate limiter and its delays, over a Queue ordered by tenant,
// with at most perTenant items of one tenant worked on at once (Limit).
func NewQueue(tenant func(reconcile.Request) string, perTenant int) func(string, workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
	return func(name string, rl workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
		q := New(tenant)
		base := Limit(workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[reconcile.Request]{Name: name, Queue: q}), q, perTenant)
		delaying := workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[reconcile.Request]{Name: name, Queue: base})
		return workqueue.NewTypedRateLimitingQueueWithConfig(rl, workqueue.TypedRateLimitingQueueConfig[reconcile.Request]{Name: name, DelayingQueue: delaying})
	}
}

// ClaimOptions are the controller options of a controller whose keys are DomainClaims
// (cluster-scoped, named by hostname), with up to workers of one namespace's claims worked on at
// once: its work queue is fair between the claims' namespaces (spec.namespace, read from r, the
// manager's cache; a claim r does not hold, deleted meanwhile, is the tenant ""), and it runs one
// worker more, so that a worker is free for another namespace's claim while one namespace's burst
// keeps the others busy (waiting for the write budget, mostly). The namespace is read on every
// Push, under the work queue's lock, so without a deep copy: only the string is kept.
func ClaimOptions(r client.Reader, workers int) controller.Options {
	return controller.Options{MaxConcurrentReconciles: workers + 1, NewQueue: NewQueue(func(req reconcile.Request) string {
		c := &v1alpha1.DomainClaim{}
		if err := r.Get(context.Background(), req.NamespacedName, c, client.UnsafeDisableDeepCopy); err != nil {
			return ""
		}
		return c.Spec.Namespace
	}, workers)}
}
