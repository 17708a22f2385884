// Command devwebhooks runs a command (make run: the real gateway-orchestrator binary) and, while
// it serves, registers the project's webhook configurations (deploy/webhook/manifests.yaml) in
// the cluster of the current kubeconfig, pointed at the binary by URL
// (https://127.0.0.1:<port>/<path>) with the development CA (certs/ca.crt) as caBundle. The
// configurations are removed when the command exits or this helper is interrupted: they are
// failurePolicy Fail, and a stopped binary must not wedge the cluster. After a kill -9, remove
// leftovers with `devwebhooks -delete`. Development only.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/webhook"
)

// Names of the configurations this helper owns; they do not collide with an installed chart's.
const (
	mutatingName   = "gateway-orchestrator-dev-mutating"
	validatingName = "gateway-orchestrator-dev-validating"
	managedByLabel = "app.kubernetes.io/managed-by"
	managedBy      = "gateway-orchestrator-devwebhooks"
)

type options struct {
	manifests string        // the generated webhook configurations
	caFile    string        // PEM CA that signed the binary's serving certificate
	url       string        // https://127.0.0.1:<port>, the binary's webhook server
	namespace string        // excluded from the webhooks with kube-system, like the chart's
	wait      time.Duration // how long the binary may take to serve
}

func main() {
	var opts options
	flag.StringVar(&opts.manifests, "manifests", "deploy/webhook/manifests.yaml", "The generated webhook configurations.")
	flag.StringVar(&opts.caFile, "ca", "certs/ca.crt", "CA certificate (PEM) of the binary's serving certificate.")
	flag.StringVar(&opts.url, "url", "https://127.0.0.1:9443", "Where the binary serves its webhooks.")
	flag.StringVar(&opts.namespace, "namespace", "gateway-orchestrator-system", "Namespace left out of the webhooks (with kube-system).")
	flag.DurationVar(&opts.wait, "wait", 2*time.Minute, "How long the command may take to serve its webhooks.")
	del := flag.Bool("delete", false, "Only remove the configurations this helper registers, then exit.")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: devwebhooks [flags] -- command [args...]")
		flag.PrintDefaults()
	}
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, opts, *del, flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "devwebhooks:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func run(ctx context.Context, opts options, onlyDelete bool, command []string) (int, error) {
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return 1, fmt.Errorf("loading kubeconfig: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme})
	if err != nil {
		return 1, err
	}
	if onlyDelete {
		return 0, remove(context.Background(), c)
	}
	if len(command) == 0 {
		return 2, errors.New("no command to run (devwebhooks [flags] -- command [args...])")
	}
	return serve(ctx, c, opts, command)
}

// serve starts command, registers the configurations once it serves TLS at opts.url with a
// certificate from opts.caFile, and removes them when command exits or ctx ends (then it stops
// command). It returns command's exit code.
func serve(ctx context.Context, c client.Client, opts options, command []string) (int, error) {
	mutating, validating, err := configurations(opts)
	if err != nil {
		return 1, err
	}
	waitCtx, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return 1, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	applied := false
	cleanup := func() {
		if !applied {
			return
		}
		applied = false
		if err := remove(context.Background(), c); err != nil {
			fmt.Fprintln(os.Stderr, "devwebhooks: removing the webhook configurations:", err)
		} else {
			fmt.Fprintln(os.Stderr, "devwebhooks: webhook configurations removed")
		}
	}
	defer cleanup()
	select {
	case err := <-exited:
		return exitCode(err), nil
	case <-ctx.Done():
		return stopCommand(cmd, exited), nil
	case err := <-whenServing(waitCtx, opts):
		if err != nil {
			return stopCommand(cmd, exited), err
		}
	}
	applied = true
	if err := apply(ctx, c, mutating, validating); err != nil {
		return stopCommand(cmd, exited), err
	}
	fmt.Fprintf(os.Stderr, "devwebhooks: webhooks %s and %s point at %s\n", mutatingName, validatingName, opts.url)
	select {
	case err := <-exited:
		return exitCode(err), nil
	case <-ctx.Done():
		cleanup() // before the server goes away
		return stopCommand(cmd, exited), nil
	}
}

