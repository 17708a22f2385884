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

// MaxConditionValuesPerRule is the ELBv2 quota "Condition values per rule" (5) of an ALB rule,
// all its conditions together. LBC makes one ALB rule per route match and hostname: one
// host-header value, the path's values (two for a PathPrefix other than "/": the path and the
// path followed by "/*"), one per header, query parameter and method.
const MaxConditionValuesPerRule = 5

// ruleShape is what one route rule asks of an ALB rule: its backendRefs, and the condition values
// of each of its matches.
type ruleShape struct {
	backends int
	matches  []int
}

func httpShapes(r *gwv1.HTTPRoute) []ruleShape {
	out := make([]ruleShape, len(r.Spec.Rules))
	for i, rule := range r.Spec.Rules {
		out[i].backends = len(rule.BackendRefs)
		for _, m := range rule.Matches {
			n := 1 + len(m.Headers) + len(m.QueryParams) // the host, then one each
			if m.Method != nil {
				n++
			}
			switch {
			case m.Path == nil || m.Path.Value == nil || m.Path.Type == nil || *m.Path.Type != gwv1.PathMatchPathPrefix || *m.Path.Value == "/":
				n++
			default:
				n += 2
			}
			out[i].matches = append(out[i].matches, n)
		}
	}
	return out
}

func grpcShapes(r *gwv1.GRPCRoute) []ruleShape {
	out := make([]ruleShape, len(r.Spec.Rules))
	for i, rule := range r.Spec.Rules {
		out[i].backends = len(rule.BackendRefs)
		for _, m := range rule.Matches {
			out[i].matches = append(out[i].matches, 2+len(m.Headers)) // the host, the method's path, one per header
		}
	}
	return out
}

// albQuotas denies the rules a shared pool ALB cannot take, for a route on a pool Gateway (named
// in its parentRefs, or none: the routes reconciler attaches it to the pool): more backendRefs
// than one ALB action forwards to, or a match with more condition values than an ALB rule holds.
// ELBv2 refuses such a rule and LBC's deploy of the whole Gateway fails with it, so one team
// would stop LBC programming the ALB every team shares: new seats, and the listener changes that
// move a transferred hostname away from its former owner. On its own Gateway a team breaks only
// its own ALB, which LBC reports there.
func (door *Door) albQuotas(ctx context.Context, ns string, refs []gwv1.ParentReference, shapes []ruleShape) (field.ErrorList, error) {
	var errs field.ErrorList
	rules := field.NewPath("spec", "rules")
	for i, s := range shapes {
		if s.backends > MaxTargetGroupsPerAction {
			errs = append(errs, field.Forbidden(rules.Index(i).Child("backendRefs"), fmt.Sprintf(
				"%d backendRefs in one rule, but an ALB rule forwards to at most %d target groups (an AWS quota that cannot be raised); "+
					"split the rule into rules of at most %d backendRefs", s.backends, MaxTargetGroupsPerAction, MaxTargetGroupsPerAction)))
		}
		for j, n := range s.matches {
			if n > MaxConditionValuesPerRule {
				errs = append(errs, field.Forbidden(rules.Index(i).Child("matches").Index(j), fmt.Sprintf(
					"the match needs %d ALB condition values (the hostname, the path's, one per header, query parameter and method), "+
						"but an ALB rule holds at most %d (an AWS quota); split it into matches with fewer conditions", n, MaxConditionValuesPerRule)))
			}
		}
	}
	if len(errs) == 0 {
		return nil, nil
	}
	where := "without parentRefs the route is attached to a shared pool Gateway"
	if len(refs) > 0 {
		gw, err := door.poolParent(ctx, ns, refs)
		if err != nil || gw == "" {
			return nil, err
		}
		where = "the route is attached to the shared pool Gateway " + gw
	}
	for _, e := range errs {
		e.Detail += "; " + where + ", whose ALB every team shares and which LBC could not program any more"
	}
	return errs, nil
}
