package gatewaypool

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/claimstatus"
)

// coalesceWindow is how long an event waits before it wakes its pool. One pool reconcile reads
// every claim of the pool, so waking it once per event would cost O(N) per event and O(N²) while
// N claims come up together; the workqueue keeps one pending entry per pool, so every event that
// arrives within the window rides on the same reconcile (like a group commit).
const coalesceWindow = 100 * time.Millisecond

// pacePerClaim spaces a pool's reconciles by its size: after a reconcile of a pool of N claims,
// an event wakes the pool no sooner than N·pacePerClaim after it ended. A reconcile reads and plans
// every claim of the pool (O(N)), and while N claims come up together their events keep coming,
// so a fixed window would make the pool's work O(N²); with the wait growing with N the pool
// reconciles O(1/N) times a second and its work stays O(N). The price is a longer wait per step
// in a large pool: 0.3 s at 100 claims, 3 s at 1,000. Like kube-proxy's minimum sync period,
// scaled by what one sync costs.
const pacePerClaim = 3 * time.Millisecond

// maxPaceWait caps the wait: past 5,000 claims a step waits no longer, and the pool's work grows
// faster than its claims again.
const maxPaceWait = 15 * time.Second

// pacer remembers when each pool may next be reconciled. It holds timing only, nothing the plan
// reads.
type pacer struct {
	mu   sync.Mutex
	next map[string]time.Time // pool name → earliest start of its next event-driven reconcile
}

// wait is how long an event for pool should wait before it wakes it: the coalescing window, or
// longer while the pool is still within its pace.
func (p *pacer) wait(pool string, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(coalesceWindow, p.next[pool].Sub(now))
}

// done records a reconcile of pool, with claims claims, that ended at end.
func (p *pacer) done(pool string, claims int, end time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next == nil {
		p.next = map[string]time.Time{}
	}
	p.next[pool] = end.Add(min(maxPaceWait, time.Duration(claims)*pacePerClaim))
}

// forget drops a deleted pool's pace.
func (p *pacer) forget(pool string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.next, pool)
}

// coalesced enqueues the requests mapFn returns after the pool's wait (see pacer), for the old
// and the new object of an update (a claim that moved zones wakes both pools). An update for
// which urgent reports true waits only the coalescing window: a rare event that claims wait on.
func (r *Reconciler) coalesced(mapFn handler.MapFunc, urgent func(old, cur client.Object) bool) handler.EventHandler {
	add := func(ctx context.Context, o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request], paced bool) {
		now := time.Now()
		for _, req := range mapFn(ctx, o) {
			wait := coalesceWindow
			if paced {
				wait = r.pace.wait(paceKey(req), now)
			}
			q.AddAfter(req, wait)
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, e.Object, q, true)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			paced := urgent == nil || !urgent(e.ObjectOld, e.ObjectNew)
			add(ctx, e.ObjectOld, q, paced)
			add(ctx, e.ObjectNew, q, paced)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, e.Object, q, true)
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, e.Object, q, true)
		},
	}
}

// lbcVerdictChanged reports whether LBC's verdict on a pool Gateway changed: its load balancer's
// address, Programmed or Accepted (or the Gateway began to be deleted). Every claim seated on a new
// Gateway waits for its first address, so that wakes the pool without waiting for the pace; a
// Gateway changes so a few times in its life, while LBC rewrites its status after each of the
// pool's writes.
func lbcVerdictChanged(old, cur client.Object) bool {
	a, ok1 := old.(*gwv1.Gateway)
	b, ok2 := cur.(*gwv1.Gateway)
	if !ok1 || !ok2 {
		return true
	}
	verdict := func(gw *gwv1.Gateway, typ gwv1.GatewayConditionType) string {
		c := meta.FindStatusCondition(gw.Status.Conditions, string(typ))
		if c == nil {
			return ""
		}
		if c.Status == metav1.ConditionFalse {
			// A refusal is read for the current generation with its message (see ownlb.Refusal):
			// LBC re-stamping it for a new generation, or saying another reason in the same
			// words, changes what the claims say. An acceptance re-stamped after each of the
			// pool's writes changes nothing.
			return fmt.Sprintf("%s/%s/%d/%s", c.Status, c.Reason, c.ObservedGeneration, c.Message)
		}
		return string(c.Status) + "/" + c.Reason
	}
	return a.DeletionTimestamp.IsZero() != b.DeletionTimestamp.IsZero() ||
		!equality.Semantic.DeepEqual(a.Status.Addresses, b.Status.Addresses) ||
		verdict(a, gwv1.GatewayConditionProgrammed) != verdict(b, gwv1.GatewayConditionProgrammed) ||
		verdict(a, gwv1.GatewayConditionAccepted) != verdict(b, gwv1.GatewayConditionAccepted)
}

// claimInputs is what the pool's plan reads of a claim. Other reconcilers write a claim's status
// many times on its way to Ready, and the pool's own writes come back as events too; only a
// change here can change the plan.
type claimInputs struct {
	generation        int64
	hostname, ns      string
	zone, arn         string
	deleting, claimed bool
	issued, bound     bool
	// For a claim being deleted only: whether its ALIAS records are gone (see released).
	released bool
	// alias is the load balancer reconciler/dns confirmed the ALIAS at (status.aliasTarget): a
	// seat kept while the ALIAS moves to the users' own load balancer is given back once it is
	// that one (see OwnTarget.givesSeatBack).
	alias string
	// counted is the status of each of CountedConditions the pool does not set itself, which the
	// pool's status counts. Its own conditions it counts as it plans them, so their coming back from
	// its writes has nothing new to count.
	counted string
}

func inputsOf(c *v1alpha1.DomainClaim) claimInputs {
	in := claimInputs{generation: c.Generation, hostname: c.Spec.Hostname, ns: c.Spec.Namespace, zone: c.Status.ManagedZone,
		arn: c.Status.CertificateARN, deleting: !c.DeletionTimestamp.IsZero(),
		claimed: meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionClaimed),
		issued:  meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionCertificateIssued),
		bound:   v1alpha1.ProvisioningAllowed(c)}
	if c.Status.AliasTarget != nil {
		in.alias = c.Status.AliasTarget.DNSName
	}
	if in.deleting {
		in.released = released(c)
	}
	b := make([]byte, 0, len(CountedConditions))
	for _, typ := range CountedConditions {
		if claimstatus.Pool.Owns(typ) {
			continue
		}
		s := byte('?')
		if cond := meta.FindStatusCondition(c.Status.Conditions, typ); cond != nil {
			s = cond.Status[0]
		}
		b = append(b, s)
	}
	in.counted = string(b)
	return in
}

// claimInputsChanged passes claim updates that change what the pool plans from.
var claimInputsChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		old, ok1 := e.ObjectOld.(*v1alpha1.DomainClaim)
		cur, ok2 := e.ObjectNew.(*v1alpha1.DomainClaim)
		return !ok1 || !ok2 || inputsOf(old) != inputsOf(cur)
	},
}
