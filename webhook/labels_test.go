package webhook_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/opendi/gateway-orchestrator/reconciler/gatewaypool"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// The webhook recognizes pool Gateways by the label the pool reconciler puts on them.
func TestPoolLabelIsThePoolReconcilersLabel(t *testing.T) {
	assert.Equal(t, gatewaypool.LabelPool, webhook.LabelPool)
}
