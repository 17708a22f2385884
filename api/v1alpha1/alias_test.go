package v1alpha1

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestAliasPointsAtReadsTheConfirmedTargetNotTheMessage(t *testing.T) {
	const lb = "own-1.us-east-1.elb.amazonaws.com"
	ready := metav1.Condition{Type: ConditionDNSRecord, Status: metav1.ConditionTrue, Reason: ReasonCreated,
		Message: AliasMessage("shop.example.com", lb), ObservedGeneration: 1}
	for _, tc := range []struct {
		name   string
		target *AliasTarget
		conds  []metav1.Condition
		lb     string
		want   bool
	}{
		{name: "the confirmed target is the load balancer", target: &AliasTarget{DNSName: lb, HostedZoneID: "ZALB"}, lb: lb, want: true},
		{name: "DNS names compare without case and trailing dot", target: &AliasTarget{DNSName: "Own-1.us-east-1.elb.amazonaws.com."}, lb: lb, want: true},
		{name: "another load balancer is not it", target: &AliasTarget{DNSName: "pool-1.us-east-1.elb.amazonaws.com"}, lb: lb},
		{name: "a message saying so without the field (a claim of an older version) is not enough", conds: []metav1.Condition{ready}, lb: lb},
		{name: "no target: the records were removed or never confirmed", lb: lb},
		{name: "no load balancer asked about is never pointed at", target: &AliasTarget{DNSName: ""}, lb: ""},
		{name: "the field counts whatever the condition says meanwhile (a change elsewhere is on its way)",
			target: &AliasTarget{DNSName: lb}, conds: []metav1.Condition{{Type: ConditionDNSRecord, Status: metav1.ConditionFalse, Reason: ReasonPending}},
			lb: lb, want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &DomainClaim{ObjectMeta: metav1.ObjectMeta{Generation: 1}, Spec: DomainClaimSpec{Hostname: "shop.example.com"},
				Status: DomainClaimStatus{AliasTarget: tc.target, Conditions: tc.conds}}
			assert.Equal(t, tc.want, c.AliasPointsAt(tc.lb))
		})
	}
}
