package fairqueue

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// byPrefix names an item's tenant by what comes before its dot: "a.7" is tenant a's.
func byPrefix(item string) string { return strings.SplitN(item, ".", 2)[0] }

// items are n items of tenant t, t.0 to t.<n-1>.
func items(t string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s.%d", t, i)
	}
	return out
}

// step is one thing done to a queue: push the items, or pop n of them.
type step struct {
	push []string
	pop  int
}

// run applies steps to a new queue and returns every item popped, in order.
func run(steps []step) []string {
	q := New(byPrefix)
	var out []string
	for _, s := range steps {
		for _, it := range s.push {
			q.Push(it)
		}
		for range s.pop {
			out = append(out, q.Pop())
		}
	}
	for q.Len() > 0 {
		out = append(out, q.Pop())
	}
	return out
}

func indexOf(popped []string, item string) int {
	for i, p := range popped {
		if p == item {
			return i
		}
	}
	return -1
}

func TestAnotherTenantsFirstItemWaitsAtMostOneItemPerBusyTenant(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []step
		// b.0 is handed out within this many pops after it was pushed.
		within int
	}{
		{
			name:   "one tenant's 1,000 waiting items delay b's first by at most one",
			steps:  []step{{push: items("a", 1000)}, {push: []string{"b.0"}}},
			within: 1,
		},
		{
			name:   "b arriving in the middle of a's burst waits at most one of a's",
			steps:  []step{{push: items("a", 1000), pop: 400}, {push: []string{"b.0"}}},
			within: 1,
		},
		{
			name:   "two busy tenants delay b's first by at most two",
			steps:  []step{{push: append(items("a", 1000), items("c", 1000)...), pop: 10}, {push: []string{"b.0"}}},
			within: 2,
		},
		{
			name:   "a tenant served just now waits for its turn again",
			steps:  []step{{push: items("a", 1000), pop: 1}, {push: []string{"b.0"}}},
			within: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			popped := run(tc.steps)
			before := 0
			for _, s := range tc.steps[:len(tc.steps)-1] {
				before += s.pop
			}
			i := indexOf(popped, "b.0")
			require.GreaterOrEqual(t, i, before, "b.0 is handed out")
			assert.LessOrEqual(t, i-before, tc.within, "items handed out between b.0's push and b.0")
		})
	}
}

func TestEachTenantsItemsLeaveInTheOrderTheyCame(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []step
		want  []string
	}{
		{
			name:  "one tenant alone is first in, first out",
			steps: []step{{push: items("a", 5)}},
			want:  items("a", 5),
		},
		{
			name:  "two tenants take turns, each in its own order",
			steps: []step{{push: append(items("a", 3), items("b", 3)...)}},
			want:  []string{"a.0", "b.0", "a.1", "b.1", "a.2", "b.2"},
		},
		{
			name: "a tenant coming back after its queue emptied is not owed turns",
			steps: []step{
				{push: []string{"b.0"}, pop: 1},
				{push: items("a", 3), pop: 2},
				{push: []string{"b.1", "b.2"}},
			},
			want: []string{"b.0", "a.0", "a.1", "b.1", "a.2", "b.2"},
		},
		{
			name:  "items pushed again after being handed out go behind their tenant's others",
			steps: []step{{push: []string{"a.0", "a.1"}, pop: 1}, {push: []string{"a.0"}}},
			want:  []string{"a.0", "a.1", "a.0"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, run(tc.steps))
		})
	}
}

func TestLenCountsWaitingItemsAndTouchKeepsThePlace(t *testing.T) {
	q := New(byPrefix)
	assert.Equal(t, 0, q.Len())
	for _, it := range []string{"a.0", "a.1", "b.0"} {
		q.Push(it)
	}
	assert.Equal(t, 3, q.Len())
	q.Touch("a.1")
	q.Touch("b.0")
	assert.Equal(t, 3, q.Len(), "touching adds nothing")
	assert.Equal(t, "a.0", q.Pop())
	assert.Equal(t, "b.0", q.Pop())
	assert.Equal(t, "a.1", q.Pop())
	assert.Equal(t, 0, q.Len())
}

func request(name string) reconcile.Request {
	return reconcile.Request{NamespacedName: client.ObjectKey{Name: name}}
}

func claim(hostname, namespace string) *v1alpha1.DomainClaim {
	return &v1alpha1.DomainClaim{
		ObjectMeta: metav1.ObjectMeta{Name: hostname},
		Spec:       v1alpha1.DomainClaimSpec{Hostname: hostname, Namespace: namespace},
	}
}

