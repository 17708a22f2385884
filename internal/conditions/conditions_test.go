package conditions

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSetReportsStatusChanges(t *testing.T) {
	var conds []metav1.Condition
	assert.True(t, Set(&conds, 1, "A", false, "Pending", "waiting"), "a new condition is a change")
	assert.False(t, Set(&conds, 1, "A", false, "Pending", "still waiting"), "same status, other message: no change")
	assert.True(t, Set(&conds, 2, "A", true, "Done", "done"))
	assert.Equal(t, int64(2), conds[0].ObservedGeneration)
}

func TestRollup(t *testing.T) {
	steps := []string{"A", "B", "C"}
	cases := []struct {
		name       string
		conds      []metav1.Condition
		wantOK     bool
		wantReason string
		wantMsg    string
	}{
		{name: "every step true is ready", wantOK: true, wantReason: "Ready", conds: []metav1.Condition{
			{Type: "A", Status: "True"}, {Type: "B", Status: "True"}, {Type: "C", Status: "True"}}},
		{name: "the first false step explains", wantReason: "DNSConflict", wantMsg: "B: taken", conds: []metav1.Condition{
			{Type: "A", Status: "True"}, {Type: "B", Status: "False", Reason: "DNSConflict", Message: "taken"}, {Type: "C", Status: "False", Reason: "Other"}}},
		{name: "a step not started explains", wantReason: "WaitingC", wantMsg: "C has not started", conds: []metav1.Condition{
			{Type: "A", Status: "True"}, {Type: "B", Status: "True"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok, reason, msg := Rollup(tc.conds, steps)
			assert.Equal(t, tc.wantOK, ok)
			assert.Equal(t, tc.wantReason, reason)
			if tc.wantMsg != "" {
				assert.Equal(t, tc.wantMsg, msg)
			}
		})
	}
}
