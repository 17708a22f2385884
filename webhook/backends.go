package webhook

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// MaxTargetGroupsPerAction is the ELBv2 quota "Target Groups per Action per Application Load
// Balancer" (5, not adjustable). LBC makes one target group per backendRef and puts a rule's
// backendRefs into one forward action, so ELBv2 refuses the rule of a route whose rule has more,
// and LBC's deploy of the whole Gateway fails with it.
const MaxTargetGroupsPerAction = 5

func httpBackends(r *gwv1.HTTPRoute) []int {
	out := make([]int, len(r.Spec.Rules))
	for i, rule := range r.Spec.Rules {
		out[i] = len(rule.BackendRefs)
	}
	return out
}

func grpcBackends(r *gwv1.GRPCRoute) []int {
	out := make([]int, len(r.Spec.Rules))
	for i, rule := range r.Spec.Rules {
		out[i] = len(rule.BackendRefs)
	}
	return out
}

// overfullRules denies the rules with more backendRefs than one ALB action forwards to, for a
// route on a shared pool Gateway (named in its parentRefs, or none: the routes reconciler
// attaches it to the pool). On its own Gateway a team breaks only its own ALB, which LBC reports
// there; on a pool's, LBC would stop programming the ALB every team shares: new seats, and the
// listener changes that move a transferred hostname away from its former owner.
func (door *Door) overfullRules(ctx context.Context, ns string, refs []gwv1.ParentReference, backends []int) (field.ErrorList, error) {
	var errs field.ErrorList
	for i, n := range backends {
		if n <= MaxTargetGroupsPerAction {
			continue
		}
		where := "without parentRefs it is attached to a shared pool Gateway"
		if len(refs) > 0 {
			gw, err := door.poolParent(ctx, ns, refs)
			if err != nil || gw == "" {
				return nil, err
			}
			where = "it is attached to the shared pool Gateway " + gw
		}
		errs = append(errs, field.Forbidden(field.NewPath("spec", "rules").Index(i).Child("backendRefs"), fmt.Sprintf(
			"%d backendRefs in one rule, but an ALB rule forwards to at most %d target groups (an AWS quota that cannot be raised); %s, "+
				"whose ALB every team shares and which LBC could no longer program: split the rule into rules of at most %d backendRefs",
			n, MaxTargetGroupsPerAction, where, MaxTargetGroupsPerAction)))
	}
	return errs, nil
}
