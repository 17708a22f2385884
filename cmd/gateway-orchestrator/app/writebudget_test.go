package app

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/opendi/gateway-orchestrator/internal/writebudget"
)

func TestTheReconcilersWriteBudgetIsTheConfiguredOne(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	assert.Nil(t, Config{}.writeBudget(ctx), "zero means no limit")
	assert.Nil(t, Config{ReconcilerWrites: -1, ReconcilerWriteBurst: 5}.writeBudget(ctx), "a negative rate means no limit")
	assert.IsType(t, &writebudget.Fair{}, Config{ReconcilerWrites: DefaultReconcilerWrites, ReconcilerWriteBurst: DefaultReconcilerWriteBurst}.writeBudget(ctx),
		"a rate is a budget fair between namespaces")
}
