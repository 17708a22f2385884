package v1alpha1

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestAliasRecordsGoneForDeletion(t *testing.T) {
	claimed := metav1.Condition{Type: ConditionClaimed, Status: metav1.ConditionTrue, Reason: ReasonClaimed}
	conflicted := metav1.Condition{Type: ConditionClaimed, Status: metav1.ConditionFalse, Reason: ReasonConflicted}
	dns := func(reason string) metav1.Condition {
		return metav1.Condition{Type: ConditionDNSRecord, Status: metav1.ConditionFalse, Reason: reason}
	}
	for name, tc := range map[string]struct {
		conds []metav1.Condition
		lb    string
		seat  bool
		gone  bool
	}{
		"a claim that never held its hostname never had a record":                             {gone: true},
		"a claim that lost its hostname has no record of its own at the name":                 {conds: []metav1.Condition{conflicted}, gone: true},
		"a claim holding its hostname with no condition may have first records queued unsaid": {conds: []metav1.Condition{claimed}},
		"nor with a load balancer": {conds: []metav1.Condition{claimed}, lb: "alb-1"},
		"nor with a seat":          {conds: []metav1.Condition{claimed}, seat: true},
		"records removed":          {conds: []metav1.Condition{claimed, dns(ReasonRecordsRemoved)}, gone: true},
		"records removed when the claim lost its hostname":   {conds: []metav1.Condition{claimed, dns(ReasonUnprovisioned)}, gone: true},
		"records removed because nothing served the name":    {conds: []metav1.Condition{claimed, dns(ReasonNoLoadBalancer)}, gone: true},
		"a load balancer since records went for want of one": {conds: []metav1.Condition{claimed, dns(ReasonNoLoadBalancer)}, lb: "alb-1"},
		"records pending": {conds: []metav1.Condition{claimed, dns(ReasonPending)}},
		"records in place even after the load balancer went": {conds: []metav1.Condition{claimed, {Type: ConditionDNSRecord, Status: metav1.ConditionTrue, Reason: ReasonCreated}}},
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
