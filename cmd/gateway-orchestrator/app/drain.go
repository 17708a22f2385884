package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/leaderelection"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
)

// DefaultShutdownDelay is how long a stopping replica keeps serving admission unless told
// otherwise (--shutdown-delay): long enough for the endpoints controller to take the pod out of
// the webhook Service and for the API server to see that, a few seconds on EKS.
const DefaultShutdownDelay = 5 * time.Second

// Drain keeps a stopping orchestrator serving admission for a while, so that the API server,
// which still sends webhook calls to a terminating pod for a few seconds (its view of the
// Service's endpoints lags) and reuses its keep-alive connections to it, gets verdicts instead
// of refused or reset connections: a tenant's kubectl apply would fail with an internal error
// (the webhooks fail closed).
//
// When the manager starts to stop (SIGTERM, a served kind that changed), the drain begins:
// readiness fails (the endpoints controller takes the pod out), every admission answer says
// Connection: close (the API server's pooled connections move to other replicas), the
// reconcilers stop as usual and the leader election lease is given up as soon as they have (the
// next leader starts within its retry period, not after the delay). The informer caches, which
// admission decides from, and the webhook server stop only once Delay has passed since the drain
// began; requests in flight then still run to their verdict (finishingServer).
//
// The manager's stop runs its runnables in a fixed order: the others, the leader election ones
// (the reconcilers), the caches, the webhooks, the probes and metrics, and it gives the lease up
// only after all of them. Drain hooks into that order: a runnable among the others marks the
// beginning, the cache's Start gives the lease up (the reconcilers have stopped by then) and
// waits out the delay, and the lock the leader elector uses is told to yield, so the elector's
// own release at the very end neither writes nor takes the lease back.
type Drain struct {
	// Delay is how long the webhooks keep serving after the drain began; zero stops at once.
	Delay time.Duration

	began     chan struct{}
	beginOnce sync.Once
	beganAt   time.Time
	lock      *yieldingLock
	events    oldEvents
}

// NewDrain returns a drain of delay.
func NewDrain(delay time.Duration) *Drain {
	return &Drain{Delay: delay, began: make(chan struct{})}
}

// begin starts the drain (once).
func (d *Drain) begin() {
	d.beginOnce.Do(func() {
		d.beganAt = time.Now()
		close(d.began)
		if d.Delay > 0 {
			logf.Log.WithName("drain").Info("stopping: admission is served until the delay is over, readiness fails, connections are closed after each answer",
				"delay", d.Delay.String())
		}
	})
}

// draining reports whether the drain began.
func (d *Drain) draining() bool {
	select {
	case <-d.began:
		return true
	default:
		return false
	}
}

// wait returns once Delay has passed since the drain began (begun at the latest now).
func (d *Drain) wait() {
	d.begin()
	if left := time.Until(d.beganAt.Add(d.Delay)); left > 0 {
		time.Sleep(left)
	}
}

// GracefulShutdown is the manager's GracefulShutdownTimeout for d: the delay, which the
// manager's stop includes, plus controller-runtime's default for the rest (30 s). A pod's
// terminationGracePeriodSeconds must exceed it.
func (d *Drain) GracefulShutdown() time.Duration {
	return d.Delay + 30*time.Second
}

// NewCache wraps newCache (cache.New when nil): the caches it makes stop only once the delay is
// over, and, before they wait, the leader election lease is given up.
func (d *Drain) NewCache(newCache cache.NewCacheFunc) cache.NewCacheFunc {
	if newCache == nil {
		newCache = cache.New
	}
	return func(cfg *rest.Config, opts cache.Options) (cache.Cache, error) {
		c, err := newCache(cfg, opts)
		if err != nil {
			return nil, err
		}
		return drainingCache{Cache: c, drain: d}, nil
	}
}

// drainingCache is a cache that outlives the manager's request to stop by the drain's delay.
type drainingCache struct {
	cache.Cache
	drain *Drain
}

