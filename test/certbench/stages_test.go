package certbench

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

// stages are the claim conditions on the way to Ready, in the order the pipeline sets them.
var stages = []string{
	v1alpha1.ConditionClaimed, v1alpha1.ConditionBound, v1alpha1.ConditionCertificateRequested, v1alpha1.ConditionCertificateIssued,
	v1alpha1.ConditionGatewayAssigned, v1alpha1.ConditionLoadBalancerReady, v1alpha1.ConditionDNSRecord, v1alpha1.ConditionReady,
}

// logStages logs, for each stage, when the claims reached it (its condition's last transition to
// True) after they were created: the median and the last. It shows where the time to the goal goes.
func logStages(b *testing.B, env *testenv.Env) {
	var l v1alpha1.DomainClaimList
	must(b, env.Manager.GetCache().List(context.Background(), &l))
	var out []string
	for _, typ := range stages {
		var at []time.Duration
		for _, c := range l.Items {
			for _, cond := range c.Status.Conditions {
				if cond.Type == typ && cond.Status == "True" {
					at = append(at, cond.LastTransitionTime.Sub(c.CreationTimestamp.Time))
				}
			}
		}
		if len(at) == 0 {
			continue
		}
		sort.Slice(at, func(i, j int) bool { return at[i] < at[j] })
		out = append(out, fmt.Sprintf("%s p50 %s last %s", typ, at[len(at)/2], at[len(at)-1]))
	}
	b.Logf("stages after creation: %s", strings.Join(out, "; "))
}
