package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

// MaxAdmissionRequestBytes is the largest AdmissionReview body the webhook server reads: the cap
// is controller-runtime's (v0.25 admission.Webhook reads at most 7 MiB and answers 413 beyond);
// an object the API server stores is at most about 3 MiB, and a review carries it twice (object
// and oldObject). A test keeps this constant equal to what the server enforces.
const MaxAdmissionRequestBytes = 7 * 1024 * 1024

// ServerOptions configure the endpoints the orchestrator serves: the admission webhooks (called
// by the API server) and the Prometheus metrics.
type ServerOptions struct {
	// WebhookHost and WebhookPort are where the webhooks listen (port 0: 9443).
	WebhookHost string
	WebhookPort int
	// WebhookCertDir holds tls.crt and tls.key, reloaded when they change.
	WebhookCertDir string
	// WebhookClientCA is a PEM file of the CA that signs the API server's admission client
	// certificate. When set, a connection without a client certificate signed by it is refused
	// during the TLS handshake, before any request is read; the file is read again when it
	// changes. Empty accepts any client (the NetworkPolicy then is the only fence).
	WebhookClientCA string
	// MetricsAddr is the metrics endpoint's address; "0" disables it.
	MetricsAddr string
	// MetricsInsecure serves metrics over plain HTTP to anyone who can reach the port (local
	// development only). Otherwise metrics are served over HTTPS and every scrape must carry a
	// bearer token that the API server authenticates (TokenReview) and authorizes for GET on the
	// non-resource URL /metrics (SubjectAccessReview).
	MetricsInsecure bool
	// MetricsCertDir holds tls.crt and tls.key for the metrics endpoint; empty makes the server
	// generate a self-signed certificate at start (Prometheus then scrapes with
	// insecureSkipVerify, and still authenticates with its token).
	MetricsCertDir string
	// EnableHTTP2 lets the webhook and metrics servers speak HTTP/2. Off, they speak HTTP/1.1
	// only: that closes HTTP/2's stream-reset attacks (CVE-2023-44487, CVE-2023-39325) and
	// serves the API server's admission calls with fewer handoffs per request.
	EnableHTTP2 bool
	// Drain, when set, makes every admission answer given while the orchestrator stops close its
	// connection (see Drain).
	Drain *Drain
}

// tlsOptions are the TLS settings of both servers: TLS 1.2 or newer, and HTTP/1.1 only unless
// o.EnableHTTP2.
func (o ServerOptions) tlsOptions() []func(*tls.Config) {
	return []func(*tls.Config){func(c *tls.Config) {
		c.MinVersion = tls.VersionTLS12
		if !o.EnableHTTP2 {
			c.NextProtos = []string{"http/1.1"}
		}
	}}
}

// The API server authenticates the orchestrator's metrics scrapers and authorizes them through
// these reviews (controller-runtime's metrics filters).
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// WebhookServer is the admission webhook server for o: TLS 1.2 or newer, HTTP/1.1 unless
// o.EnableHTTP2 and, with WebhookClientCA, only clients presenting a certificate that CA signed.
func WebhookServer(o ServerOptions) (webhook.Server, error) {
	srv, err := webhookServer(o)
	if err != nil {
		return nil, err
	}
	return finishingServer{Server: srv, drain: o.Drain}, nil
}

func webhookServer(o ServerOptions) (webhook.Server, error) {
	opts := webhook.Options{Host: o.WebhookHost, Port: o.WebhookPort, CertDir: o.WebhookCertDir, TLSOpts: o.tlsOptions()}
	if o.WebhookClientCA == "" {
		return webhook.NewServer(opts), nil
	}
	// The readiness check connects to the webhook port too: it presents a certificate of its
	// own, made at start and trusted beside the CA, whose key never leaves the process (without
	// one, every probe would be refused and logged as a failed handshake).
	probe, err := selfSignedClient()
	if err != nil {
		return nil, err
	}
	cas := &clientCAs{path: o.WebhookClientCA, probe: probe.Leaf}
	if _, err := cas.current(); err != nil {
		return nil, fmt.Errorf("--webhook-client-ca: %w", err)
	}
	opts.TLSOpts = append(opts.TLSOpts, func(base *tls.Config) {
		base.ClientAuth = tls.RequireAndVerifyClientCert
		base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
			pool, _ := cas.current() // on a read error, the last good pool
			c := base.Clone()
			c.ClientCAs = pool
			return c, nil
		}
	})
	port := o.WebhookPort
	if port == 0 {
		port = webhook.DefaultPort
	}
	return &clientVerifyingServer{Server: webhook.NewServer(opts), addr: net.JoinHostPort(o.WebhookHost, strconv.Itoa(port)), probe: probe}, nil
}

