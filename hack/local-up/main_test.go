package main

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestATakenMetricsAddressStopsLocalUpBeforeItStarts(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()

	err = addressFree(addr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the metrics address "+addr+" is taken")
	assert.Contains(t, err.Error(), "-metrics-bind-address")

	require.NoError(t, l.Close())
	assert.NoError(t, addressFree(addr), "a free address passes")
	assert.NoError(t, addressFree("0"), "disabled metrics need no address")
}
