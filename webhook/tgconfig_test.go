package webhook

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// slowEmptyLister is an API server whose list of TargetGroupConfigurations takes a while and
// does not show the configurations being admitted (the API server stores them after admission).
type slowEmptyLister struct{ client.Reader }

func (slowEmptyLister) List(context.Context, client.ObjectList, ...client.ListOption) error {
	time.Sleep(50 * time.Millisecond)
	return nil
}

func named(ns, name string) *lbc.TargetGroupConfiguration {
	return &lbc.TargetGroupConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cfg"},
		Spec: lbc.TargetGroupConfigurationSpec{DefaultConfiguration: lbc.TargetGroupProps{TargetGroupName: ptr.To(name)}}}
}

// Two namespaces creating the same target group name at once: the list of each admission shows
// neither, so both passed; now the replica remembers the name it admitted, and the second fails.
func TestSimultaneousCreatesOfOneTargetGroupNameInTwoNamespaces(t *testing.T) {
	v := &TargetGroupConfigValidator{Reader: slowEmptyLister{}}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, ns := range []string{"team-a", "team-b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = v.ValidateCreate(context.Background(), named(ns, "Shared-TG"))
		}()
	}
	wg.Wait()
	passed := 0
	for _, err := range errs {
		if err == nil {
			passed++
		} else {
			assert.Contains(t, err.Error(), "is set by TargetGroupConfiguration")
		}
	}
	assert.Equal(t, 1, passed, "one of the two keeps the name")

	_, err := v.ValidateCreate(context.Background(), named("team-c", "shared-tg"))
	assert.Error(t, err, "a third namespace, in another case, while the hold lasts")
}

func TestAHeldTargetGroupNameBindsOnlyOtherNamespacesAndNotDryRuns(t *testing.T) {
	v := &TargetGroupConfigValidator{Reader: slowEmptyLister{}}
	dry := admission.NewContextWithRequest(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{DryRun: ptr.To(true)}})
	_, err := v.ValidateCreate(dry, named("team-a", "tg-1"))
	require.NoError(t, err)
	_, err = v.ValidateCreate(context.Background(), named("team-b", "tg-1"))
	require.NoError(t, err, "a dry run holds nothing")
	_, err = v.ValidateCreate(context.Background(), named("team-b", "tg-1"))
	require.NoError(t, err, "the namespace holding the name may use it again")
	v.hold(nil, named("x", "y"), time.Now().Add(2*NameHoldTTL))
	_, err = v.ValidateCreate(context.Background(), named("team-a", "tg-1"))
	assert.NoError(t, err, "an expired hold binds nothing")
}
