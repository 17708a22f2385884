// Package crdschema gives controller-runtime's fake client the orchestrator's real CRD schemas
// for server-side apply, so that a fake apply merges like the API server's: status.conditions
// is a map list keyed by type there, not an atomic list (the fake's default guess), and the
// owners of different conditions keep each other's entries.
package crdschema

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"sigs.k8s.io/yaml"
)

// TypeConverter reads the generated CRDs in deploy/crd and returns a type converter for them.
func TypeConverter() (managedfields.TypeConverter, error) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "deploy", "crd")
	paths, err := filepath.Glob(filepath.Join(dir, "gateway.opendi.com_*.yaml"))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("no CRDs in %s: %v", dir, err)
	}
	schemas := map[string]*spec.Schema{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var crd struct {
			Spec struct {
				Group string `json:"group"`
				Names struct {
					Kind string `json:"kind"`
				} `json:"names"`
				Versions []struct {
					Name   string `json:"name"`
					Schema struct {
						OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
					} `json:"schema"`
				} `json:"versions"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(raw, &crd); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for _, v := range crd.Spec.Versions {
			s := v.Schema.OpenAPIV3Schema
			s["x-kubernetes-group-version-kind"] = []any{map[string]any{"group": crd.Spec.Group, "version": v.Name, "kind": crd.Spec.Names.Kind}}
			j, err := json.Marshal(s)
			if err != nil {
				return nil, err
			}
			out := &spec.Schema{}
			if err := json.Unmarshal(j, out); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			schemas[crd.Spec.Group+"."+v.Name+"."+crd.Spec.Names.Kind] = out
		}
	}
	return managedfields.NewTypeConverter(schemas, false)
}
