package integration

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	uberzap "go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"k8s.io/apimachinery/pkg/api/meta"
	ctrlzap "sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

// stopManagerWithLogs runs a manager of its own whose logs it records (and shows, at the level the
// tests show), lets work run, stops the manager as Ctrl-C would (its context ends), and returns
// what it logged at error level from the stop on. An error it had logged before the stop already
// (about objects other tests left behind, which this manager reconciles too) is not the stop's.
func stopManagerWithLogs(t *testing.T, work func()) []observer.LoggedEntry {
	t.Helper()
	ctx := context.Background()
	core, logs := observer.New(zapcore.DebugLevel)
	logger := ctrlzap.New(ctrlzap.WriteTo(os.Stderr), ctrlzap.Level(zapcore.Level(zapLevel())),
		ctrlzap.RawZapOpts(uberzap.WrapCore(func(c zapcore.Core) zapcore.Core { return zapcore.NewTee(c, core) })))
	require.NoError(t, env.StopManager())
	require.NoError(t, env.StartManager(ctx, testenv.Options{AWSRates: testRates, Logger: logger}))
	t.Cleanup(func() { require.NoError(t, env.StartManager(ctx, testenv.Options{AWSRates: testRates})) })
	work()
	running := logs.FilterLevelExact(zapcore.ErrorLevel).All()
	seen := map[string]bool{}
	for _, e := range running {
		seen[errorOf(e)] = true
	}
	require.NoError(t, env.StopManager(), "the manager stops without an error")
	var errs []observer.LoggedEntry
	for _, e := range logs.FilterLevelExact(zapcore.ErrorLevel).All()[len(running):] {
		// A terminal error is a reconciler's verdict on an object (another test's claim whose
		// hostname ACM cannot take, say), logged whenever that object is reconciled: the stop
		// does not cause it.
		if !seen[errorOf(e)] && !terminal(e) {
			errs = append(errs, e)
		}
	}
	return errs
}

// terminal reports whether the entry's error is a reconcile.TerminalError.
func terminal(e observer.LoggedEntry) bool {
	for _, f := range e.Context {
		if err, ok := f.Interface.(error); ok && f.Key == "error" && errors.Is(err, reconcile.TerminalError(nil)) {
			return true
		}
	}
	return false
}

// errorOf is an entry's message and error text.
func errorOf(e observer.LoggedEntry) string {
	s := e.Message
	for _, f := range e.Context {
		if err, ok := f.Interface.(error); ok && f.Key == "error" {
			s += ": " + err.Error()
		}
	}
	return s
}

func describe(entries []observer.LoggedEntry) string {
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e.LoggerName + ": " + errorOf(e) + "\n")
	}
	return b.String()
}

func TestStoppingTheManagerOnceClaimsAreReadyLogsNoErrors(t *testing.T) {
	errs := stopManagerWithLogs(t, func() {
		z, _ := servedZone(t)
		ns := tenant(t)
		for _, h := range []string{"shop." + z.Spec.Domain, "blog." + z.Spec.Domain} {
			require.NoError(t, k8s.Create(context.Background(), route(ns, h)))
		}
		ready(t, "shop."+z.Spec.Domain, 60*time.Second)
		ready(t, "blog."+z.Spec.Domain, 60*time.Second)
	})
	assert.Empty(t, errs, "error-level logs at shutdown:\n%s", describe(errs))
}

func TestStoppingTheManagerMidWorkLogsNoErrors(t *testing.T) {
	errs := stopManagerWithLogs(t, func() {
		z, _ := servedZone(t)
		ns := tenant(t)
		for _, h := range []string{"a", "b", "c", "d", "e", "f"} {
			require.NoError(t, k8s.Create(context.Background(), route(ns, h+"."+z.Spec.Domain)))
		}
		// Stop as soon as the first claim has its certificate requested: the others, the pool
		// and the stand-in are mid-way then.
		require.Eventually(t, func() bool {
			c, err := getClaim("a." + z.Spec.Domain)
			return err == nil && meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionCertificateRequested)
		}, 30*time.Second, 10*time.Millisecond)
	})
	assert.Empty(t, errs, "error-level logs at shutdown:\n%s", describe(errs))
}
