package testenv

import (
	"context"
	"fmt"
	"os"
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
