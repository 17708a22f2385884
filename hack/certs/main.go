// Command certs writes a self-signed CA and a serving certificate for 127.0.0.1 and localhost
// into a directory (make certs: certs/), so that the real gateway-orchestrator binary can serve
// its webhooks to a cluster on this machine (make run). Development only.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/opendi/gateway-orchestrator/internal/devcert"
)

func main() {
	dir := flag.String("dir", "certs", "Directory to write ca.crt, ca.key, tls.crt and tls.key into.")
	validity := flag.Duration("validity", 365*24*time.Hour, "How long the certificates are valid.")
	flag.Parse()
	if err := write(*dir, *validity); err != nil {
		fmt.Fprintln(os.Stderr, "certs:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s: ca.crt, tls.crt, tls.key (for 127.0.0.1 and localhost)\n", *dir)
}

func write(dir string, validity time.Duration) error {
	ca, err := devcert.NewCA("gateway-orchestrator development CA", validity)
	if err != nil {
		return err
	}
	pair, err := ca.Issue([]string{"127.0.0.1", "localhost"}, validity)
	if err != nil {
		return err
	}
	caKey, err := ca.KeyPEM()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, data := range map[string][]byte{"ca.crt": ca.CertPEM, "ca.key": caKey, "tls.crt": pair.CertPEM, "tls.key": pair.KeyPEM} {
		mode := os.FileMode(0o644)
		if filepath.Ext(name) == ".key" {
			mode = 0o600
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, mode); err != nil {
			return err
		}
	}
	return nil
}
