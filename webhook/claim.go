package webhook

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// defaultPendingWait bounds how long a request waits, over all its hostnames, for pending
// wildcards above them to be confirmed or withdrawn; well inside the webhooks' 5 s timeout.
const defaultPendingWait = 2 * time.Second

// Claimer makes the claims of free hostnames inside admission, and marks idle claims a
// namespace already holds (Keep): the deliberate side effects of the webhooks. Every door that carries a hostname (routes, Ingresses, Gateway listeners) claims
// through it, so every door is race-free in the same way.
//
// Exact names are locked by etcd itself: a claim's name is its hostname, so concurrent creates
// collide and one wins. A wildcard and a name below it have different claim names, so Claim runs
// a write-then-read protocol: create the claim, then read the claims it could overlap; a foreign
// overlap withdraws the new claim. A name reads the wildcards above it live; a wildcard reads the
// claims below it from the cache once the cache holds its own new claim. docs/design.md gives
// the argument that two overlapping claims of different namespaces never both stay.
type Claimer struct {
	// Client creates, confirms and withdraws claims; APIReader reads them live.
	Client    client.Client
	APIReader client.Reader
	// Cache is the informer cache, with the index.ClaimAncestor index, that a new wildcard
	// reads the claims below it from.
	Cache client.Reader
	// View, when set, tells which covering wildcards could have a claim at all (a ManagedZone
	// covers them); only those are read live. Nil reads every covering wildcard.
	View ownership.View
	// Finalizers are put on every claim admission creates (the AWS cleanup finalizer when the
	// AWS reconcilers run), saving each claim a write.
	Finalizers []string
	// PendingPoll is how often a pending wildcard above a new claim is read again (default 20 ms),
	// and PendingWait how long at most (default 2 s).
	PendingPoll, PendingWait time.Duration
}

// Claim creates the DomainClaim for d.Hostname (a decision with verdict Claim) for namespace ns;
// a wildcard's claim is left pending for the caller to confirm (ClaimAll does);
// usedBy names the object whose admission makes it ("HTTPRoute team-a/shop"). It returns the
// final decision: Allow when the claim is ns's, Deny naming the owner when another request or
// namespace holds the hostname or an overlapping one. The created claim is returned for a
// rollback (nil when none was created). An error means the API server could not be asked.
func (c *Claimer) Claim(ctx context.Context, d ownership.Decision, ns, usedBy string) (ownership.Decision, *v1alpha1.DomainClaim, error) {
	ctx = c.withWaitDeadline(ctx)
	want := NewClaim(d.Hostname, ns, usedBy, c.Finalizers...)
	recordObjectUID(ctx, want)
	if err := c.stampNamespace(ctx, want, ns); err != nil {
		return d, nil, err
	}
	var created *v1alpha1.DomainClaim
	for attempt := 0; created == nil; attempt++ {
		if attempt == 3 {
			return d.Deny(ReasonConcurrent, "the DomainClaim %s for %q kept appearing and disappearing while it was being claimed; try again", want.Name, d.Hostname), nil, nil
		}
		obj := want.DeepCopy()
		err := c.Client.Create(ctx, obj)
		switch {
		case err == nil:
			created = obj
		case apierrors.IsAlreadyExists(err):
			won := &v1alpha1.DomainClaim{}
			err = c.APIReader.Get(ctx, client.ObjectKey{Name: want.Name}, won)
			if apierrors.IsNotFound(err) {
				continue // released in between: try again
			}
			if err != nil {
				return d, nil, apiError("reading DomainClaim "+want.Name, err)
			}
			// A winner being deleted owns nothing (released, or withdrawn by a request that lost
			// a race): Owner says so, in the words every other door uses.
			return d.Owner(won, ns), nil, nil
		case apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err):
			// An admission check refused the claim (usually the DomainClaim webhook, which saw an
			// overlap in its cache): that is a denial of the hostname, named as such.
			return c.refused(ctx, d, ns, err)
		default:
			return d, nil, apiError("creating DomainClaim "+want.Name, err)
		}
	}

	verdict, err := c.overlaps(ctx, created, ns)
	if err != nil || verdict != nil {
		if werr := c.Withdraw(ctx, created); werr != nil && err == nil {
			err = werr
		}
		if err != nil {
			return d, nil, err
		}
		return *verdict, nil, nil
	}
	d.Verdict = ownership.Allow
	return d, created, nil
}

