// Command local-up runs the whole system on one machine, with no cluster and no AWS account: a
// real kube-apiserver and etcd, the CRDs, the orchestrator with its webhooks registered, and the
// examples of docs/examples applied. It stays up for kubectl until Ctrl-C.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/backoff"
	"github.com/opendi/gateway-orchestrator/internal/claimstatus"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

func main() {
	examples := flag.String("examples", filepath.Join(testenv.RepoRoot(), "docs", "examples"), "Directory of YAML files to apply, in file name order.")
	kubeconfig := flag.String("kubeconfig-out", filepath.Join(os.TempDir(), "gateway-orchestrator-local.kubeconfig"), "Where to write the kubeconfig of the local cluster.")
	exit := flag.Bool("exit", false, "Stop after applying the examples instead of waiting for Ctrl-C (for scripts).")
	verbose := flag.Bool("v", false, "Show the orchestrator's logs.")
	metrics := flag.String("metrics-bind-address", "127.0.0.1:8080", "Where the orchestrator serves its metrics (\"0\" disables them).")
	flag.Parse()
	level := zapcore.ErrorLevel
	if *verbose {
		level = zapcore.InfoLevel
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(level)))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *examples, *kubeconfig, *metrics, *exit); err != nil {
		fmt.Fprintln(os.Stderr, "local-up:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, examples, kubeconfig, metrics string, exit bool) error {
	if err := addressFree(metrics); err != nil {
		return err
	}
	say("starting kube-apiserver and etcd (the first run on a machine builds them: several minutes)")
	opts := testenv.Options{
		MetricsAddr: metrics,
		// ACM takes a moment to publish a validation record and to validate, as it does in AWS.
		AWS: &awsfake.Options{ValidationRecordDelay: time.Second, IssueDelay: 3 * time.Second},
		// Claims' status is written as in a cluster (testenv shortens this for tests).
		QuietPeriod: claimstatus.DefaultQuietPeriod,
		// AWS errors back off as in a cluster (docs/operations.md, Back-off): testenv's short
		// test policy showed dozens of failures a minute where the docs promise five in five.
		Backoff: backoff.Default,
	}
	env, err := testenv.Start(ctx, opts)
	if err != nil {
		return err
	}
	// The hosted zone that docs/examples/20-managedzone.yaml names.
	env.AWS.Route53.AddZoneWithID("Z0123456789ABC", "example.com")
	defer func() {
		say("shutting down")
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "local-up: stopping:", err)
		}
	}()
	if err := writeKubeconfig(env.Config, kubeconfig); err != nil {
		return err
	}
	say("control plane up; orchestrator webhooks registered; AWS-compatible server at " + env.AWS.URL + "; metrics on http://" + metrics + "/metrics")

	files, err := filepath.Glob(filepath.Join(examples, "*.yaml"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	failures := 0
	for _, f := range files {
		failures += apply(ctx, env, f)
	}
	say("waiting for the claims: certificate, validation record, Gateway seat, load balancer (the LBC stand-in), ALIAS, routes admitted")
	waitReady(ctx, env.Client, 90*time.Second)
	printClaims(ctx, env.Client)
	if failures > 0 {
		return fmt.Errorf("%d example objects were not applied as expected", failures)
	}
	fmt.Printf("\nThe local cluster is up. Explore it with:\n  export KUBECONFIG=%s\n  kubectl get domainclaims,gateways -A\n  kubectl apply --dry-run=server -f %s\n", kubeconfig, filepath.Join(examples, "40-team-c-conflict.yaml"))
	if exit {
		return nil
	}
	fmt.Printf("Press Ctrl-C to stop. To restart the orchestrator alone, as a pod restart would (the cluster and the AWS test server keep their state): kill -USR1 %d\n", os.Getpid())
	return restarts(ctx, env, opts)
}

// restarts stops and starts the orchestrator's manager on each SIGUSR1 until ctx ends.
func restarts(ctx context.Context, env *testenv.Env, opts testenv.Options) error {
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-usr1:
		}
		say("restarting the orchestrator")
		if err := env.StopManager(); err != nil {
			return fmt.Errorf("stopping the orchestrator: %w", err)
		}
		if err := env.StartManager(ctx, opts); err != nil {
			return fmt.Errorf("starting the orchestrator again: %w", err)
		}
		say("orchestrator running again")
	}
}