// finishingServer is a webhook server whose admission requests run to their verdict when the
// orchestrator stops. controller-runtime's server gives every request a context that ends the
// moment the server starts shutting down (its BaseContext), although Shutdown then waits for the
// requests in flight: a request half-way through claiming would fail with "context canceled",
// reported to the user as an internal error, and could leave its claim behind (its withdrawal
// needs the same context). Each request instead ends by the deadline the API server sent with
// it, when it stops waiting for the answer.
//
// With a drain, an answer given while the orchestrator stops closes its connection.
type finishingServer struct {
	webhook.Server
	drain *Drain
}

func (s finishingServer) Register(path string, hook http.Handler) {
	if s.drain != nil {
		hook = s.drain.closeWhileDraining(hook)
	}
	s.Server.Register(path, finishOnStop(hook))
}

// maxAdmissionTimeout is the longest timeoutSeconds a webhook configuration may set
// (admissionregistration/v1), used when a request names no deadline.
const maxAdmissionTimeout = 30 * time.Second

func finishOnStop(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The API server appends ?timeout=<timeoutSeconds>s to every admission call.
		budget, err := time.ParseDuration(r.URL.Query().Get("timeout"))
		if err != nil || budget <= 0 || budget > maxAdmissionTimeout {
			budget = maxAdmissionTimeout
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), budget)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// clientVerifyingServer is a webhook server that requires client certificates, with a readiness
// check that presents one.
type clientVerifyingServer struct {
	webhook.Server
	addr  string
	probe tls.Certificate
}

// StartedChecker is healthy once the server answers a request over a connection authenticated
// with the probe certificate.
func (s *clientVerifyingServer) StartedChecker() healthz.Checker {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, // like controller-runtime's own check: the server's name is not the point
		Certificates:       []tls.Certificate{s.probe},
		MinVersion:         tls.VersionTLS12,
	}}}
	return func(*http.Request) error {
		resp, err := c.Get("https://" + s.addr + "/readyz")
		if err != nil {
			return fmt.Errorf("webhook server is not reachable: %w", err)
		}
		return resp.Body.Close() // any status: the server took the connection
	}
}

func selfSignedClient() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "gateway-orchestrator-readiness-probe"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// MetricsServer is the metrics server's options for o: HTTPS behind Kubernetes authentication
// and authorization unless MetricsInsecure.
func MetricsServer(o ServerOptions) metricsserver.Options {
	if o.MetricsInsecure {
		return metricsserver.Options{BindAddress: o.MetricsAddr}
	}
	return metricsserver.Options{
		BindAddress:    o.MetricsAddr,
		SecureServing:  true,
		FilterProvider: filters.WithAuthenticationAndAuthorization,
		CertDir:        o.MetricsCertDir,
		TLSOpts:        o.tlsOptions(),
	}
}

// clientCAs is the pool a client certificate must chain to: the CA file's certificates, read
// again when the file changes (a ConfigMap update swaps it), and the readiness probe's own.
type clientCAs struct {
	path  string
	probe *x509.Certificate

	mu   sync.Mutex
	pool *x509.CertPool
	mod  time.Time
	size int64
}

// current returns the pool, reading the file again when its time or size changed. A file that
// cannot be read or holds no certificate keeps the last good pool (an update may be half done)
// and is tried again at the next connection.
func (c *clientCAs) current() (*x509.CertPool, error) {
	fi, err := os.Stat(c.path)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		return c.pool, err
	}
	if c.pool != nil && fi.ModTime().Equal(c.mod) && fi.Size() == c.size {
		return c.pool, nil
	}
	pool, err := loadCA(c.path)
	if err != nil {
		return c.pool, err
	}
	pool.AddCert(c.probe)
	c.pool, c.mod, c.size = pool, fi.ModTime(), fi.Size()
	return pool, nil
}

func loadCA(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New(path + " holds no PEM certificate")
	}
	return pool, nil
}