// ClaimAll claims every decision with verdict Claim for namespace ns, in order, and returns each
// one's final decision. When any is denied, the claims this call created are withdrawn: a denied
// request keeps nothing. An error means the API server could not be asked (the claims made so far
// are withdrawn too, as far as the API server lets).
func (c *Claimer) ClaimAll(ctx context.Context, ds []ownership.Decision, ns, usedBy string) ([]ownership.Decision, error) {
	ctx = c.withWaitDeadline(ctx) // one budget for every hostname: the webhook's timeout is per request
	out := make([]ownership.Decision, 0, len(ds))
	var created []*v1alpha1.DomainClaim
	var err error
	denied := false
	for _, d := range ds {
		var got ownership.Decision
		var own *v1alpha1.DomainClaim
		if got, own, err = c.Claim(ctx, d, ns, usedBy); err != nil {
			break
		}
		if own != nil {
			created = append(created, own)
		}
		denied = denied || got.Verdict == ownership.Deny
		out = append(out, got)
	}
	if err != nil || denied {
		for _, own := range created {
			if werr := c.Withdraw(ctx, own); werr != nil && err == nil {
				err = werr
			}
		}
		return out, err
	}
	// The verdict is final: the pending wildcards are published as settled after the answer,
	// off the request's path. Until then a request below one waits for it (within its budget);
	// a mark a crash leaves behind is removed by the claim reconciler after a minute.
	for _, own := range created {
		if own.Annotations[v1alpha1.AnnotationAdmissionPending] != "" {
			go c.confirmDetached(own)
		}
	}
	return out, nil
}

// overlaps reads the claims that could overlap a claim this request has just created: for a
// wildcard, every claim below it (from the cache, once the cache holds the new claim); for any
// name, the wildcards above it (a live GET each). It returns the denial, or nil when the new
// claim may stay.
//
// A wildcard yields to every foreign claim below it, whatever that claim's state, and never
// waits. A name below a foreign wildcard yields to it once it is confirmed, and waits while it is
// pending, because the pending wildcard has read, or will read, below itself and decides alone.
func (c *Claimer) overlaps(ctx context.Context, own *v1alpha1.DomainClaim, ns string) (*ownership.Decision, error) {
	h := own.Spec.Hostname
	d := ownership.Decision{Hostname: h}
	above, err := c.claimable(ctx, hostname.CoveringWildcards(h))
	if err != nil {
		return nil, err
	}
	// Every read is independent of the others and follows the create: all in parallel, so a
	// wildcard pays for its list or its GETs, whichever is slower, and a deep name for one GET.
	verdicts := make([]*ownership.Decision, len(above)+1)
	errs := make([]error, len(above)+1)
	var wg sync.WaitGroup
	if hostname.IsWildcard(h) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			verdicts[len(above)], errs[len(above)] = c.belowWildcard(ctx, d, own, ns)
		}()
	}
	for i, w := range above {
		wg.Add(1)
		go func() {
			defer wg.Done()
			verdicts[i], errs[i] = c.underWildcard(ctx, d, w, ns)
		}()
	}
	wg.Wait()
	for i := range verdicts {
		if errs[i] != nil {
			return nil, errs[i]
		}
	}
	for i := range verdicts {
		if verdicts[i] != nil {
			return verdicts[i], nil
		}
	}
	return nil, nil
}

// belowWildcard decides a new wildcard claim against every claim below it: any claim of another
// namespace there, whatever its state, makes the wildcard yield. The claims are read from the
// cache once it holds the new claim (caughtUp): the cache applies the API server's events in
// order, so it then holds every claim created before this one, which is all the protocol needs.
func (c *Claimer) belowWildcard(ctx context.Context, d ownership.Decision, own *v1alpha1.DomainClaim, ns string) (*ownership.Decision, error) {
	h := own.Spec.Hostname
	if v, err := c.caughtUp(ctx, d, own); v != nil || err != nil {
		return v, err
	}
	below, err := ownership.CacheView{Reader: c.Cache}.ClaimsBelow(ctx, hostname.MatchDomain(h))
	if err != nil {
		return nil, apiError("listing the DomainClaims below "+h, err)
	}
	var foreign *v1alpha1.DomainClaim
	for i := range below {
		o := &below[i]
		if o.Spec.Namespace != ns && o.DeletionTimestamp.IsZero() && hostname.Covers(h, o.Spec.Hostname) &&
			(foreign == nil || ownership.Older(o, foreign)) {
			foreign = o
		}
	}
	if foreign == nil {
		return nil, nil
	}
	v := d.WouldCover(foreign)
	return &v, nil
}

// cachePoll is how often caughtUp looks for the new claim in the cache, which usually receives
// it within a millisecond or two of the create.
const cachePoll = 2 * time.Millisecond