// apply creates every object of one YAML file and reports the outcome. Files whose comments say
// they expect a denial count a denial as success. It returns how many outcomes were unexpected.
func apply(ctx context.Context, env *testenv.Env, path string) int {
	c := env.Client
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Printf("  %-28s cannot read: %v\n", filepath.Base(path), err)
		return 1
	}
	expectDenied := bytes.Contains(data, []byte("expects this one to be denied"))
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	failures := 0
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			fmt.Printf("  %-28s invalid YAML: %v\n", filepath.Base(path), err)
			return failures + 1
		}
		if len(u.Object) == 0 {
			continue
		}
		what := fmt.Sprintf("%s %s", u.GetKind(), strings.TrimPrefix(u.GetNamespace()+"/"+u.GetName(), "/"))
		err := c.Create(ctx, u)
		switch {
		case err == nil && !expectDenied:
			fmt.Printf("  created  %s\n", what)
			waitCached(ctx, env, u)
		case err == nil:
			fmt.Printf("  UNEXPECTEDLY ADMITTED  %s\n", what)
			failures++
		case expectDenied:
			fmt.Printf("  denied   %s, as expected:\n           %s\n", what, err)
		default:
			fmt.Printf("  FAILED   %s: %v\n", what, err)
			failures++
		}
	}
	return failures
}

// waitCached waits until the orchestrator's cache has a zone or namespace just created, so that
// the routes applied next are judged with it.
func waitCached(ctx context.Context, env *testenv.Env, u *unstructured.Unstructured) {
	var obj client.Object
	switch u.GetKind() {
	case "ManagedZone":
		obj = &v1alpha1.ManagedZone{}
	case "Namespace":
		obj = &corev1.Namespace{}
	default:
		return
	}
	for i := 0; i < 100 && env.Manager.GetCache().Get(ctx, client.ObjectKeyFromObject(u), obj) != nil; i++ {
		time.Sleep(20 * time.Millisecond)
	}
}

func printClaims(ctx context.Context, c client.Client) {
	var l v1alpha1.DomainClaimList
	if err := c.List(ctx, &l); err != nil {
		fmt.Println("listing claims:", err)
		return
	}
	fmt.Println("\nkubectl get domainclaims:")
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  NAME\tOWNER\tGATEWAY\tREADY\tLOAD BALANCER")
	for _, dc := range l.Items {
		gw := "-"
		if dc.Status.Gateway != nil {
			gw = dc.Status.Gateway.Name
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\n", dc.Name, dc.Spec.Namespace, gw, cond(dc, v1alpha1.ConditionReady), dc.Status.LoadBalancerHostname)
	}
	_ = w.Flush()
}

// waitReady waits until every claim is Ready, printing what each one waits for as it changes.
func waitReady(ctx context.Context, c client.Client, limit time.Duration) {
	deadline := time.Now().Add(limit)
	last := ""
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var l v1alpha1.DomainClaimList
		if err := c.List(ctx, &l); err == nil {
			done := 0
			var waits []string
			for _, dc := range l.Items {
				r := meta.FindStatusCondition(dc.Status.Conditions, v1alpha1.ConditionReady)
				switch {
				case r != nil && r.Status == metav1.ConditionTrue:
					done++
				case r != nil:
					waits = append(waits, dc.Name+": "+r.Reason)
				}
			}
			line := fmt.Sprintf("  %d of %d claims Ready", done, len(l.Items))
			if len(waits) > 0 {
				line += " (" + strings.Join(waits, "; ") + ")"
			}
			if line != last {
				fmt.Println(line)
				last = line
			}
			if done == len(l.Items) && done > 0 {
				return
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func cond(dc v1alpha1.DomainClaim, typ string) string {
	if c := meta.FindStatusCondition(dc.Status.Conditions, typ); c != nil {
		return string(c.Status)
	}
	return "-"
}

func writeKubeconfig(cfg *rest.Config, path string) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "admin"}
	kc.CurrentContext = "local"
	return clientcmd.WriteToFile(*kc, path)
}

// addressFree fails, saying what to do, when the metrics address is taken. The manager would
// otherwise stop a moment after it started, with the cluster still up and nothing serving the
// webhooks, and every create would then time out.
func addressFree(addr string) error {
	if addr == "" || addr == "0" {
		return nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("the metrics address %s is taken (another local-up or make run?): stop that one, or pass -metrics-bind-address with a free address (\"0\" disables metrics): %w", addr, err)
	}
	return l.Close()
}

func say(msg string) { fmt.Printf("==> %s\n", msg) }
