// Package claimstatus writes a DomainClaim's status by owner. Each reconciler owns some condition
// types and status fields (the ownership table in docs/design.md, which Owners encodes) and
// writes only those, with server-side apply under its own field manager. status.conditions is a
// map list keyed by type, so owners of different conditions never touch each other's entries:
// no optimistic lock, no 409 conflict, no requeue to retry a write another owner raced.
package claimstatus

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// Owner is one writer of DomainClaim status: its field manager, the condition types it sets and
// the status fields it writes.
type Owner struct {
	// Manager is the field manager of the owner's applies ("gateway-orchestrator-<concern>").
	Manager string
	// Conditions are the condition types the owner sets; it writes no other.
	Conditions []string
	// Fields names the status fields (JSON names) the owner writes besides its conditions.
	Fields []string
	// copy copies the owner's fields from one status to another.
	copy func(from, to *v1alpha1.DomainClaimStatus)
}

// The owners of DomainClaim status, one per reconciler.
var (
	// Claim is reconciler/claim: ownership, use and release.
	Claim = Owner{
		Manager:    "gateway-orchestrator-claim",
		Conditions: []string{v1alpha1.ConditionClaimed, v1alpha1.ConditionInUse, v1alpha1.ConditionBound},
		Fields:     []string{"managedZone", "hostedZoneID", "ownerNamespace", "lastReferencedTime", "releaseTime"},
		copy: func(f, t *v1alpha1.DomainClaimStatus) {
			t.ManagedZone, t.HostedZoneID, t.OwnerNamespace = f.ManagedZone, f.HostedZoneID, f.OwnerNamespace
			t.LastReferencedTime, t.ReleaseTime = f.LastReferencedTime, f.ReleaseTime
		},
	}
	// Certificate is reconciler/certificate: the ACM certificate and its validation record.
	Certificate = Owner{
		Manager: "gateway-orchestrator-certificate",
		Conditions: []string{v1alpha1.ConditionCertificateRequested, v1alpha1.ConditionValidationRecord,
			v1alpha1.ConditionCertificateIssued, v1alpha1.ConditionRenewal},
		Fields: []string{"certificateARN", "validationRecord", "certificateAttempt", "certificateRetryTime", "certificateNotAfter", "renewalStatus"},
		copy: func(f, t *v1alpha1.DomainClaimStatus) {
			t.CertificateARN, t.ValidationRecord = f.CertificateARN, f.ValidationRecord
			t.CertificateAttempt, t.CertificateRetryTime = f.CertificateAttempt, f.CertificateRetryTime
			t.CertificateNotAfter, t.RenewalStatus = f.CertificateNotAfter, f.RenewalStatus
		},
	}
	// Pool is reconciler/gatewaypool: the seat on a pool Gateway and what the Gateway reports.
	Pool = Owner{
		Manager: "gateway-orchestrator-gatewaypool",
		Conditions: []string{v1alpha1.ConditionGatewayAssigned, v1alpha1.ConditionCertificateAttached,
			v1alpha1.ConditionLoadBalancerReady, v1alpha1.ConditionRoutesAllowed, v1alpha1.ConditionStrayRoutes},
		Fields: []string{"gateway", "loadBalancerHostname", "loadBalancerZoneID", "dualStack"},
		copy: func(f, t *v1alpha1.DomainClaimStatus) {
			t.Gateway, t.LoadBalancerHostname, t.LoadBalancerZoneID, t.DualStack = f.Gateway, f.LoadBalancerHostname, f.LoadBalancerZoneID, f.DualStack
		},
	}
	// DNS is reconciler/dns: the ALIAS records.
	DNS = Owner{
		Manager:    "gateway-orchestrator-dns",
		Conditions: []string{v1alpha1.ConditionDNSRecord},
		Fields:     []string{"aliasTarget"},
		copy:       func(f, t *v1alpha1.DomainClaimStatus) { t.AliasTarget = f.AliasTarget },
	}
	// Readiness is reconciler/readiness: Ready, and the generation it reflects.
	Readiness = Owner{
		Manager:    "gateway-orchestrator-readiness",
		Conditions: []string{v1alpha1.ConditionReady},
		Fields:     []string{"observedGeneration"},
		copy:       func(f, t *v1alpha1.DomainClaimStatus) { t.ObservedGeneration = f.ObservedGeneration },
	}
)

// Owners lists every owner, in the order of the ownership table.
var Owners = []Owner{Claim, Certificate, Pool, DNS, Readiness}

// Slice returns the part of st the owner writes: its fields and its conditions, nothing else.
func (o Owner) Slice(st *v1alpha1.DomainClaimStatus) *v1alpha1.DomainClaimStatus {
	out := &v1alpha1.DomainClaimStatus{}
	o.copy(st, out)
	for _, typ := range o.Conditions {
		if c := meta.FindStatusCondition(st.Conditions, typ); c != nil {
			out.Conditions = append(out.Conditions, *c)
		}
	}
	return out
}

