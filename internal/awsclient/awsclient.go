// Package awsclient builds the aws.Config every AWS client of the orchestrator uses: the standard
// credential chain, a region and optional endpoint override, retries with jitter for throttling
// (and no client-side retry quota, whose exhaustion would surface as "retry quota exceeded"), a
// client-side rate limiter per operation set at or below the account limits, and Prometheus
// metrics of every call. It also classifies AWS errors by their typed codes.
package awsclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/opendi/gateway-orchestrator/internal/promutil"
)

// DefaultRates are the client-side request rates per operation ("service:Operation", or
// "service:*" for the rest of a service), at or below AWS's per-account limits. Route53's
// 5 requests a second are shared with every other tool in the account, hence the lower default.
var DefaultRates = map[string]float64{
	"acm:RequestCertificate":  5,  // ACM: RequestCertificate 5/s
	"acm:DescribeCertificate": 10, // ACM: DescribeCertificate 10/s
	"acm:ListCertificates":    1,  // ACM: ListCertificates 1/s
	"acm:*":                   5,
	"route53:*":               4, // Route53: 5/s per account, shared
	"elasticloadbalancing:*":  10,
}

// Config configures AWS access.
type Config struct {
	// Region of the ACM certificates and load balancers.
	Region string
	// Endpoint overrides every service's endpoint (a local AWS-compatible server). The SDK also
	// honours AWS_ENDPOINT_URL.
	Endpoint string
	// Rates overrides DefaultRates entries.
	Rates map[string]float64
	// MaxAttempts per call, retries included (default 12: throttling is expected, not fatal).
	MaxAttempts int
	// MaxBackoff between attempts (default 10s).
	MaxBackoff time.Duration
	// Registerer receives the call metrics; nil skips them.
	Registerer prometheus.Registerer
}

// Load returns the aws.Config for cfg.
func Load(ctx context.Context, cfg Config, extra ...func(*config.LoadOptions) error) (aws.Config, error) {
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 12
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = cfg.MaxAttempts
				o.MaxBackoff = cfg.MaxBackoff
				o.RateLimiter = ratelimit.None
				o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(notQuota)}, o.Retryables...)
				o.Throttles = throttles
			})
		}),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(cfg.Endpoint))
	}
	opts = append(opts, extra...)
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	rates := map[string]float64{}
	for k, v := range DefaultRates {
		rates[k] = v
	}
	for k, v := range cfg.Rates {
		rates[k] = v
	}
	l := &limiters{rates: rates, byKey: map[string]*rate.Limiter{}}
	m := newMetrics(cfg.Registerer)
	awsCfg.APIOptions = append(awsCfg.APIOptions, func(s *middleware.Stack) error {
		// After the retry middleware, so that every attempt waits for its turn and is counted.
		if err := s.Finalize.Insert(l, "Retry", middleware.After); err != nil {
			return err
		}
		if err := s.Finalize.Insert(m, l.ID(), middleware.After); err != nil {
			return err
		}
		// Before it, to read how many attempts the retry middleware made of the call.
		return s.Finalize.Insert(retries{m}, "Retry", middleware.Before)
	})
	return awsCfg, nil
}

// Operation names a call as "service:Operation", the key of rates and metrics.
func Operation(ctx context.Context) string {
	svc := strings.ToLower(strings.ReplaceAll(awsmiddleware.GetServiceID(ctx), " ", ""))
	if svc == "elasticloadbalancingv2" {
		svc = "elasticloadbalancing"
	}
	return svc + ":" + awsmiddleware.GetOperationName(ctx)
}

type limiters struct {
	rates map[string]float64
	mu    sync.Mutex
	byKey map[string]*rate.Limiter
}

func (l *limiters) ID() string { return "gateway-orchestrator/RateLimit" }

func (l *limiters) get(op string) *rate.Limiter {
	key := op
	r, ok := l.rates[key]
	if !ok {
		key = op[:strings.IndexByte(op, ':')+1] + "*"
		if r, ok = l.rates[key]; !ok {
			return nil
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.byKey[key]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(r), max(1, int(r)))
		l.byKey[key] = lim
	}
	return lim
}

func (l *limiters) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	if lim := l.get(Operation(ctx)); lim != nil {
		if err := lim.Wait(ctx); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, err
		}
	}
	return next.HandleFinalize(ctx, in)
}

// Names of the AWS call metrics (the chart's PrometheusRule uses them).
const (
	MetricRequests        = "gateway_orchestrator_aws_requests_total"
	MetricRequestDuration = "gateway_orchestrator_aws_request_duration_seconds"
	MetricRetries         = "gateway_orchestrator_aws_retries_total"
)

type metrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	retries  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricRequests,
			Help: "AWS API requests (every attempt) by service, operation and outcome (ok or the AWS error code).",
		}, []string{"service", "operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: MetricRequestDuration,
			Help: "Latency of one AWS API request attempt by service and operation, from sending it to its answer (the client-side rate limiter's wait and retry back-off excluded).",
			// Route53 and ACM answer in tens to hundreds of milliseconds; throttled calls and
			// slow regions reach seconds.
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"service", "operation"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricRetries,
			Help: "AWS API requests the SDK retried, by service, operation and the AWS error code that caused the retry.",
		}, []string{"service", "operation", "code"}),
	}
	m.calls = promutil.Register(reg, m.calls)
	m.duration = promutil.Register(reg, m.duration)
	m.retries = promutil.Register(reg, m.retries)
	return m
}

func (m *metrics) ID() string { return "gateway-orchestrator/Metrics" }

func (m *metrics) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	start := time.Now()
	out, md, err := next.HandleFinalize(ctx, in)
	svc, op := splitOperation(Operation(ctx))
	m.duration.WithLabelValues(svc, op).Observe(time.Since(start).Seconds())
	outcome := "ok"
	if err != nil {
		outcome = codeOr(err, "error")
	}
	m.calls.WithLabelValues(svc, op, outcome).Inc()
	return out, md, err
}

// retries counts the attempts the SDK's retry middleware retried, from the attempt results it
// returns with the call.
type retries struct{ m *metrics }

func (retries) ID() string { return "gateway-orchestrator/RetryMetrics" }

func (r retries) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleFinalize(ctx, in)
	if results, ok := retry.GetAttemptResults(md); ok {
		svc, op := splitOperation(Operation(ctx))
		for _, a := range results.Results {
			if a.Retried {
				r.m.retries.WithLabelValues(svc, op, codeOr(a.Err, "error")).Inc()
			}
		}
	}
	return out, md, err
}

func splitOperation(op string) (service, operation string) {
	i := strings.IndexByte(op, ':')
	return op[:i], op[i+1:]
}

// codeOr is the AWS error code of err, or fallback for an error that carries none.
func codeOr(err error, fallback string) string {
	if c := Code(err); c != "" {
		return c
	}
	return fallback
}

// Code is the AWS error code of err ("ResourceInUseException", "Throttling", …), or "".
func Code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// IsQuotaExceeded reports ACM's LimitExceededException: the account holds as many certificates
// as its quota allows, or has requested its yearly number. Only a deleted certificate, a year, or
// a quota increase helps, so it is neither throttling nor worth a quick retry (the SDK's default
// retryer counts the code as throttling; the orchestrator's does not).
func IsQuotaExceeded(err error) bool {
	var limit *acmtypes.LimitExceededException
	return errors.As(err, &limit)
}

// notQuota keeps quota errors from being retried or counted as throttling.
func notQuota(err error) aws.Ternary {
	if IsQuotaExceeded(err) {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}

// throttles are the SDK's throttling errors without quota errors.
var throttles = append([]retry.IsErrorThrottle{retry.IsErrorThrottleFunc(notQuota)}, retry.DefaultThrottles...)

// IsThrottled reports a throttling error (ACM's quota errors excepted), as the SDK's retryer
// sees one; one that reaches the caller outlasted the retries.
func IsThrottled(err error) bool {
	return retry.IsErrorThrottles(throttles).IsErrorThrottle(err).Bool()
}

// Message is the message AWS gave with err, or err's text for an error that did not come from AWS.
func Message(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorMessage()
	}
	return err.Error()
}

// IsAccessDenied reports a missing IAM permission.
func IsAccessDenied(err error) bool {
	switch Code(err) {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "NotAuthorized":
		return true
	}
	return false
}

// Describe turns an AWS error into a message a person can act on.
func Describe(op string, err error) string {
	switch {
	case IsAccessDenied(err):
		return fmt.Sprintf("missing AWS permission for %s: grant it to the orchestrator's IAM role (%s)", op, Code(err))
	case IsQuotaExceeded(err):
		return fmt.Sprintf("%s: the account's ACM quota is used up: %s", op, Message(err))
	case IsThrottled(err):
		return fmt.Sprintf("AWS is throttling %s; retrying with back-off", op)
	case Code(err) != "":
		var api smithy.APIError
		errors.As(err, &api)
		return fmt.Sprintf("%s failed: %s: %s", op, api.ErrorCode(), api.ErrorMessage())
	}
	return fmt.Sprintf("%s failed: %v", op, err)
}
