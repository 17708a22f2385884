package certificate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// op is one JSON patch operation.
type op struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// addFinalizer saves v1alpha1.FinalizerAWSCleanup on the claim before any AWS resource exists.
// A JSON patch that tests the claim's UID and appends changes nothing else and, unlike a merge
// patch under an optimistic lock, does not fail because another reconciler wrote the status.
func addFinalizer(ctx context.Context, w client.Writer, c *v1alpha1.DomainClaim) error {
	ops := []op{{Op: "test", Path: "/metadata/uid", Value: string(c.UID)}}
	if len(c.Finalizers) == 0 {
		ops = append(ops, op{Op: "add", Path: "/metadata/finalizers", Value: []string{v1alpha1.FinalizerAWSCleanup}})
	} else {
		ops = append(ops, op{Op: "add", Path: "/metadata/finalizers/-", Value: v1alpha1.FinalizerAWSCleanup})
	}
	return jsonPatch(ctx, w, c, ops)
}

// removeFinalizer lets the claim go: it removes v1alpha1.FinalizerAWSCleanup where the claim
// holds it, after testing that it is still there.
func removeFinalizer(ctx context.Context, w client.Writer, c *v1alpha1.DomainClaim) error {
	for i, f := range c.Finalizers {
		if f == v1alpha1.FinalizerAWSCleanup {
			path := "/metadata/finalizers/" + strconv.Itoa(i)
			return jsonPatch(ctx, w, c, []op{{Op: "test", Path: path, Value: f}, {Op: "remove", Path: path}})
		}
	}
	return nil
}

// errClaimMoved is what a finalizer patch whose test operation failed returns: the claim was
// replaced, or its finalizers moved under a concurrent edit.
var errClaimMoved = errors.New("the claim changed under the finalizer patch")

// jsonPatch applies ops to the claim. The API server answers a failed test operation with 422
// (Invalid): that is errClaimMoved, which finalizerResult turns into a quiet retry.
func jsonPatch(ctx context.Context, w client.Writer, c *v1alpha1.DomainClaim, ops []op) error {
	raw, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	err = w.Patch(ctx, c, client.RawPatch(types.JSONPatchType, raw))
	if apierrors.IsInvalid(err) {
		return fmt.Errorf("%w: %w", errClaimMoved, err)
	}
	return client.IgnoreNotFound(err)
}

// finalizerResult is the reconcile result of a finalizer patch's err: a claim that changed under
// the patch is read again a second later (logged at V(1), not as an error: a finalizer that
// another controller's edit moved is normal); any other error is returned.
func finalizerResult(ctx context.Context, err error) (reconcile.Result, error) {
	if errors.Is(err, errClaimMoved) {
		logf.FromContext(ctx).V(1).Info("trying the finalizer patch again", "reason", err.Error())
		return reconcile.Result{RequeueAfter: time.Second}, nil
	}
	return reconcile.Result{}, err
}
