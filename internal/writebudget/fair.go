package writebudget

import (
	"context"
	"sync"

	"golang.org/x/time/rate"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/fairqueue"
)

// Fair is a write budget whose tokens go out at a steady rate, with bursts, and fairly between
// tenants: the writes waiting for a token are ordered like the claims' work queues (package
// fairqueue), so a namespace whose 1,000 claims are being written waits for its turn like every
// other, and another namespace's write waits for about one token per busy namespace, not for the
// backlog's. A first-come token bucket would make it wait behind every worker already waiting.
type Fair struct {
	pace func(context.Context) error // returns when the next token is there
	done <-chan struct{}
	wake chan struct{}

	mu      sync.Mutex
	waiting *fairqueue.Queue[*waiter]
}

type waiter struct {
	tenant string
	ready  chan struct{}
	gone   bool // gave up (its context ended) before it had a token; under Fair.mu
}

// NewFair returns a budget of qps writes a second with bursts of burst (at least 1), handing out
// tokens until ctx ends.
func NewFair(ctx context.Context, qps float64, burst int) *Fair {
	return newFair(ctx, rate.NewLimiter(rate.Limit(qps), max(burst, 1)).Wait)
}

func newFair(ctx context.Context, pace func(context.Context) error) *Fair {
	f := &Fair{
		pace:    pace,
		done:    ctx.Done(),
		wake:    make(chan struct{}, 1),
		waiting: fairqueue.New(func(w *waiter) string { return w.tenant }),
	}
	go f.run(ctx)
	return f
}

// Wait blocks until tenant's write may go, or ctx (or the budget's own context) ends.
func (f *Fair) Wait(ctx context.Context, tenant string) error {
	w := &waiter{tenant: tenant, ready: make(chan struct{})}
	f.mu.Lock()
	f.waiting.Push(w)
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		f.leave(w)
		return ctx.Err()
	case <-f.done:
		f.leave(w)
		return context.Canceled
	}
}

// leave marks w as gone, so that no token is spent on it.
func (f *Fair) leave(w *waiter) {
	f.mu.Lock()
	w.gone = true
	f.mu.Unlock()
}

// run hands out one token at a time, each to the waiting write whose turn it is when the token
// is there (not when the wait for it began).
func (f *Fair) run(ctx context.Context) {
	for {
		for f.len() == 0 {
			select {
			case <-ctx.Done():
				return
			case <-f.wake:
			}
		}
		if err := f.pace(ctx); err != nil {
			return
		}
		f.grant()
	}
}

func (f *Fair) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.waiting.Len()
}

// grant gives the token to the next waiting write that has not given up.
func (f *Fair) grant() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.waiting.Len() > 0 {
		if w := f.waiting.Pop(); !w.gone {
			close(w.ready)
			return
		}
	}
}

// Tenant is whose write obj is, for a fair budget: a DomainClaim's spec.namespace (claims are
// cluster-scoped, named by hostname), what an object that names its tenant itself says (a claim
// status apply, see claimstatus), else the object's namespace ("" for cluster-scoped objects).
func Tenant(obj any) string {
	switch o := obj.(type) {
	case *v1alpha1.DomainClaim:
		return o.Spec.Namespace
	case interface{ WriteTenant() string }:
		return o.WriteTenant()
	case client.Object:
		return o.GetNamespace()
	}
	return ""
}