// Owns reports whether the owner sets condition type typ.
func (o Owner) Owns(typ string) bool {
	for _, c := range o.Conditions {
		if c == typ {
			return true
		}
	}
	return false
}

// Apply writes the owner's slice of st to claim c, if it differs from c's: one server-side apply
// of the status subresource under the owner's field manager. A field or condition the owner
// wrote before and st lacks is removed; what other owners wrote is left alone. The apply carries
// the claim's UID, so a claim deleted and created again under the same name is never written
// with its predecessor's status. Writes remembers the write until the cache shows it. It reports
// whether it wrote.
func (l *Writes) Apply(ctx context.Context, w client.StatusClient, o Owner, c *v1alpha1.DomainClaim, st *v1alpha1.DomainClaimStatus) (bool, error) {
	want, have := o.Slice(st), o.Slice(&c.Status)
	if equality.Semantic.DeepEqual(want, have) {
		l.settle(o, c)
		return false, nil
	}
	if l.stale(o, c, want, have) {
		// c is the cache's copy from before this owner's last write, which said the same:
		// writing it again would change nothing but the transition times.
		return false, nil
	}
	err := w.Status().Apply(ctx, applyObject(c, want), client.FieldOwner(o.Manager), client.ForceOwnership)
	switch {
	case apierrors.IsNotFound(err):
		return false, nil // deleted: nothing to report on
	case apierrors.IsConflict(err):
		// Server-side apply forces ownership, so the only conflict left is the UID
		// precondition: this claim is gone and another took its name.
		return false, nil
	case err != nil:
		return false, fmt.Errorf("applying %s status of DomainClaim %s: %w", o.Manager, c.Name, err)
	}
	l.remember(o, c, have, want)
	for _, typ := range o.Conditions {
		meta.RemoveStatusCondition(&c.Status.Conditions, typ)
	}
	o.copy(want, &c.Status)
	c.Status.Conditions = append(c.Status.Conditions, want.Conditions...)
	return true, nil
}

// applyObject is the apply request body: the claim's identity and the owner's status slice.
func applyObject(c *v1alpha1.DomainClaim, st *v1alpha1.DomainClaimStatus) *statusApply {
	return &statusApply{
		APIVersion: v1alpha1.GroupVersion.String(),
		Kind:       "DomainClaim",
		Metadata:   statusApplyMeta{Name: c.Name, UID: c.UID},
		Status:     st,
		tenant:     c.Spec.Namespace,
	}
}

// statusApply is a status apply of one owner's slice, as a typed apply configuration. The API
// server answers an apply with the whole claim, which Apply has no use for (it updates its copy
// from what it sent); decoding that answer into an unstructured map was more than half of a
// status write's CPU in the client, so the answer is not decoded.
type statusApply struct {
	APIVersion string                      `json:"apiVersion"`
	Kind       string                      `json:"kind"`
	Metadata   statusApplyMeta             `json:"metadata"`
	Status     *v1alpha1.DomainClaimStatus `json:"status"`

	tenant string // the claim's spec.namespace, whose turn the write waits for (WriteTenant)
}

// WriteTenant is the namespace the write is for, for the reconcilers' fair write budget
// (writebudget.Tenant): the body names the claim only.
func (a *statusApply) WriteTenant() string { return a.tenant }

// statusApplyMeta is the identity an apply carries: the name, and the UID as a precondition.
type statusApplyMeta struct {
	Name string    `json:"name"`
	UID  types.UID `json:"uid,omitempty"`
}

var _ runtime.ApplyConfiguration = &statusApply{}

// IsApplyConfiguration marks statusApply as an apply configuration.
func (*statusApply) IsApplyConfiguration() {}

// GetName, GetNamespace, GetKind and GetAPIVersion tell the client where the apply goes.
func (a *statusApply) GetName() *string       { return &a.Metadata.Name }
func (a *statusApply) GetNamespace() *string  { return nil }
func (a *statusApply) GetKind() *string       { return &a.Kind }
func (a *statusApply) GetAPIVersion() *string { return &a.APIVersion }

// UnmarshalJSON drops the server's answer (see statusApply).
func (*statusApply) UnmarshalJSON([]byte) error { return nil }

// Writes remembers each owner's last write to each claim, until the cache shows it: the
// informer cache lags the API server, and a reconcile that reads a claim from before its own
// last write would otherwise send the same slice again (a write that changes nothing but
// transition times, and counts against the API server all the same). A memo the cache never
// settles (its claim was deleted first) is dropped once it is memoTTL old: the cache's lag is
// seconds, and a memo dropped early costs one write at most.
//
// A reconciler keeps one Writes for its lifetime, beside the cache whose lag it covers; the zero
// value is ready to use.
type Writes struct {
	mu    sync.Mutex
	m     map[string]lastWrite
	swept time.Time
	// now is the memos' clock; nil means time.Now.
	now func() time.Time
}

// lastWrite is an owner's slice of a claim's status before and after its last write, and when.
type lastWrite struct {
	before, after *v1alpha1.DomainClaimStatus
	at            time.Time
}

