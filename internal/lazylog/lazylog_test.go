package lazylog

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	ctrlzap "sigs.k8s.io/controller-runtime/pkg/log/zap"
)

func observed(level zapcore.Level) (*observer.ObservedLogs, func() zapcore.Core) {
	core, logs := observer.New(level)
	return logs, func() zapcore.Core { return core }
}

func TestLinesCarryTheLoggersValuesThenTheirOwn(t *testing.T) {
	logs, core := observed(zapcore.InfoLevel)
	log := New(ctrlzap.New(ctrlzap.RawZapOpts(zap.AddCaller(), zap.WrapCore(func(zapcore.Core) zapcore.Core { return core() }))))
	base := log.WithName("admission").WithValues("object", "team-a/shop")
	a := base.WithValues("user", "alice")
	b := base.WithValues("user", "bob") // a sibling must not see a's values, nor overwrite them
	a.Info("claimed hostname", "hostname", "shop.example.com")
	b.WithName("door").Error(assert.AnError, "denied")
	base.V(1).Info("not written")

	entries := logs.All()
	require.Len(t, entries, 2)
	assert.Equal(t, "admission", entries[0].LoggerName)
	assert.Equal(t, "admission.door", entries[1].LoggerName, "names pass through")
	assert.Equal(t, []string{"object", "user", "hostname"}, keys(entries[0].Context), "the logger's values first, in order, then the line's")
	assert.Equal(t, map[string]any{"object": "team-a/shop", "user": "alice", "hostname": "shop.example.com"}, entries[0].ContextMap())
	assert.Equal(t, "bob", entries[1].ContextMap()["user"])
	for _, e := range entries {
		assert.Contains(t, e.Caller.File, "lazylog_test.go", "the caller is where the log call is, not the wrapper")
	}
}

func keys(fields []zapcore.Field) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.Key
	}
	return out
}

// A request's logger that writes no line costs one small slice, not a copy of zap's encoder.
func TestValuesThatAreNeverWrittenCostAlmostNothing(t *testing.T) {
	zl := ctrlzap.New(ctrlzap.UseDevMode(false))
	kv := []any{"webhookGroup", "gateway.networking.k8s.io", "webhookKind", "HTTPRoute", "namespace", "team-a", "name", "shop", "user", "alice", "requestID", "1234"}
	eager := testing.AllocsPerRun(200, func() { _ = zl.WithValues(kv...) })
	lazy := New(zl)
	kept := testing.AllocsPerRun(200, func() { _ = lazy.WithValues(kv...) })
	t.Logf("allocations per WithValues of 6 values: zap %.0f, lazylog %.0f", eager, kept)
	assert.LessOrEqual(t, kept, 2.0)
	assert.Less(t, kept, eager)
}