// TestTheWorkQueueHandsClaimsOutFairlyByTheirNamespace runs client-go's real rate-limiting work
// queue as controller-runtime would build it with ClaimOptions: a claim is queued once however
// often it is added, a claim added while being worked on comes back when done, delays still
// delay, and b's claim goes out right after the first of a's 1,000.
func TestTheWorkQueueHandsClaimsOutFairlyByTheirNamespace(t *testing.T) {
	r := claims(t)
	q := ClaimOptions(r, 8).NewQueue("test", workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()

	for i := range 1000 {
		q.Add(request(fmt.Sprintf("a%d.example.com", i)))
	}
	q.Add(request("a0.example.com"))
	q.Add(request("b.example.com"))
	assert.Equal(t, 1001, q.Len(), "a claim added twice waits once")

	first, _ := q.Get()
	second, _ := q.Get()
	assert.Equal(t, request("a0.example.com"), first)
	assert.Equal(t, request("b.example.com"), second, "b's claim goes right after a's first, not after all 1,000")

	q.Add(first) // changed while being worked on: comes back once done
	assert.Equal(t, 999, q.Len())
	q.Done(first)
	q.Done(second)
	assert.Equal(t, 1000, q.Len())

	q.AddAfter(request("gone.example.com"), 50*time.Millisecond) // not in the cache: tenant ""
	require.Eventually(t, func() bool { return q.Len() == 1001 }, 5*time.Second, 5*time.Millisecond, "a delayed claim arrives after its delay")
	next, _ := q.Get()
	assert.Equal(t, request("gone.example.com"), next, "the delayed claim's tenant has its turn before a's next")
	q.Done(next)
}

// claims is a reader holding team-a's claims a0 to a999.example.com and team-b's b.example.com.
func claims(t *testing.T) client.Reader {
	scheme := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(scheme))
	objs := []client.Object{claim("b.example.com", "team-b")}
	for i := range 1000 {
		objs = append(objs, claim(fmt.Sprintf("a%d.example.com", i), "team-a"))
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
}

// TestOneNamespaceNeverHoldsEveryWorker: with 2 workers a namespace (and 3 in all), team-a's
// burst has at most 2 claims worked on at once, so the third worker is free when team-b's claim
// comes.
func TestOneNamespaceNeverHoldsEveryWorker(t *testing.T) {
	o := ClaimOptions(claims(t), 2)
	assert.Equal(t, 3, o.MaxConcurrentReconciles, "one worker more than a namespace may use")
	q := o.NewQueue("test", workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	for i := range 1000 {
		q.Add(request(fmt.Sprintf("a%d.example.com", i)))
	}
	a0, _ := q.Get()
	a1, _ := q.Get()
	assert.Equal(t, []reconcile.Request{request("a0.example.com"), request("a1.example.com")}, []reconcile.Request{a0, a1})

	third := make(chan reconcile.Request, 1)
	go func() {
		item, _ := q.Get()
		third <- item
	}()
	select {
	case item := <-third:
		t.Fatalf("a third claim of team-a was handed out: %v", item)
	case <-time.After(100 * time.Millisecond):
	}
	q.Add(request("b.example.com"))
	select {
	case item := <-third:
		assert.Equal(t, request("b.example.com"), item, "the free worker takes team-b's claim at once")
	case <-time.After(5 * time.Second):
		t.Fatal("team-b's claim waits although a worker is free")
	}

	fourth := make(chan reconcile.Request, 1)
	go func() {
		item, _ := q.Get()
		fourth <- item
	}()
	q.Done(a0)
	select {
	case item := <-fourth:
		assert.Equal(t, request("a2.example.com"), item, "when one of team-a's is done, its next goes")
	case <-time.After(5 * time.Second):
		t.Fatal("team-a's next claim waits although one of its own is done")
	}
	assert.Equal(t, 997, q.Len())

	q.ShutDown()
	_, shutdown := q.Get()
	assert.True(t, shutdown)
}

// limitedQueue is client-go's work queue over a Queue of byPrefix tenants, with Limit.
func limitedQueue(limit int) (*Queue[string], *limited[string]) {
	q := New(byPrefix)
	return q, Limit(workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[string]{Name: "test", Queue: q}), q, limit).(*limited[string])
}

// get is a worker's Get that must not block (an item of a tenant below its limit waits).
func get(t *testing.T, w workqueue.TypedInterface[string]) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		item, _ := w.Get()
		got <- item
	}()
	select {
	case item := <-got:
		return item
	case <-time.After(5 * time.Second):
		t.Fatal("Get blocks although an item of a tenant below its limit waits")
		return ""
	}
}

