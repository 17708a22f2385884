package fairqueue

import (
	"k8s.io/client-go/util/workqueue"
)

// Limit returns base (client-go's work queue over q) with at most limit items of one tenant
// worked on at once (at least 1): a controller with more workers than that always has a worker
// for another tenant's item, so that item does not wait for one of the busy tenant's reconciles
// to end (they may be waiting for the write budget). Items of a tenant at its limit wait in q (or,
// when the work queue has already handed one out, in a short list of their own) until one of
// the tenant's items is done. Dedupe, delays and backoff stay the work queue's.
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

// Get returns the next item whose tenant is below its limit; it blocks while none waits.
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
			if len(l.q.items) == 0 || l.q.eligible() {
				break
			}
			l.q.changed.Wait() // only items of tenants at their limit wait
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
	l.q.busy[tenant]++
}

// Done marks item as done; its tenant may have another item worked on.
func (l *limited[T]) Done(item T) {
	l.q.mu.Lock()
	if t, ok := l.handed[item]; ok {
		delete(l.handed, item)
		if l.q.busy[t]--; l.q.busy[t] == 0 {
			delete(l.q.busy, t)
		}
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
