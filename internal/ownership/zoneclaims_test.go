package ownership

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestZoneClaims(t *testing.T) {
	v := view(claim("example.com", "a", 0), claim("shop.example.com", "a", 0), claim("*.example.com", "a", 0),
		claim("x.private.example.com", "ops", 0), claim("shop.example.org", "a", 0))
	cases := []struct {
		name string
		zone string
		want []string
	}{
		{name: "a zone counts its own domain, names and wildcards below it, not a longer zone's",
			zone: "example.com", want: []string{"example.com", "shop.example.com", "wc--wildcard.example.com"}},
		{name: "a longer zone counts the names below it", zone: "private.example.com", want: []string{"x.private.example.com"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ZoneClaims(context.Background(), v, v.zones[tc.zone])
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
