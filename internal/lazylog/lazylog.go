// Package lazylog keeps a logger's values until a line is written. logr's WithValues hands its
// values to the sink at once, and zap's sink copies its encoder for them (about 3 KB a call);
// controller-runtime calls it for every reconcile and every admission request (five to eight
// values each), and most of those loggers never write a line. Here WithValues only appends to a
// slice, and the values reach the wrapped sink with the lines that are written, in the same
// order as before (the logger's values, then the line's own).
package lazylog

import "github.com/go-logr/logr"

// New returns log with its values kept until a line is written. A logger without a sink is
// returned as it is.
func New(log logr.Logger) logr.Logger {
	s := log.GetSink()
	if s == nil {
		return log
	}
	if _, ok := s.(*sink); ok {
		return log
	}
	if cd, ok := s.(logr.CallDepthLogSink); ok {
		s = cd.WithCallDepth(1) // the frame of sink's own Info and Error
	}
	return logr.New(&sink{inner: s})
}

// sink holds the values given to WithValues (kv) over inner, which has the names.
type sink struct {
	inner logr.LogSink
	kv    []any
}

var (
	_ logr.LogSink          = &sink{}
	_ logr.CallDepthLogSink = &sink{}
)

// Init does nothing: the wrapped sink was initialised by the logger it came from.
func (s *sink) Init(logr.RuntimeInfo) {}

// Enabled implements logr.LogSink.
func (s *sink) Enabled(level int) bool { return s.inner.Enabled(level) }

// Info implements logr.LogSink.
func (s *sink) Info(level int, msg string, kv ...any) { s.inner.Info(level, msg, s.with(kv)...) }

// Error implements logr.LogSink.
func (s *sink) Error(err error, msg string, kv ...any) { s.inner.Error(err, msg, s.with(kv)...) }

// with is the logger's values followed by a line's own.
func (s *sink) with(kv []any) []any {
	if len(s.kv) == 0 {
		return kv
	}
	if len(kv) == 0 {
		return s.kv
	}
	return append(s.kv[:len(s.kv):len(s.kv)], kv...)
}

// WithValues implements logr.LogSink: the values are kept, not handed on.
func (s *sink) WithValues(kv ...any) logr.LogSink {
	if len(kv) == 0 {
		return s
	}
	return &sink{inner: s.inner, kv: append(s.kv[:len(s.kv):len(s.kv)], kv...)}
}

// WithName implements logr.LogSink.
func (s *sink) WithName(name string) logr.LogSink {
	return &sink{inner: s.inner.WithName(name), kv: s.kv}
}

// WithCallDepth implements logr.CallDepthLogSink.
func (s *sink) WithCallDepth(depth int) logr.LogSink {
	if cd, ok := s.inner.(logr.CallDepthLogSink); ok {
		return &sink{inner: cd.WithCallDepth(depth), kv: s.kv}
	}
	return s
}
