package gatewaypool

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/claimstatus"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// apply carries out a plan in dependency order: each Gateway before its configuration (which it
// owns), Gateways and configurations before the claims' status (the Gateway's listeners are the
// record of a seat, see Plan), then the pool's status, and deletions last.
// At most maxClaimWrites claim statuses are written, the most urgent first, namespaces taking
// turns (takeTurns).
func (r *Reconciler) apply(ctx context.Context, s *Snapshot, p *PoolPlan) (out applied, err error) {
	log := logf.FromContext(ctx).WithValues("pool", s.Pool.Name)
	current := map[string]*GatewayState{}
	for i := range s.Gateways {
		current[s.Gateways[i].Gateway.Name] = &s.Gateways[i]
	}
	for _, g := range p.Gateways {
		conflict, err := r.applyGateway(ctx, current[g.Name], g)
		if err != nil {
			return out, fmt.Errorf("gateway %s/%s: %w", s.Pool.Spec.Namespace, g.Name, err)
		}
		if conflict {
			return applied{retry: true}, nil // everything after depends on this Gateway's seats
		}
		if g.Create {
			log.Info("created pool gateway", "gateway", g.Name)
		}
	}
	for _, name := range gatewayNames(s, p) {
		r.Metrics.certificates(s.Pool.Name, s.Pool.Spec.Namespace, name.name, name.certificates)
	}
	if out.more, err = r.applyUnheldClaims(ctx, p.Claims); err != nil {
		return out, err
	}
	if p.Status != nil {
		pool := s.Pool.DeepCopy()
		patch := client.MergeFrom(s.Pool)
		pool.Status = *p.Status
		if err := r.Client.Status().Patch(ctx, pool, patch); client.IgnoreNotFound(err) != nil {
			return out, err
		}
	}
	for _, name := range p.Delete {
		gw := current[name].Gateway
		err := r.Client.Delete(ctx, gw, client.Preconditions{UID: &gw.UID, ResourceVersion: &gw.ResourceVersion})
		switch {
		case apierrors.IsConflict(err):
			out.retry = true // a seat may have arrived meanwhile
		case client.IgnoreNotFound(err) != nil:
			return out, err
		case err == nil:
			log.Info("removed empty surplus gateway", "gateway", name)
		}
	}
	return out, nil
}

// applied is what apply reports besides an error.
type applied struct {
	// retry: a write met a newer object than the snapshot held.
	retry bool
	// more: claim statuses were left unwritten (beyond maxClaimWrites).
	more bool
}

// claimWriters is how many claim status writes the pool sends at once.
const claimWriters = 8

// maxClaimWrites bounds the claim statuses one reconcile writes. A pool of thousands of claims can
// plan a write for each (after a restart, or a pool-wide change such as a Gateway's new address),
// and the Gateway steps of claims that arrive meanwhile would wait behind them all; bounded, the
// reconcile ends, the rest is requeued, and the next plan puts new seats first again.
const maxClaimWrites = 100

// applyUnheldClaims writes the claim statuses of changes that are not held back (unheld), at most
// maxClaimWrites of them in takeTurns' order; more reports that some were left for the next reconcile.
func (r *Reconciler) applyUnheldClaims(ctx context.Context, changes []ClaimChange) (more bool, err error) {
	changes = takeTurns(r.unheld(ctx, changes))
	if len(changes) > maxClaimWrites {
		changes, more = changes[:maxClaimWrites], true
	}
	return more, r.applyClaims(ctx, changes)
}