// whenServing reports once opts.url completes a TLS handshake that opts.caFile verifies.
func whenServing(ctx context.Context, opts options) <-chan error {
	ready := make(chan error, 1)
	go func() {
		ready <- func() error {
			ca, err := os.ReadFile(opts.caFile)
			if err != nil {
				return err
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(ca) {
				return fmt.Errorf("no certificate in %s", opts.caFile)
			}
			u, err := url.Parse(opts.url)
			if err != nil {
				return err
			}
			deadline := time.Now().Add(opts.wait)
			var last error
			for time.Now().Before(deadline) {
				d := tls.Dialer{Config: &tls.Config{RootCAs: pool, ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}}
				conn, err := d.DialContext(ctx, "tcp", u.Host)
				if err == nil {
					return conn.Close()
				}
				last = err
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(200 * time.Millisecond):
				}
			}
			return fmt.Errorf("%s did not serve TLS within %s: %w", opts.url, opts.wait, last)
		}()
	}()
	return ready
}

// configurations are the generated webhook configurations renamed, pointed at opts.url by URL
// with the CA as caBundle, and with the chart's namespaceSelector.
func configurations(opts options) (*admissionv1.MutatingWebhookConfiguration, *admissionv1.ValidatingWebhookConfiguration, error) {
	ca, err := os.ReadFile(opts.caFile)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the CA (make certs writes it): %w", err)
	}
	data, err := os.ReadFile(opts.manifests)
	if err != nil {
		return nil, nil, err
	}
	point := func(cc *admissionv1.WebhookClientConfig) error {
		if cc.Service == nil || cc.Service.Path == nil {
			return errors.New("a generated webhook without a service path")
		}
		u := opts.url + *cc.Service.Path
		cc.Service, cc.URL, cc.CABundle = nil, &u, ca
		return nil
	}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Labels: map[string]string{managedByLabel: managedBy}}
	}
	var m *admissionv1.MutatingWebhookConfiguration
	var v *admissionv1.ValidatingWebhookConfiguration
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var raw map[string]any
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, nil, err
		}
		doc, err := json.Marshal(raw)
		if err != nil {
			return nil, nil, err
		}
		switch raw["kind"] {
		case "MutatingWebhookConfiguration":
			m = &admissionv1.MutatingWebhookConfiguration{}
			if err := json.Unmarshal(doc, m); err != nil {
				return nil, nil, err
			}
			m.ObjectMeta = meta(mutatingName)
			for i := range m.Webhooks {
				m.Webhooks[i].NamespaceSelector = webhook.NamespaceSelector(opts.namespace)
				if err := point(&m.Webhooks[i].ClientConfig); err != nil {
					return nil, nil, err
				}
			}
		case "ValidatingWebhookConfiguration":
			v = &admissionv1.ValidatingWebhookConfiguration{}
			if err := json.Unmarshal(doc, v); err != nil {
				return nil, nil, err
			}
			v.ObjectMeta = meta(validatingName)
			for i := range v.Webhooks {
				v.Webhooks[i].NamespaceSelector = webhook.NamespaceSelector(opts.namespace)
				if err := point(&v.Webhooks[i].ClientConfig); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	if m == nil || v == nil {
		return nil, nil, fmt.Errorf("%s lacks a mutating or a validating configuration", opts.manifests)
	}
	return m, v, nil
}

// apply creates the configurations, replacing leftovers of an earlier run.
func apply(ctx context.Context, c client.Client, objs ...client.Object) error {
	for _, o := range objs {
		err := c.Create(ctx, o)
		if apierrors.IsAlreadyExists(err) {
			if err = c.Delete(ctx, o); err == nil || apierrors.IsNotFound(err) {
				o.SetResourceVersion("")
				err = c.Create(ctx, o)
			}
		}
		if err != nil {
			return fmt.Errorf("registering %s: %w", o.GetName(), err)
		}
	}
	return nil
}

// remove deletes the configurations this helper registers; missing ones are fine.
func remove(ctx context.Context, c client.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var errs []error
	for _, o := range []client.Object{
		&admissionv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: mutatingName}},
		&admissionv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: validatingName}},
	} {
		if err := c.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stopCommand sends the command SIGTERM, waits up to 30 s (then kills it) and returns its code.
func stopCommand(cmd *exec.Cmd, exited <-chan error) int {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		return exitCode(err)
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return exitCode(<-exited)
	}
}

func exitCode(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if code := exit.ExitCode(); code >= 0 {
			return code
		}
		return 1 // ended by a signal
	}
	if err != nil {
		return 1
	}
	return 0
}
