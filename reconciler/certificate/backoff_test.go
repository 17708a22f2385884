package certificate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPersistentFailuresBackOffExponentiallyUpToTheMaximum(t *testing.T) {
	var f failures
	now := time.Unix(0, 0)
	var waits []time.Duration
	for i := 0; i < 8; i++ {
		d, first := f.fail("a", now)
		assert.Equal(t, i == 0, first, "only the first failure of a run is announced")
		waits = append(waits, d)
		assert.Equal(t, d, f.wait("a", now))
	}
	assert.Equal(t, []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second,
		160 * time.Second, 320 * time.Second, 10 * time.Minute, 10 * time.Minute}, waits)
	assert.Zero(t, f.wait("b", now), "other claims are not held back")

	// Calls allowed in 5 minutes from the first failure: at 0 s, 10 s, 30 s, 70 s, 150 s: five.
	f.ok("a")
	assert.Zero(t, f.wait("a", now))
	_, first := f.fail("a", now)
	assert.True(t, first, "after a success, a new run of failures is announced again")
}
