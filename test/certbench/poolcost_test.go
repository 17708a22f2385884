package certbench

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// poolReconciles reads controller-runtime's reconcile-time histogram for the gatewaypool
// controller: the total time its reconciles took so far and how many there were.
func poolReconciles(b *testing.B) (seconds float64, count uint64) {
	families, err := metrics.Registry.Gather()
	must(b, err)
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_time_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == "gatewaypool" {
					seconds += m.GetHistogram().GetSampleSum()
					count += m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return seconds, count
}
