// Package claimstatus writes a DomainClaim's status by owner. Each reconciler owns some condition
// types and status fields (the ownership table in docs/design.md, which Owners encodes) and
// writes only those, with server-side apply under its own field manager. status.conditions is a
// map list keyed by type, so owners of different conditions never touch each other's entries:
// no optimistic lock, no 409 conflict, no requeue to retry a write another owner raced.
package claimstatus

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
		Fields: []string{"certificateARN", "validationRecord", "certificateNotAfter", "renewalStatus"},
		copy: func(f, t *v1alpha1.DomainClaimStatus) {
			t.CertificateARN, t.ValidationRecord = f.CertificateARN, f.ValidationRecord
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
		copy:       func(_, _ *v1alpha1.DomainClaimStatus) {},
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
// with its predecessor's status. It reports whether it wrote.
func Apply(ctx context.Context, w client.StatusClient, o Owner, c *v1alpha1.DomainClaim, st *v1alpha1.DomainClaimStatus) (bool, error) {
	want := o.Slice(st)
	if equality.Semantic.DeepEqual(want, o.Slice(&c.Status)) {
		return false, nil
	}
	u, err := applyObject(c, want)
	if err != nil {
		return false, err
	}
	err = w.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(o.Manager), client.ForceOwnership)
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
	for _, typ := range o.Conditions {
		meta.RemoveStatusCondition(&c.Status.Conditions, typ)
	}
	o.copy(want, &c.Status)
	c.Status.Conditions = append(c.Status.Conditions, want.Conditions...)
	return true, nil
}

// applyObject is the apply request body: the claim's identity and the owner's status slice.
func applyObject(c *v1alpha1.DomainClaim, st *v1alpha1.DomainClaimStatus) (*unstructured.Unstructured, error) {
	raw, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	status := map[string]any{}
	if err := json.Unmarshal(raw, &status); err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: map[string]any{"status": status}}
	u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("DomainClaim"))
	u.SetName(c.Name)
	u.SetUID(c.UID)
	return u, nil
}
