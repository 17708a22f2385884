// Package clusterid names the cluster in AWS tags and DNS ownership markers. Two clusters that
// share a hosted zone or an ACM account must never share a name, or each would treat the
// other's records and certificates as its own; so when no name is configured, the name is
// derived from the kube-system namespace's UID, which the API server gives every cluster anew.
package clusterid

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Prefix starts every derived cluster ID.
const Prefix = "k8s-"

// Resolve returns name when it is set, and otherwise the ID derived from the cluster.
func Resolve(ctx context.Context, r client.Reader, name string) (string, error) {
	if name != "" {
		return name, nil
	}
	return Derive(ctx, r)
}

// Derive returns Prefix and the UID of the kube-system namespace. Reading that namespace needs
// get permission on namespaces.
func Derive(ctx context.Context, r client.Reader) (string, error) {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, client.ObjectKey{Name: "kube-system"}, ns); err != nil {
		return "", fmt.Errorf("deriving the cluster ID from the kube-system namespace (or set --cluster-name): %w", err)
	}
	if ns.UID == "" {
		return "", fmt.Errorf("the kube-system namespace has no UID to derive the cluster ID from; set --cluster-name")
	}
	return Prefix + string(ns.UID), nil
}
