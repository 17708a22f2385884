package fairqueue

import (
	"k8s.io/client-go/util/workqueue"
)

// Limit returns base (client-go's work queue over q) with at most limit items of one tenant
// worked on at once (at least 1): a controller with more workers than that always has a worker
// for another tenant's item, so that item does not wait for one of the busy tenant's reconciles
// to end (they may be waiting for the write budget). Items of a tenant at its limit wait in q
// until one of the tenant's items is done: a worker asks the work queue for an item only while
// one of a tenant below its limit waits. Only when two workers race for the last such item does
// the loser get one of an at-limit tenant's; it keeps that aside in a short list (at most one
// per worker and race) for the next worker that may take it. Dedupe, delays and backoff stay the
// work queue's.
func Limit[T comparable](base workqueue.TypedInterface[T], q *Queue[T], limit int) workqueue.TypedInterface[T] {
	q.mu.Lock()
	q.limit = max(limit, 1)
	q.mu.Unlock()
	return &limited[T]{TypedInterface: base, q: q, handed: map[T]string{}}
}

type limited[T comparable] struct {
	workqueue.TypedInterface[T]
	q *Queue[T]
	// Under q.mu:
	parked   []T          // handed out by the work queue while their tenant was at its limit
	handed   map[T]string // items being worked on -> tenant
	shutting bool
}

// Get returns the next item whose tenant is below its limit; it blocks while none waits (Push,
// Done and ShutDown wake it), and does not wait in the work queue's Get meanwhile, where it would
// be handed every item pushed, whatever its tenant.
func (l *limited[T]) Get() (T, bool) {
	for {
		l.q.mu.Lock()
		for {
			if l.shutting {
				l.q.mu.Unlock()
				return *new(T), true
			}
			if item, ok := l.unpark(); ok {
				l.q.mu.Unlock()
				return item, false
			}
			if l.q.eligible() {
				break
			}
			l.q.changed.Wait() // Push, Done and stop broadcast
		}
		l.q.mu.Unlock()

		item, shutdown := l.TypedInterface.Get()
		if shutdown {
			return item, true
		}
		l.q.mu.Lock()
		t := l.q.popped[item]
		delete(l.q.popped, item)
		if l.q.busy[t] < l.q.limit {
			l.hand(item, t)
			l.q.mu.Unlock()
			return item, false
		}
		// Another worker took the last eligible item meanwhile: keep this one for a worker
		// that finishes one of its tenant's.
		l.q.popped[item] = t
		l.parked = append(l.parked, item)
		l.q.mu.Unlock()
	}
}

// unpark hands out the first parked item whose tenant is below its limit; under q.mu.
func (l *limited[T]) unpark() (T, bool) {
	for i, item := range l.parked {
		t := l.q.popped[item]
		if l.q.busy[t] < l.q.limit {
			l.parked = append(l.parked[:i], l.parked[i+1:]...)
			delete(l.q.popped, item)
			l.hand(item, t)
			return item, true
		}
	}
	return *new(T), false
}

func (l *limited[T]) hand(item T, tenant string) {
	l.handed[item] = tenant
	l.q.addBusy(tenant, 1)
}

// Done marks item as done; its tenant may have another item worked on.
func (l *limited[T]) Done(item T) {
	l.q.mu.Lock()
	if t, ok := l.handed[item]; ok {
		delete(l.handed, item)
		l.q.addBusy(t, -1)
		l.q.changed.Broadcast()
	}
	l.q.mu.Unlock()
	l.TypedInterface.Done(item)
}

// Len counts the parked items too.
func (l *limited[T]) Len() int {
	l.q.mu.Lock()
	n := len(l.parked)
	l.q.mu.Unlock()
	return n + l.TypedInterface.Len()
}

// ShutDown stops handing out items, as the work queue's does.
func (l *limited[T]) ShutDown() {
	l.stop()
	l.TypedInterface.ShutDown()
}

// ShutDownWithDrain also gives the parked items back (they will not be worked on), so that the
// work queue's drain does not wait for them.
func (l *limited[T]) ShutDownWithDrain() {
	for _, item := range l.stop() {
		l.TypedInterface.Done(item)
	}
	l.TypedInterface.ShutDownWithDrain()
}

func (l *limited[T]) stop() (parked []T) {
	l.q.mu.Lock()
	defer l.q.mu.Unlock()
	l.shutting = true
	parked, l.parked = l.parked, nil
	l.q.changed.Broadcast()
	return parked
}
