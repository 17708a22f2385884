package webhook_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/reconciler/gatewaypool"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// The webhook recognizes pool Gateways by the label the pool reconciler puts on them (the pool
// reconciler still spells it out itself).
func TestPoolLabelIsThePoolReconcilersLabel(t *testing.T) {
	assert.Equal(t, v1alpha1.LabelPool, gatewaypool.LabelPool)
	assert.Equal(t, v1alpha1.LabelPool, webhook.LabelPool)
}
