package zonestatus

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

func TestOldestNotReadyClaimPerZone(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) metav1.Time { return metav1.NewTime(now.Add(-ago)) }
	mk := func(name, zone string, created time.Duration, ready *metav1.Condition) *v1alpha1.DomainClaim {
		c := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: at(created)}}
		c.Status.ManagedZone = zone
		if ready != nil {
			ready.Type = v1alpha1.ConditionReady
			c.Status.Conditions = []metav1.Condition{*ready}
		}
		return c
	}
	gone := mk("deleting", "a", 10*time.Hour, nil)
	gone.DeletionTimestamp = &metav1.Time{Time: now}
	gone.Finalizers = []string{"test/keep"}
	objs := []client.Object{
		mk("ready", "a", 5*time.Hour, &metav1.Condition{Status: metav1.ConditionTrue, LastTransitionTime: at(4 * time.Hour)}),
		mk("waiting", "a", 3*time.Hour, &metav1.Condition{Status: metav1.ConditionFalse, LastTransitionTime: at(40 * time.Minute)}),
		mk("new", "a", 2*time.Minute, nil),
		mk("other-zone", "b", time.Hour, nil),
		gone,
	}
	s := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(s))
	r := fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()

	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(NewNotReadyCollector(r, clocktesting.NewFakePassiveClock(now))))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, mf := range mfs {
		require.Equal(t, MetricOldestNotReady, mf.GetName())
		for _, m := range mf.GetMetric() {
			got[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	assert.Equal(t, map[string]float64{
		"a": (40 * time.Minute).Seconds(), // since Ready turned False; Ready and deleting claims left out
		"b": time.Hour.Seconds(),          // no Ready condition yet: since creation
	}, got)
}
