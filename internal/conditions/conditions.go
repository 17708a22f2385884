// Package conditions sets the metav1.Conditions that every reconciler writes the same way.
package conditions

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// Set sets condition typ (True when ok) with its reason and message for generation gen, and
// reports whether its status changed. The transition time moves only when the status does.
func Set(conds *[]metav1.Condition, gen int64, typ string, ok bool, reason, msg string) bool {
	s := metav1.ConditionFalse
	if ok {
		s = metav1.ConditionTrue
	}
	prev := meta.FindStatusCondition(*conds, typ)
	changed := prev == nil || prev.Status != s
	meta.SetStatusCondition(conds, metav1.Condition{Type: typ, Status: s, Reason: reason, Message: msg, ObservedGeneration: gen})
	return changed
}

// Rollup decides a Ready condition from a chain of step conditions: True when every step is True,
// otherwise False with the first step that is not, its reason, and its message (or that it has
// not started) — so Ready always says what the claim waits for.
func Rollup(conds []metav1.Condition, steps []string) (ok bool, reason, msg string) {
	for _, typ := range steps {
		c := meta.FindStatusCondition(conds, typ)
		switch {
		case c == nil:
			return false, v1alpha1.ReasonWaitingPrefix + typ, typ + " has not started"
		case c.Status != metav1.ConditionTrue:
			return false, c.Reason, typ + ": " + c.Message
		}
	}
	return true, v1alpha1.ReasonReady, "every step is done"
}
