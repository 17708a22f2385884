package app

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrlzap "sigs.k8s.io/controller-runtime/pkg/log/zap"
)

func TestQuietWhenStoppingDemotesOnlyTheCancellationsOfAStoppingManager(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	running, stop := context.WithCancel(context.Background())
	log := QuietWhenStopping(running, ctrlzap.New(ctrlzap.RawZapOpts(zap.AddCaller(), zap.WrapCore(func(zapcore.Core) zapcore.Core { return core })))).
		WithName("controller").WithValues("claim", "a.example.com")
	canceled := fmt.Errorf(`Patch "https://127.0.0.1/status": %w`, context.Canceled)

	log.Error(canceled, "Reconciler error")
	stop()
	log.Error(canceled, "Reconciler error")
	log.Error(errors.New("AccessDenied"), "Reconciler error")
	log.Error(apierrors.NewTimeoutError("failed waiting for *v1.GatewayClass Informer to sync", 0), "Reconciler error")

	entries := logs.All()
	require.Len(t, entries, 4)
	assert.Equal(t, zapcore.InfoLevel, entries[3].Level, "nor is an informer that could not sync before the stop")
	assert.Equal(t, zapcore.ErrorLevel, entries[0].Level, "a canceled call while the manager runs is an error")
	assert.Equal(t, zapcore.InfoLevel, entries[1].Level, "once it stops, its own cancellation is not")
	assert.Equal(t, "Reconciler error (stopping)", entries[1].Message)
	assert.Equal(t, map[string]any{"claim": "a.example.com", "error": canceled.Error()}, entries[1].ContextMap(), "the error is still shown")
	assert.Equal(t, zapcore.ErrorLevel, entries[2].Level, "any other error while stopping still is one")
	for _, e := range entries {
		assert.Equal(t, "controller", e.LoggerName, "names and values pass through")
		assert.Contains(t, e.Caller.File, "logger_test.go", "the caller is where the log call is, not the wrapper")
	}
}
