package v1alpha1

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestAliasRecordsGoneForDeletion(t *testing.T) {
	claimed := metav1.Condition{Type: ConditionClaimed, Status: metav1.ConditionTrue, Reason: ReasonClaimed}
	bound := metav1.Condition{Type: ConditionBound, Status: metav1.ConditionTrue, Reason: ReasonObjectExists}
	conflicted := metav1.Condition{Type: ConditionClaimed, Status: metav1.ConditionFalse, Reason: ReasonConflicted}
	dns := func(reason string) metav1.Condition {
		return metav1.Condition{Type: ConditionDNSRecord, Status: metav1.ConditionFalse, Reason: reason}
	}
	held := func(more ...metav1.Condition) []metav1.Condition {
		return append([]metav1.Condition{claimed, bound}, more...)
	}
	for name, tc := range map[string]struct {
		conds []metav1.Condition
		lb    string
		seat  bool
		gone  bool
	}{
		"a claim that never held its hostname never had a record":                                   {gone: true},
		"a claim that lost its hostname leaves the records at the name to the one holding it":       {conds: []metav1.Condition{conflicted, bound}, gone: true},
		"a claim never bound never had a load balancer or seat":                                     {conds: []metav1.Condition{claimed}, gone: true},
		"a bound claim holding its hostname with no condition may have first records queued unsaid": {conds: held()},
		"nor with a load balancer": {conds: held(), lb: "alb-1"},
		"nor with a seat":          {conds: held(), seat: true},
		"records removed":          {conds: held(dns(ReasonRecordsRemoved)), gone: true},
		"records removed when the claim lost its hostname":       {conds: held(dns(ReasonUnprovisioned)), gone: true},
		"records removed because nothing served the name":        {conds: held(dns(ReasonNoLoadBalancer)), gone: true},
		"a load balancer since the records went for want of one": {conds: held(dns(ReasonNoLoadBalancer)), lb: "alb-1"},
		"records pending": {conds: held(dns(ReasonPending))},
		"records in place, even after the load balancer went": {conds: held(metav1.Condition{Type: ConditionDNSRecord, Status: metav1.ConditionTrue, Reason: ReasonCreated})},
	} {
		t.Run(name, func(t *testing.T) {
			c := &DomainClaim{Status: DomainClaimStatus{Conditions: tc.conds, LoadBalancerHostname: tc.lb}}
			if tc.seat {
				c.Status.Gateway = &ObjectRef{Namespace: "gateways", Name: "gw-1"}
			}
			assert.Equal(t, tc.gone, c.AliasRecordsGoneForDeletion())
		})
	}
}
