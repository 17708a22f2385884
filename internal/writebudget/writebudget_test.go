package writebudget

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// counter counts tokens handed out and remembers whose; refuse makes Wait fail as a cancelled
// context does.
type counter struct {
	n       int
	tenants []string
	refuse  bool
}

func (c *counter) Wait(_ context.Context, tenant string) error {
	if c.refuse {
		return context.Canceled
	}
	c.n++
	c.tenants = append(c.tenants, tenant)
	return nil
}

func configMap(name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}
}

func TestEveryWriteWaitsForOneTokenAndNoReadDoes(t *testing.T) {
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}}
	inner := fake.NewClientBuilder().WithObjects(pod).WithStatusSubresource(pod).Build()
	w := &counter{}
	c := Client(inner, w)
	steps := []struct {
		name  string
		write bool
		do    func() error
	}{
		{"create", true, func() error { return c.Create(ctx, configMap("a")) }},
		{"get", false, func() error { return c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "a"}, &corev1.ConfigMap{}) }},
		{"list", false, func() error { return c.List(ctx, &corev1.ConfigMapList{}) }},
		{"update", true, func() error {
			cm := &corev1.ConfigMap{}
			if err := inner.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "a"}, cm); err != nil {
				return err
			}
			cm.Data = map[string]string{"k": "v"}
			return c.Update(ctx, cm)
		}},
		{"patch", true, func() error {
			return c.Patch(ctx, configMap("a"), client.RawPatch("application/merge-patch+json", []byte(`{"data":{"k":"w"}}`)))
		}},
		{"status patch", true, func() error {
			return c.Status().Patch(ctx, pod.DeepCopy(), client.RawPatch("application/merge-patch+json", []byte(`{"status":{"phase":"Running"}}`)))
		}},
		{"delete", true, func() error { return c.Delete(ctx, configMap("a")) }},
		{"delete all", true, func() error { return c.DeleteAllOf(ctx, &corev1.ConfigMap{}, client.InNamespace("ns")) }},
	}
	for _, s := range steps {
		before := w.n
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got, want := w.n-before, map[bool]int{true: 1, false: 0}[s.write]; got != want {
			t.Errorf("%s took %d tokens, want %d", s.name, got, want)
		}
	}
}

func TestAWriteWithoutATokenIsNotSent(t *testing.T) {
	ctx := context.Background()
	inner := fake.NewClientBuilder().Build()
	c := Client(inner, &counter{refuse: true})
	if err := c.Create(ctx, configMap("a")); !errors.Is(err, context.Canceled) {
		t.Fatalf("create without a token: %v, want the waiter's error", err)
	}
	if err := inner.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "a"}, &corev1.ConfigMap{}); err == nil {
		t.Fatal("the create went out although no token was given")
	}
}

func TestNoWaiterIsNoBudget(t *testing.T) {
	inner := fake.NewClientBuilder().Build()
	if Client(inner, nil) != inner {
		t.Fatal("a nil waiter should leave the client as it is")
	}
}
