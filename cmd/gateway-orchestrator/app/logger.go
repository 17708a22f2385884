package app

import (
	"context"
	"errors"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/opendi/gateway-orchestrator/internal/lazylog"
)

// QuietWhenStopping returns the manager's logger: log, except that once running ends (the
// manager is stopping: Ctrl-C, SIGTERM, a lost lease) an error that only says a call was cut
// short by it (see cutShort) is logged at info level, without the stack trace an error
// carries. controller-runtime logs every error a reconcile returns as "Reconciler error", and a
// reconcile that was writing when the manager stopped returns its canceled call; nothing went
// wrong, and the next leader does the work again.
//
// Its values are kept until a line is written (package lazylog): controller-runtime gives every
// reconcile's logger its values, and most reconciles write no line.
func QuietWhenStopping(running context.Context, log logr.Logger) logr.Logger {
	sink := lazylog.New(log).GetSink()
	if sink == nil {
		return log
	}
	if cd, ok := sink.(logr.CallDepthLogSink); ok {
		sink = cd.WithCallDepth(1) // the frame of stoppingSink's own method
	}
	return logr.New(stoppingSink{sink: sink, running: running})
}

type stoppingSink struct {
	sink    logr.LogSink
	running context.Context
}

// Init does nothing: the wrapped sink was initialised by the logger it came from.
func (s stoppingSink) Init(logr.RuntimeInfo) {}

func (s stoppingSink) Enabled(level int) bool { return s.sink.Enabled(level) }

func (s stoppingSink) Info(level int, msg string, kv ...any) { s.sink.Info(level, msg, kv...) }

func (s stoppingSink) Error(err error, msg string, kv ...any) {
	if s.running.Err() != nil && cutShort(err) {
		if s.sink.Enabled(0) {
			s.sink.Info(0, msg+" (stopping)", append(kv, "error", err.Error())...)
		}
		return
	}
	s.sink.Error(err, msg, kv...)
}

// cutShort reports an error that a stopping manager's own cancellation causes: a canceled call,
// or the cache's Timeout for an informer that could not sync before the manager's context ended
// (it does not wrap the context's error).
func cutShort(err error) bool {
	return errors.Is(err, context.Canceled) || apierrors.IsTimeout(err)
}

func (s stoppingSink) WithValues(kv ...any) logr.LogSink {
	return stoppingSink{sink: s.sink.WithValues(kv...), running: s.running}
}

func (s stoppingSink) WithName(name string) logr.LogSink {
	return stoppingSink{sink: s.sink.WithName(name), running: s.running}
}

func (s stoppingSink) WithCallDepth(depth int) logr.LogSink {
	if cd, ok := s.sink.(logr.CallDepthLogSink); ok {
		return stoppingSink{sink: cd.WithCallDepth(depth), running: s.running}
	}
	return s
}