// memoTTL is how long a memo of a write waits for the cache to show it.
const memoTTL = 5 * time.Minute

func writeKey(o Owner, c *v1alpha1.DomainClaim) string { return o.Manager + "/" + string(c.UID) }

func (l *Writes) remember(o Owner, c *v1alpha1.DomainClaim, before, after *v1alpha1.DomainClaimStatus) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]lastWrite{}
	}
	t := time.Now()
	if l.now != nil {
		t = l.now()
	}
	if t.Sub(l.swept) >= memoTTL {
		for k, w := range l.m {
			if t.Sub(w.at) >= memoTTL {
				delete(l.m, k)
			}
		}
		l.swept = t
	}
	l.m[writeKey(o, c)] = lastWrite{before: before, after: after, at: t}
}

// settle forgets the owner's last write to c: the cache shows what the owner wants.
func (l *Writes) settle(o Owner, c *v1alpha1.DomainClaim) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, writeKey(o, c))
}

// stale reports whether have (the owner's slice of the claim as the cache shows it) is still
// what it was before the owner's last write, and want says what that write said, transition
// times aside. A slice changed since by anyone else is not stale: it is written again.
func (l *Writes) stale(o Owner, c *v1alpha1.DomainClaim, want, have *v1alpha1.DomainClaimStatus) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.m[writeKey(o, c)]
	if !ok {
		return false
	}
	if !equality.Semantic.DeepEqual(w.before, have) {
		delete(l.m, writeKey(o, c)) // the cache moved on: the memo has done its job
		return false
	}
	return equality.Semantic.DeepEqual(withoutTimes(w.after), withoutTimes(want))
}

func withoutTimes(st *v1alpha1.DomainClaimStatus) *v1alpha1.DomainClaimStatus {
	out := st.DeepCopy()
	for i := range out.Conditions {
		out.Conditions[i].LastTransitionTime = metav1.Time{}
	}
	if out.AliasTarget != nil {
		out.AliasTarget.Since = metav1.Time{}
	}
	return out
}

// DefaultQuietPeriod is how long after its creation a claim's status says only what is done
// and what failed: its steps run within seconds of each other, and a write for each step that
// starts and is waiting (Pending) would be out of date before anyone read it. Past it, a claim
// that still waits says what for.
const DefaultQuietPeriod = time.Minute

// Hold is how much longer an owner keeps back the write of st's slice to claim c at now: while
// c is younger than quiet, a slice in which a step is still waiting (a condition False with
// reason Pending or Waiting...) and none failed (False with any other reason) is not written.
// A slice in which every step is done, or one failed, is written at once; so is one that only
// takes back what the owner said before. StrayRoutes (False when all is well) is no step.
// A quiet of zero means DefaultQuietPeriod.
func Hold(o Owner, c *v1alpha1.DomainClaim, st *v1alpha1.DomainClaimStatus, now time.Time, quiet time.Duration) time.Duration {
	if quiet == 0 {
		quiet = DefaultQuietPeriod
	}
	left := c.CreationTimestamp.Add(quiet).Sub(now)
	if left <= 0 {
		return 0
	}
	waiting := false
	for _, typ := range o.Conditions {
		if typ == v1alpha1.ConditionStrayRoutes {
			continue
		}
		want := meta.FindStatusCondition(st.Conditions, typ)
		if want == nil || want.Status == metav1.ConditionTrue {
			continue
		}
		if !Waiting(want) {
			return 0
		}
		waiting = true
	}
	if !waiting {
		return 0
	}
	for _, typ := range o.Conditions {
		if meta.FindStatusCondition(c.Status.Conditions, typ) != nil {
			// The owner spoke before (a claim that went back a step): what it says now is news.
			return 0
		}
	}
	return left
}

// Waiting reports whether condition cond says only that its step goes on: False while the step
// is pending or has not started, not because something failed.
func Waiting(cond *metav1.Condition) bool {
	return cond.Status == metav1.ConditionFalse &&
		(cond.Reason == v1alpha1.ReasonPending || strings.HasPrefix(cond.Reason, v1alpha1.ReasonWaitingPrefix))
}

// Held collects, for one reconcile that writes the status of many claims, the soonest a status
// it kept back (Hold) is due, so that the reconcile comes back then.
type Held struct {
	mu   sync.Mutex
	wait time.Duration
}

type heldKey struct{}

// WithHeld returns ctx carrying a new Held, and the Held.
func WithHeld(ctx context.Context) (context.Context, *Held) {
	h := &Held{}
	return context.WithValue(ctx, heldKey{}, h), h
}

// HeldFrom returns the Held ctx carries (a new one, which nobody reads, if none).
func HeldFrom(ctx context.Context) *Held {
	if h, ok := ctx.Value(heldKey{}).(*Held); ok {
		return h
	}
	return &Held{}
}

// Add records a status kept back for wait.
func (h *Held) Add(wait time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.wait == 0 || wait < h.wait {
		h.wait = wait
	}
}

// Wait is the soonest a status kept back is due (0 when none was).
func (h *Held) Wait() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.wait
}
