package certificate

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/opendi/gateway-orchestrator/internal/awsclient"
)

// settledStatuses are the ACM statuses a pending certificate can move to.
var settledStatuses = []types.CertificateStatus{
	types.CertificateStatusIssued, types.CertificateStatusFailed, types.CertificateStatusValidationTimedOut,
	types.CertificateStatusRevoked, types.CertificateStatusExpired, types.CertificateStatusInactive,
}

// Poller watches pending certificates for all claims at once: one ListCertificates call (up to
// 1,000 certificates a page) answers for every waiting claim, where a DescribeCertificate per
// claim per poll would spend ACM's per-account rate many times over.
type Poller struct {
	ACM      ACM
	Interval time.Duration
	// Notify is told the owner of a certificate whose status settled.
	Notify func(owner string)

	mu      sync.Mutex
	waiting map[string]string // ARN → owner
	settled map[string]types.CertificateStatus
	// denied is the error of the last poll while IAM denies it, nil once a poll went through.
	denied error
}

// Denied is IAM's denial of the poller's ListCertificates, while it lasts: no pending
// certificate's status can be read then, and the claims waiting say so rather than that ACM is
// still validating. The poller wakes the waiting claims when a denial begins and when it ends.
func (p *Poller) Denied() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.denied
}

// Wait registers a pending certificate and returns its settled status if it is known.
func (p *Poller) Wait(arn, owner string) types.CertificateStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.settled[arn]; ok {
		return s
	}
	if p.waiting == nil {
		p.waiting = map[string]string{}
	}
	p.waiting[arn] = owner
	return types.CertificateStatusPendingValidation
}

// Forget drops a certificate (deleted, or its claim gone).
func (p *Poller) Forget(arn string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.waiting, arn)
	delete(p.settled, arn)
}

// Start polls until ctx ends. It implements manager.Runnable.
func (p *Poller) Start(ctx context.Context) error {
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			p.poll(ctx)
		}
	}
}

func (p *Poller) poll(ctx context.Context) {
	p.mu.Lock()
	n := len(p.waiting)
	p.mu.Unlock()
	if n == 0 {
		return
	}
	found := map[string]types.CertificateStatus{}
	in := &acm.ListCertificatesInput{CertificateStatuses: settledStatuses, MaxItems: aws32(1000)}
	for {
		out, err := p.ACM.ListCertificates(ctx, in)
		if err != nil {
			if ctx.Err() == nil { // a shutdown is no error: the next start polls again
				logf.FromContext(ctx).Error(err, "listing settled ACM certificates")
				if awsclient.IsAccessDenied(err) {
					p.notify(p.deny(err))
				}
			}
			return
		}
		for _, s := range out.CertificateSummaryList {
			if s.CertificateArn != nil {
				found[*s.CertificateArn] = s.Status
			}
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	var owners []string
	p.mu.Lock()
	if p.denied != nil {
		// Allowed again: every waiting claim said it was denied, and says otherwise now.
		p.denied = nil
		owners = p.waitingOwnersLocked()
	}
	if p.settled == nil {
		p.settled = map[string]types.CertificateStatus{}
	}
	for arn, owner := range p.waiting {
		if s, ok := found[arn]; ok {
			p.settled[arn] = s
			delete(p.waiting, arn)
			owners = append(owners, owner)
		}
	}
	p.mu.Unlock()
	p.notify(owners)
}

// deny records IAM's denial err and returns the owners to wake: every waiting one when the
// denial begins, none while it lasts.
func (p *Poller) deny(err error) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	began := p.denied == nil
	p.denied = err
	if !began {
		return nil
	}
	return p.waitingOwnersLocked()
}

// waitingOwnersLocked is the owner of every certificate waiting to settle. Caller holds p.mu.
func (p *Poller) waitingOwnersLocked() []string {
	owners := make([]string, 0, len(p.waiting))
	for _, owner := range p.waiting {
		owners = append(owners, owner)
	}
	return owners
}

func (p *Poller) notify(owners []string) {
	for _, o := range owners {
		p.Notify(o)
	}
}

func aws32(v int32) *int32 { return &v }