// applyClaims writes the given claim statuses, claimWriters at a time: a reconcile that seats a
// burst of claims does not wait on each write in turn. (Routes are attached by reconciler/routes,
// from the claims' status.)
func (r *Reconciler) applyClaims(ctx context.Context, changes []ClaimChange) error {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	slots := make(chan struct{}, claimWriters)
	for _, ch := range changes {
		c := ch.Claim.DeepCopy()
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			if err := r.writeClaimStatus(ctx, c, ch.Status); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

type gatewayCertificates struct {
	name         string
	certificates int
}

// gatewayNames are the Gateways the plan keeps, with their certificate count (for the metric).
func gatewayNames(s *Snapshot, p *PoolPlan) []gatewayCertificates {
	if p.Status == nil {
		return nil // unchanged, and so is the metric
	}
	out := make([]gatewayCertificates, 0, len(p.Status.Gateways))
	for _, g := range p.Status.Gateways {
		out = append(out, gatewayCertificates{name: g.Name, certificates: int(g.Certificates)})
	}
	return out
}

// applyGateway creates or patches one Gateway and then its configuration. A patch carries the
// snapshot's resourceVersion: a Gateway's listeners record its seats, so a patch from a stale
// snapshot must fail (conflict) rather than drop a seat written meanwhile.
func (r *Reconciler) applyGateway(ctx context.Context, cur *GatewayState, g GatewayChange) (conflict bool, err error) {
	var gw *gwv1.Gateway
	switch {
	case g.Create:
		gw = g.Gateway
		if err := r.Client.Create(ctx, gw); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return true, nil
			}
			return false, err
		}
	case g.Gateway != nil:
		gw = g.Gateway.DeepCopy()
		if err := r.Client.Patch(ctx, gw, client.MergeFromWithOptions(cur.Gateway, client.MergeFromWithOptimisticLock{})); err != nil {
			if apierrors.IsConflict(err) {
				return true, nil
			}
			return false, err
		}
	default:
		gw = cur.Gateway
	}
	if g.Config == nil {
		return false, nil
	}
	cfg := g.Config.DeepCopy()
	if !metav1.IsControlledBy(cfg, gw) {
		cfg.OwnerReferences = append(withoutController(cfg.OwnerReferences), *metav1.NewControllerRef(gw, schema.GroupVersionKind{Group: gwv1.GroupName, Version: "v1", Kind: "Gateway"}))
	}
	want, err := cfg.ToUnstructured()
	if err != nil {
		return false, err
	}
	if g.CreateConfig {
		err = r.Client.Create(ctx, want)
		if apierrors.IsAlreadyExists(err) {
			return true, nil
		}
	} else {
		var was *lbc.LoadBalancerConfiguration
		if cur != nil {
			was = cur.Config
		}
		base, cerr := was.ToUnstructured()
		if cerr != nil {
			return false, cerr
		}
		err = r.Client.Patch(ctx, want, client.MergeFrom(base))
	}
	if meta.IsNoMatchError(err) {
		return false, fmt.Errorf("the AWS Load Balancer Controller's LoadBalancerConfiguration CRD is not installed: %w", err)
	}
	return false, err
}

// withoutController drops the controller reference from refs. A pool Gateway's configuration that
// another object controls was left by an earlier Gateway of the same name, deleted and created
// again before the garbage collector removed its dependents: the API server accepts one controller
// only, so keeping the old reference would fail every write of the configuration, and with it
// every reconcile of the pool.
func withoutController(refs []metav1.OwnerReference) []metav1.OwnerReference {
	out := make([]metav1.OwnerReference, 0, len(refs)+1)
	for _, ref := range refs {
		if ref.Controller == nil || !*ref.Controller {
			out = append(out, ref)
		}
	}
	return out
}

// writeClaimStatus is the pool's one write of a claim's status: the pool's slice of it (status.gateway,
// the load balancer, GatewayAssigned, CertificateAttached, LoadBalancerReady, RoutesAllowed and
// StrayRoutes), a server-side apply under the pool's field manager, so it never conflicts with the
// other owners' writes.
func (r *Reconciler) writeClaimStatus(ctx context.Context, c *v1alpha1.DomainClaim, st v1alpha1.DomainClaimStatus) error {
	_, err := r.written.Apply(ctx, r.Client, claimstatus.Pool, c, &st)
	return err
}

// unheld drops the claim statuses kept back: a new claim's seat that only waits (the
// certificate, the load balancer) is not written in its quiet period (claimstatus.Hold). The
// Gateway's listener records the seat meanwhile, and the claim's status says it once the load
// balancer is known, or when the quiet period ends (noted in ctx's claimstatus.Held).
func (r *Reconciler) unheld(ctx context.Context, claims []ClaimChange) []ClaimChange {
	now := time.Now()
	out := make([]ClaimChange, 0, len(claims))
	for _, ch := range claims {
		if wait := claimstatus.Hold(claimstatus.Pool, ch.Claim, &ch.Status, now, r.QuietPeriod); wait > 0 {
			claimstatus.HeldFrom(ctx).Add(wait)
			continue
		}
		out = append(out, ch)
	}
	return out
}
