package dnsbatch

import (
	"errors"
	"fmt"
	"time"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// Step is what a want's Result means for the condition of the reconcile step that asked.
type Step struct {
	// Waiting is true while the want is not done; Reason and Message then explain it.
	Waiting         bool
	Reason, Message string
	// RequeueAfter and Err say how to requeue: a queued change wakes its owner through
	// Notify; a conflict is looked at again in a minute; a failed change goes back with an error.
	RequeueAfter time.Duration
	Err          error
}

// StepOf reads the Result (and error) of Ensure for record what ("ALIAS record") in zoneID.
func StepOf(res Result, err error, what, zoneID string) Step {
	switch res.State {
	case Pending:
		return Step{Waiting: true, Reason: v1alpha1.ReasonPending, Message: what + " queued for hosted zone " + zoneID}
	case Conflict:
		return Step{Waiting: true, Reason: v1alpha1.ReasonDNSConflict, Message: res.Message, RequeueAfter: time.Minute}
	case Failed:
		if err == nil {
			err = errors.New(res.Message)
		}
		return Step{Waiting: true, Reason: v1alpha1.ReasonChangeFailed, Message: res.Message, Err: fmt.Errorf("%s: %w", what, err)}
	}
	return Step{}
}
