package ownership

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
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

func TestMovingClaims(t *testing.T) {
	v := view(claim("example.com", "a", 0), claim("shop.example.com", "a", 0), claim("cart.shop.example.com", "a", 0),
		claim("x.private.example.com", "ops", 0), claim("shop.example.org", "a", 0))
	v.zones["example.com"].Spec.HostedZoneID = "Z1"
	v.zones["private.example.com"].Spec.HostedZoneID = "Z9"
	zone := func(name, domain, id string) *v1alpha1.ManagedZone {
		return &v1alpha1.ManagedZone{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.ManagedZoneSpec{Domain: domain, HostedZoneID: id}}
	}
	cases := []struct {
		name     string
		zone     *v1alpha1.ManagedZone
		want     []string
		wantFrom []string
	}{
		{name: "a zone written with its own hosted zone ID moves nothing", zone: zone("example-com", "example.com", "Z1")},
		{name: "a changed hosted zone ID moves the zone's claims, not a longer zone's",
			zone: zone("example-com", "example.com", "Z2"), want: []string{"cart.shop.example.com", "example.com", "shop.example.com"}, wantFrom: []string{"Z1"}},
		{name: "a new child zone takes the parent's claims at and below its domain",
			zone: zone("shop", "shop.example.com", "Z3"), want: []string{"cart.shop.example.com", "shop.example.com"}, wantFrom: []string{"Z1"}},
		{name: "a new child zone in the parent's hosted zone moves nothing", zone: zone("shop", "shop.example.com", "Z1")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, from, err := MovingClaims(context.Background(), v, tc.zone)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.wantFrom, from)
		})
	}
}
