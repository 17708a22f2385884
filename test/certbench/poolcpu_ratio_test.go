package certbench

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPoolCPURatioComparesWithTheMeanOfTheHundredClaimRuns(t *testing.T) {
	record := "100 1.7\n100 1.1\n1000 9.9\n100 1.2\n"
	assert.Equal(t, "pool CPU per claim: 2.00 ms at 1000 claims, 1.33 ms at 100 (mean of 3 runs): 1.50x", poolCPURatio(record, 1000, 2.0))
	assert.Empty(t, poolCPURatio(record, 100, 1.0), "a 100-claim run only adds to the record")
	assert.Empty(t, poolCPURatio("1000 2.0\n", 1000, 2.0), "nothing to compare with")
}