func (c drainingCache) Start(ctx context.Context) error {
	inner, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	done := make(chan error, 1)
	go func() { done <- c.Cache.Start(inner) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	// The manager stops the caches after the leader election runnables: every reconciler has
	// returned, so the lease can go to another replica now.
	c.drain.yieldLease()
	c.drain.wait()
	stop()
	return <-done
}

// Runnable marks the beginning of the drain: it runs among the manager's first runnables to
// stop, so its context ends the moment the manager starts to stop.
func (d *Drain) Runnable() manager.Runnable {
	return drainBeginning{d}
}

// drainBeginning begins the drain when its context ends. It runs on every replica, leader or
// not (a runnable that does not say so runs on the leader alone).
type drainBeginning struct{ drain *Drain }

func (b drainBeginning) Start(ctx context.Context) error {
	<-ctx.Done()
	b.drain.begin()
	return nil
}

func (drainBeginning) NeedLeaderElection() bool { return false }

// Wire adds the drain to mgr, made with the drain's NewCache (and Lock, with leader election):
// the runnable that begins it, the readiness check that fails during it, and the recorder of
// the lock's events. Call it before mgr starts.
func (d *Drain) Wire(mgr manager.Manager) error {
	d.events = mgr
	if err := mgr.Add(d.Runnable()); err != nil {
		return err
	}
	return mgr.AddReadyzCheck("stopping", d.Ready())
}

// Ready is a readiness check that fails once the drain began, so that the endpoints controller
// takes the pod out of the webhook Service.
func (d *Drain) Ready() healthz.Checker {
	return func(*http.Request) error {
		if d.draining() {
			return errors.New("stopping: this replica serves admission only until its shutdown delay is over")
		}
		return nil
	}
}

// closeWhileDraining makes every answer given after the drain began close its connection
// (Connection: close; over HTTP/2 the server sends GOAWAY), so that the API server opens its
// next connection through the Service, to a replica that stays.
func (d *Drain) closeWhileDraining(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.draining() {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}

// Lock returns the lock the leader elector is to use: controller-runtime's lease lock for
// opts, which yields once the reconcilers have stopped. It records its events through the
// manager given to Wire.
func (d *Drain) Lock(cfg *rest.Config, opts leaderelection.Options) (resourcelock.Interface, error) {
	l, err := leaderelection.NewResourceLock(cfg, lazyRecorders(func() oldEvents { return d.events }), opts)
	if err != nil {
		return nil, err
	}
	d.lock = &yieldingLock{Interface: l, renewDeadline: opts.RenewDeadline}
	return d.lock, nil
}

func (d *Drain) yieldLease() {
	if d.lock == nil {
		return
	}
	if err := d.lock.yield(); err != nil {
		// The elector gives the lease up when the manager has stopped, as without a drain.
		logf.Log.WithName("drain").Error(err, "could not give the leader election lease up before the shutdown delay; it is given up when the process stops")
		return
	}
}

// errYielded is what a yielded lock answers an elector that would take the lease.
var errYielded = errors.New("this replica is stopping and no longer competes for the lease")

// yieldingLock is a leader election lock that can be given up while its elector still runs.
// Once yielded, it releases the lease (as the elector does when cancelled with ReleaseOnCancel)
// and shows the elector the record it last saw, so that the elector neither takes the lease
// back nor gives up leadership with an error: the reconcilers it started have stopped already.
type yieldingLock struct {
	resourcelock.Interface
	renewDeadline time.Duration

	mu      sync.Mutex
	yielded bool
	held    bool // this replica held the lease when it yielded
	last    resourcelock.LeaderElectionRecord
	lastRaw []byte
}

func (l *yieldingLock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.yielded {
		r := l.last
		return &r, l.lastRaw, nil
	}
	return l.Interface.Get(ctx)
}

func (l *yieldingLock) Create(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.yielded {
		return errYielded
	}
	return l.Interface.Create(ctx, r)
}

func (l *yieldingLock) Update(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.yielded {
		if l.held {
			return nil // the elector renews or releases a lease given up already
		}
		return errYielded
	}
	return l.Interface.Update(ctx, r)
}

// yield gives the lease up if this replica holds it, and from then on keeps the elector from
// writing.
func (l *yieldingLock) yield() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.yielded {
		return nil
	}
	timeout := l.renewDeadline
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r, raw, err := l.Interface.Get(ctx)
	if err != nil {
		return fmt.Errorf("reading the lease: %w", err)
	}
	held := r.HolderIdentity == l.Identity()
	if held {
		now := time.Now()
		released := resourcelock.LeaderElectionRecord{
			LeaderTransitions:    r.LeaderTransitions,
			LeaseDurationSeconds: 1,
		}
		released.RenewTime.Time, released.AcquireTime.Time = now, now
		if err := l.Interface.Update(ctx, released); err != nil {
			return fmt.Errorf("releasing the lease: %w", err)
		}
		logf.Log.WithName("drain").Info("gave the leader election lease up: the reconcilers have stopped, another replica takes them over")
	}
	l.yielded, l.held, l.last, l.lastRaw = true, held, *r, raw
	return nil
}

// lazyRecorders is a recorder provider for the lock, whose recorder records through what events
// returns when an event is recorded: the lock is made before the manager that records it.
func lazyRecorders(events func() oldEvents) recorder.Provider {
	return lazyProvider{events: events}
}

// oldEvents makes recorders of the old events API (a manager does, deprecated there): client-go's
// lease lock records only through that API.
type oldEvents interface {
	GetEventRecorderFor(name string) record.EventRecorder
}

type lazyProvider struct{ events func() oldEvents }

func (p lazyProvider) GetEventRecorderFor(name string) record.EventRecorder {
	return lazyRecorder{name: name, events: p.events}
}

// GetEventRecorder is not used by the lock, which records through GetEventRecorderFor.
func (p lazyProvider) GetEventRecorder(string) recorder.EventRecorder { return nil }

type lazyRecorder struct {
	name   string
	events func() oldEvents
}

func (r lazyRecorder) recorder() record.EventRecorder {
	if e := r.events(); e != nil {
		return e.GetEventRecorderFor(r.name)
	}
	return nil
}

func (r lazyRecorder) Event(o runtime.Object, typ, reason, msg string) {
	if rec := r.recorder(); rec != nil {
		rec.Event(o, typ, reason, msg)
	}
}

func (r lazyRecorder) Eventf(o runtime.Object, typ, reason, format string, args ...any) {
	if rec := r.recorder(); rec != nil {
		rec.Eventf(o, typ, reason, format, args...)
	}
}

func (r lazyRecorder) AnnotatedEventf(o runtime.Object, ann map[string]string, typ, reason, format string, args ...any) {
	if rec := r.recorder(); rec != nil {
		rec.AnnotatedEventf(o, ann, typ, reason, format, args...)
	}
}