// TestATenantAtItsLimitCostsPopNothingForItsBacklog: tenant a has 4 items worked on (its limit)
// and 10,000 waiting, with older tags than everything b pushes later; b's 20,000 items, pushed and
// worked on one at a time, cost a few heap comparisons each, not a pass over a's backlog (that
// was 10,000 items popped and pushed again per Get).
func TestATenantAtItsLimitCostsPopNothingForItsBacklog(t *testing.T) {
	q, w := limitedQueue(4)
	defer w.ShutDown()
	for _, it := range items("a", 10004) {
		w.Add(it)
	}
	var busy []string
	for range 4 {
		busy = append(busy, get(t, w))
	}
	assert.Equal(t, items("a", 4), busy)

	q.mu.Lock()
	before := q.compares
	q.mu.Unlock()
	for _, it := range items("b", 20000) {
		w.Add(it)
		got, _ := w.Get() // b is below its limit: does not block
		require.Equal(t, it, got, "b's items go while a is at its limit")
		w.Done(got)
	}
	q.mu.Lock()
	compares := q.compares - before
	q.mu.Unlock()
	assert.LessOrEqual(t, compares, 4*20000, "heap comparisons for b's 20,000 items")
	assert.Equal(t, 10000, w.Len(), "a's backlog waits")

	w.Done(busy[0])
	assert.Equal(t, "a.4", get(t, w), "when one of a's is done, its next goes")
	assert.Equal(t, 9999, w.Len())
}

// TestItemsOfATenantAtItsLimitWaitInTheQueueNotWithAWaitingWorker: a second worker waits while
// the only tenant is at its limit of 1, and a trickle of 200 of that tenant's items arrives: the worker
// takes none of them (it would keep each aside, unbounded, out of the fair order), they wait in
// the queue, and the worker takes the tenant's next item once its first is done, or another
// tenant's item at once.
func TestItemsOfATenantAtItsLimitWaitInTheQueueNotWithAWaitingWorker(t *testing.T) {
	_, w := limitedQueue(1)
	defer w.ShutDown()
	w.Add("a.0")
	a0 := get(t, w)

	second := make(chan string, 1)
	go func() {
		item, _ := w.Get()
		second <- item
	}()
	time.Sleep(50 * time.Millisecond) // the second worker waits on the empty queue
	for _, it := range items("a", 201)[1:] {
		w.Add(it)
		time.Sleep(time.Millisecond) // a trickle: the worker runs between the pushes
	}
	select {
	case item := <-second:
		t.Fatalf("a worker took an item of a tenant at its limit: %v", item)
	case <-time.After(100 * time.Millisecond):
	}
	w.q.mu.Lock()
	parked := len(w.parked)
	w.q.mu.Unlock()
	assert.Zero(t, parked, "items kept aside by a worker")
	assert.Equal(t, 200, w.TypedInterface.Len(), "a's items wait in the queue")

	w.Add("b.0")
	select {
	case item := <-second:
		assert.Equal(t, "b.0", item, "the waiting worker takes another tenant's item at once")
	case <-time.After(5 * time.Second):
		t.Fatal("b's item waits although a worker is free")
	}
	w.Done(a0)
	assert.Equal(t, "a.1", get(t, w), "a's next goes once its first is done")
}

// TestWhenEveryTenantIsAtItsLimitPopTakesTheFirstOfTheirsCheaply: Pop still hands out an item
// when every waiting item's tenant is at its limit (the work queue asked; Limit keeps it aside),
// in fair order, at a few comparisons an item, not a pass over every waiting item.
func TestWhenEveryTenantIsAtItsLimitPopTakesTheFirstOfTheirsCheaply(t *testing.T) {
	q, _ := limitedQueue(1)
	for _, it := range append(items("a", 1000), items("b", 1000)...) {
		q.Push(it)
	}
	q.mu.Lock()
	q.addBusy("a", 1)
	q.addBusy("b", 1)
	before := q.compares
	q.mu.Unlock()
	var popped []string
	for range 6 {
		popped = append(popped, q.Pop())
	}
	assert.Equal(t, []string{"a.0", "b.0", "a.1", "b.1", "a.2", "b.2"}, popped)
	q.mu.Lock()
	defer q.mu.Unlock()
	assert.LessOrEqual(t, q.compares-before, 4*6, "heap comparisons for 6 items")
}
