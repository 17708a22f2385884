package app

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// failingMapper is a RESTMapper whose discovery fails.
type failingMapper struct{ meta.RESTMapper }

func (failingMapper) RESTMapping(schema.GroupKind, ...string) (*meta.RESTMapping, error) {
	return nil, errors.New("discovery failed")
}

func TestServedTellsAMissingKindFromAFailedLookup(t *testing.T) {
	listenerSet := schema.GroupKind{Group: "gateway.networking.k8s.io", Kind: "ListenerSet"}
	mapper := meta.NewDefaultRESTMapper([]schema.GroupVersion{{Group: listenerSet.Group, Version: "v1"}})
	ok, err := served(mapper, listenerSet)
	require.NoError(t, err, "a cluster without the ListenerSet CRD is not an error")
	assert.False(t, ok)

	mapper.Add(listenerSet.WithVersion("v1"), meta.RESTScopeNamespace)
	ok, err = served(mapper, listenerSet)
	require.NoError(t, err)
	assert.True(t, ok)

	_, err = served(failingMapper{mapper}, listenerSet)
	assert.ErrorContains(t, err, "discovery failed", "a failed lookup is not taken for a missing kind")
}
