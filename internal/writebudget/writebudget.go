// Package writebudget spaces out the reconcilers' writes to the API server, so that a burst of
// background work (thousands of claims created at once, each a few status writes) cannot take
// the API server from the admission path: the webhooks' claim creates, on which users' creates
// wait, keep the manager's own client and never wait here.
package writebudget

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Waiter hands out write tokens; *Fair is one.
type Waiter interface {
	// Wait blocks until a write of tenant's (see Tenant) may go, or ctx ends.
	Wait(ctx context.Context, tenant string) error
}

// Client returns c with every write (create, update, patch, apply, delete, and the same on
// subresources) first waiting for a token from w, as the write of Tenant(obj). Reads go straight to c (the cache, mostly).
// A nil w returns c itself.
func Client(c client.Client, w Waiter) client.Client {
	if w == nil {
		return c
	}
	return &budgeted{Client: c, w: w}
}

type budgeted struct {
	client.Client
	w Waiter
}

func (b *budgeted) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	if err := b.w.Wait(ctx, Tenant(obj)); err != nil {
		return err
	}
	return b.Client.Create(ctx, obj, opts...)
}

func (b *budgeted) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	if err := b.w.Wait(ctx, Tenant(obj)); err != nil {
		return err
	}
	return b.Client.Update(ctx, obj, opts...)
}

func (b *budgeted) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	if err := b.w.Wait(ctx, Tenant(obj)); err != nil {
		return err
	}
	return b.Client.Patch(ctx, obj, patch, opts...)
}

func (b *budgeted) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	if err := b.w.Wait(ctx, Tenant(obj)); err != nil {
		return err
	}
	return b.Client.Apply(ctx, obj, opts...)
}

func (b *budgeted) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	if err := b.w.Wait(ctx, Tenant(obj)); err != nil {
		return err
	}
	return b.Client.Delete(ctx, obj, opts...)
}

func (b *budgeted) DeleteAllOf(ctx context.Context, obj client.Object, opts ...client.DeleteAllOfOption) error {
	if err := b.w.Wait(ctx, Tenant(obj)); err != nil {
		return err
	}
	return b.Client.DeleteAllOf(ctx, obj, opts...)
}

func (b *budgeted) Status() client.SubResourceWriter { return b.SubResource("status") }

func (b *budgeted) SubResource(sub string) client.SubResourceClient {
	return &subBudgeted{SubResourceClient: b.Client.SubResource(sub), w: b.w}
}

type subBudgeted struct {
	client.SubResourceClient
	w Waiter
}

func (s *subBudgeted) Create(ctx context.Context, obj, sub client.Object, opts ...client.SubResourceCreateOption) error {
	if err := s.w.Wait(ctx, Tenant(obj)); err != nil {
		return err
	}
	return s.SubResourceClient.Create(ctx, obj, sub, opts...)
}

func (s *subBudgeted) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	if err := s.w.Wait(ctx, Tenant(obj)); err != nil {
		return err
	}
	return s.SubResourceClient.Update(ctx, obj, opts...)
}

func (s *subBudgeted) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	if err := s.w.Wait(ctx, Tenant(obj)); err != nil {
		return err
	}
	return s.SubResourceClient.Patch(ctx, obj, patch, opts...)
}

func (s *subBudgeted) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
	if err := s.w.Wait(ctx, Tenant(obj)); err != nil {
		return err
	}
	return s.SubResourceClient.Apply(ctx, obj, opts...)
}
