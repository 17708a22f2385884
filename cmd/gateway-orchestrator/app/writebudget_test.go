package app

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

func TestTheReconcilersWriteBudgetIsTheConfiguredOne(t *testing.T) {
	assert.Nil(t, Config{}.writeBudget(), "zero means no limit")
	assert.Nil(t, Config{ReconcilerWrites: -1, ReconcilerWriteBurst: 5}.writeBudget(), "a negative rate means no limit")

	l, ok := Config{ReconcilerWrites: 50, ReconcilerWriteBurst: DefaultReconcilerWriteBurst}.writeBudget().(*rate.Limiter)
	require.True(t, ok)
	assert.InDelta(t, 50, float64(l.Limit()), 0)
	assert.Equal(t, 100, l.Burst())

	l, ok = Config{ReconcilerWrites: 3}.writeBudget().(*rate.Limiter)
	require.True(t, ok)
	assert.Equal(t, 1, l.Burst(), "a burst below one would let no write go")
}