// caughtUp waits until the cache holds the claim own, just created (its UID: this create, not an
// earlier claim of the same name), within the request's wait budget. A cache that does not catch
// up in time denies, as a concurrent claim would: the request can simply be tried again.
func (c *Claimer) caughtUp(ctx context.Context, d ownership.Decision, own *v1alpha1.DomainClaim) (*ownership.Decision, error) {
	deadline, _ := ctx.Value(waitDeadlineKey{}).(time.Time)
	for {
		seen := &v1alpha1.DomainClaim{}
		err := c.Cache.Get(ctx, client.ObjectKey{Name: own.Name}, seen)
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, apiError("reading DomainClaim "+own.Name+" from the cache", err)
		}
		if err == nil && seen.UID == own.UID {
			return nil, nil
		}
		if time.Now().After(deadline) {
			v := d.Deny(ReasonConcurrent, "wildcard %q could not be checked against the claims below it in time (the webhook's view of the claims is behind); try again",
				own.Spec.Hostname)
			return &v, nil
		}
		if err := sleep(ctx, cachePoll); err != nil {
			return nil, apiError("waiting for the cache to hold DomainClaim "+own.Name, err)
		}
	}
}

// claimable keeps the covering wildcards that admission could grant at all: those a ManagedZone
// covers, except the zone's own wildcard when the zone does not allow it (spec.allowZoneWildcard).
// Admission claims no other wildcard, so no request can be racing this one for it, and names
// directly below a zone's domain (the usual shop.example.com) are claimed with no live read. A
// wildcard an admin writes at that moment anyway, or one a zone allows a moment after this
// cache saw it forbidden, is left to the claim reconciler, which settles overlaps (the newer
// claim becomes Conflicted).
func (c *Claimer) claimable(ctx context.Context, wildcards []string) ([]string, error) {
	if c.View == nil {
		return wildcards, nil
	}
	out := wildcards[:0:0]
	for _, w := range wildcards {
		z, err := ownership.FindZone(ctx, c.View, w)
		if err != nil {
			return nil, err
		}
		if z != nil && (z.Spec.AllowZoneWildcard || w != "*."+z.Spec.Domain) {
			out = append(out, w)
		}
	}
	return out, nil
}

// underWildcard decides a new claim d against the claim of wildcard w above it, read live: a
// settled foreign wildcard denies, a pending one is waited for.
func (c *Claimer) underWildcard(ctx context.Context, d ownership.Decision, w, ns string) (*ownership.Decision, error) {
	name := hostname.ClaimName(w)
	deadline, _ := ctx.Value(waitDeadlineKey{}).(time.Time)
	for {
		o := &v1alpha1.DomainClaim{}
		err := c.APIReader.Get(ctx, client.ObjectKey{Name: name}, o)
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, apiError("reading DomainClaim "+name, err)
		}
		if o.Spec.Namespace == ns || !o.DeletionTimestamp.IsZero() {
			return nil, nil
		}
		if o.Annotations[v1alpha1.AnnotationAdmissionPending] == "" {
			v := d.CoveredBy(w, o)
			return &v, nil
		}
		if time.Now().After(deadline) {
			v := d.Deny(ReasonConcurrent, "wildcard %q, which would cover hostname %q, was being claimed by namespace %q at the same moment and did not settle in time; try again",
				w, d.Hostname, o.Spec.Namespace)
			return &v, nil
		}
		if err := sleep(ctx, c.poll()); err != nil {
			return nil, apiError("waiting for DomainClaim "+name, err)
		}
	}
}

// refused turns an admission refusal of the claim create into a denial. The refusal usually comes
// from the DomainClaim webhook, which decides from its cache; the owner is named from a live
// read where one is found, and the refusal's own message otherwise.
func (c *Claimer) refused(ctx context.Context, d ownership.Decision, ns string, refusal error) (ownership.Decision, *v1alpha1.DomainClaim, error) {
	live := ownership.Decision{Hostname: d.Hostname}
	for _, w := range hostname.CoveringWildcards(d.Hostname) {
		o := &v1alpha1.DomainClaim{}
		if err := c.APIReader.Get(ctx, client.ObjectKey{Name: hostname.ClaimName(w)}, o); err == nil && o.Spec.Namespace != ns {
			return live.CoveredBy(w, o), nil, nil
		}
	}
	var status apierrors.APIStatus
	msg := refusal.Error()
	if errors.As(refusal, &status) {
		msg = status.Status().Message
	}
	return live.Deny(ReasonClaimRefused, "the claim for hostname %q was refused: %s", d.Hostname, msg), nil, nil
}

