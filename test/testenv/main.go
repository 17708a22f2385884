package testenv

import (
	"context"
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Tests runs a package's tests: *testing.M.
type Tests interface{ Run() int }

// Run is the body of a TestMain: it starts the control plane and the manager with opts, hands the
// environment to use (which keeps it in the package's variables), runs the tests, stops
// everything and returns the code to exit with:
//
//	os.Exit(testenv.Run(m, opts, func(e *testenv.Env) { env, k8s = e, e.Client }))
func Run(m Tests, opts Options, use func(*Env)) int {
	env, err := Start(context.Background(), opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the test control plane:", err)
		return 1
	}
	use(env)
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the test control plane:", err)
	}
	return code
}

// WaitForCache waits until the manager's cache holds obj (the webhooks and reconcilers decide from
// it, so a test that just created obj waits before relying on it), or within has passed.
func (e *Env) WaitForCache(obj client.Object, within time.Duration) error {
	into, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return fmt.Errorf("%T is not a client.Object", obj)
	}
	for deadline := time.Now().Add(within); ; time.Sleep(20 * time.Millisecond) {
		err := e.Manager.GetCache().Get(context.Background(), client.ObjectKeyFromObject(obj), into)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%T %s never reached the manager's cache: %w", obj, client.ObjectKeyFromObject(obj), err)
		}
	}
}