// confirmDetached confirms a claim outside the admission request, whose context ends with the
// answer.
func (c *Claimer) confirmDetached(own *v1alpha1.DomainClaim) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.confirm(ctx, own); err != nil && !apierrors.IsNotFound(err) {
		logf.Log.WithName("claimer").Error(err, "the claim stays marked pending until the claim reconciler removes the mark", "claim", own.Name)
	}
}

// confirm removes the pending mark from a wildcard claim whose checks found no overlap.
func (c *Claimer) confirm(ctx context.Context, own *v1alpha1.DomainClaim) error {
	// The uid makes the patch apply to this claim only, not to one made anew under its name.
	patch := client.RawPatch(types.MergePatchType,
		[]byte(fmt.Sprintf(`{"metadata":{"uid":%q,"annotations":{%q:null}}}`, own.UID, v1alpha1.AnnotationAdmissionPending)))
	if err := c.Client.Patch(ctx, own, patch); err != nil {
		return apiError("confirming DomainClaim "+own.Name, err)
	}
	return nil
}

// Withdraw deletes a claim this request created, and only that one (UID precondition), when the
// request ends up denied.
func (c *Claimer) Withdraw(ctx context.Context, own *v1alpha1.DomainClaim) error {
	uid := own.UID
	err := c.Client.Delete(ctx, own, &client.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err == nil || apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return apiError("withdrawing DomainClaim "+own.Name, err)
}

// waitDeadlineKey holds, in a request's context, when its waits for pending wildcards end.
type waitDeadlineKey struct{}

func (c *Claimer) withWaitDeadline(ctx context.Context) context.Context {
	if _, ok := ctx.Value(waitDeadlineKey{}).(time.Time); ok {
		return ctx
	}
	return context.WithValue(ctx, waitDeadlineKey{}, time.Now().Add(c.wait()))
}

func (c *Claimer) wait() time.Duration {
	if c.PendingWait > 0 {
		return c.PendingWait
	}
	return defaultPendingWait
}

func (c *Claimer) poll() time.Duration {
	if c.PendingPoll > 0 {
		return c.PendingPoll
	}
	return 20 * time.Millisecond
}

// stampNamespace records on want the UID of its namespace ns as admission sees it
// (v1alpha1.AnnotationOwnerNamespace), read through View: from the cache, and from the API server
// only for a namespace the cache does not hold yet, or holds as being deleted (a namespace is
// deleted only after seconds of cleanup, so a cache that has not yet seen it deleted and created
// again still holds it terminating). Without a View, or when the namespace is not found, the
// claim carries no stamp and reconciler/claim records the UID it first sees.
func (c *Claimer) stampNamespace(ctx context.Context, want *v1alpha1.DomainClaim, ns string) error {
	if c.View == nil {
		return nil
	}
	obj, err := c.View.Namespace(ctx, ns)
	if err != nil {
		return apiError("reading Namespace "+ns, err)
	}
	if obj != nil && !obj.DeletionTimestamp.IsZero() && c.APIReader != nil {
		live := &corev1.Namespace{}
		if err := c.APIReader.Get(ctx, client.ObjectKey{Name: ns}, live); err != nil {
			if !apierrors.IsNotFound(err) {
				return apiError("reading Namespace "+ns, err)
			}
			live = nil
		}
		obj = live
	}
	if obj != nil {
		ownership.StampNamespace(want, obj)
	}
	return nil
}

// NewClaim is the DomainClaim that admission creates for a free hostname h, owned by namespace
// ns, for the object usedBy. A wildcard's claim starts pending (see Claimer).
func NewClaim(h, ns, usedBy string, finalizers ...string) *v1alpha1.DomainClaim {
	labels := map[string]string{LabelOwner: ns}
	annotations := map[string]string{AnnotationClaimedFor: usedBy}
	if hostname.IsWildcard(h) {
		annotations[v1alpha1.AnnotationAdmissionPending] = "true"
	}
	return &v1alpha1.DomainClaim{
		ObjectMeta: metav1.ObjectMeta{
			Name:        hostname.ClaimName(h),
			Finalizers:  finalizers,
			Labels:      labels,
			Annotations: annotations,
		},
		Spec: v1alpha1.DomainClaimSpec{
			Hostname:  h,
			Namespace: ns,
			ClaimedBy: v1alpha1.ClaimedByRoute,
		},
	}
}

// ErrAPIServer marks errors that are really internal: the API server could not be asked.
var ErrAPIServer = errors.New("the API server could not be reached")

func apiError(what string, err error) error {
	return fmt.Errorf("%w while %s: %w", ErrAPIServer, what, err)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
