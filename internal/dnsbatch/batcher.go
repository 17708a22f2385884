package dnsbatch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/opendi/gateway-orchestrator/internal/awsclient"
)

// Route53 limits on one ChangeResourceRecordSets request.
const (
	maxBatchRecords    = 1000  // resource records per request (an UPSERT counts twice; we never UPSERT)
	maxBatchCharacters = 32000 // characters of record values per request
)

// API is the part of the Route53 client the batcher uses.
type API interface {
	ChangeResourceRecordSets(ctx context.Context, in *route53.ChangeResourceRecordSetsInput, optFns ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error)
	ListResourceRecordSets(ctx context.Context, in *route53.ListResourceRecordSetsInput, optFns ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error)
}

// Batcher coalesces record changes per hosted zone. Callers ask with Ensure, which never waits for
// Route53: it answers from the zone's snapshot, or queues the change and answers Pending; Notify
// is called for the owner once the batch holding its change has been applied or has failed.
//
// The batches go out from Start, a manager Runnable: it owns the one timer that wakes it when a
// zone's window ends and the context of every Route53 call, and it returns only once the
// batches it started are done, so nothing of the batcher outlives the manager. Changes queued
// before Start, or after it returned, wait for the next Start.
type Batcher struct {
	API     API
	Cluster string
	// Window is the least time between two batches of one hosted zone. Like a group commit, a
	// change for a zone with no batch in flight or in its window goes out at once; changes that
	// arrive meanwhile gather and go together when the window after the last batch ends.
	Window time.Duration
	// Notify is told the owner of a want whose state changed.
	Notify func(owner string)
	// Refresh is how long a zone's snapshot is trusted before it is read again, so that records
	// someone else changed or deleted are seen and ours put back (DefaultRefresh when zero).
	Refresh time.Duration
	// ExternalDNS is how an external-dns sharing the zones names its registry records.
	ExternalDNS ExternalDNS

	mu    sync.Mutex
	zones map[string]*zoneState
	due   map[string]time.Time // zones whose next batch is scheduled, and when it goes out
	kick  chan struct{}        // tells Start that due changed
}

type queued struct {
	owner string
	want  Want
}

type zoneState struct {
	load     sync.Mutex
	snapshot map[key]types.ResourceRecordSet // nil until loaded, and after a rejected batch
	queue    map[string]queued
	results  map[string]Result
	timer    bool      // a flush is due or running
	lastSent time.Time // when the zone's last batch went out
	loadedAt time.Time // when the snapshot was read
}

// DefaultRefresh is how long a zone's snapshot is trusted by default.
const DefaultRefresh = 10 * time.Minute

// RefreshEvery is how often a zone's snapshot is read again.
func (b *Batcher) RefreshEvery() time.Duration {
	if b.Refresh > 0 {
		return b.Refresh
	}
	return DefaultRefresh
}

// fresh reports whether the zone's snapshot can be trusted. Caller holds b.mu.
func (b *Batcher) fresh(z *zoneState) bool {
	return z.snapshot != nil && time.Since(z.loadedAt) < b.RefreshEvery()
}

// initLocked makes the zero Batcher usable. Caller holds b.mu.
func (b *Batcher) initLocked() {
	if b.zones == nil {
		b.zones, b.due, b.kick = map[string]*zoneState{}, map[string]time.Time{}, make(chan struct{}, 1)
	}
}

func (b *Batcher) zone(id string) *zoneState {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.initLocked()
	z := b.zones[id]
	if z == nil {
		z = &zoneState{queue: map[string]queued{}, results: map[string]Result{}}
		b.zones[id] = z
	}
	return z
}

// Ensure brings the zone toward w on behalf of owner (a claim name).
func (b *Batcher) Ensure(ctx context.Context, owner string, w Want) (Result, error) {
	z := b.zone(w.Zone)
	if err := b.loadIfNeeded(ctx, w.Zone, z); err != nil {
		var gone *types.NoSuchHostedZone
		if w.Absent && errors.As(err, &gone) {
			// A hosted zone that does not exist holds nothing of ours: the records of a zone ID
			// an admin corrected (docs/operations.md) are gone already.
			return Result{State: Done}, nil
		}
		return Result{State: Failed, Message: awsclient.Describe("route53:ListResourceRecordSets", err), Err: err}, err
	}
	id := owner + "|" + keyOf(w.Record).name + "|" + string(w.Record.Type)
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, inQueue := z.queue[id]; inQueue {
		return Result{State: Pending}, nil
	}
	if r, ok := z.results[id]; ok && r.State == Pending {
		return r, nil // in flight
	}
	if r, ok := z.results[id]; ok && r.State == Failed {
		// Said once, so that the caller can back off; the next Ensure tries again.
		delete(z.results, id)
		return r, r.Err
	}
	delete(z.results, id)
	if z.snapshot == nil {
		// A batch was rejected meanwhile: the flush reads the zone again and plans the want then.
		z.queue[id] = queued{owner: owner, want: w}
		b.scheduleLocked(w.Zone, z)
		return Result{State: Pending}, nil
	}
	if _, res := Plan(z.snapshot, w, b.Cluster, b.ExternalDNS); res.State != Pending {
		return res, nil
	}
	z.queue[id] = queued{owner: owner, want: w}
	b.scheduleLocked(w.Zone, z)
	return Result{State: Pending}, nil
}

// scheduleLocked makes the zone's next batch due when the window after its last batch ends
// (at once for a zone idle that long), unless a batch is due or running already. Caller holds b.mu.
func (b *Batcher) scheduleLocked(zoneID string, z *zoneState) {
	if !z.timer {
		z.timer = true
		b.dueLocked(zoneID, z.lastSent.Add(b.Window))
	}
}

// dueLocked schedules the zone's next batch at the given time. Caller holds b.mu.
func (b *Batcher) dueLocked(zoneID string, at time.Time) {
	b.due[zoneID] = at
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// NeedLeaderElection is true: the batches carry the changes of the reconcilers, which run on the
// leader only. It implements manager.LeaderElectionRunnable.
func (b *Batcher) NeedLeaderElection() bool { return true }

// Start sends each zone's batch when it is due, until ctx ends; then it waits for the batches in
// flight, whose Route53 calls end with ctx. It implements manager.Runnable.
func (b *Batcher) Start(ctx context.Context) error {
	var flushes sync.WaitGroup
	defer flushes.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for ctx.Err() == nil {
		b.mu.Lock()
		b.initLocked()
		now, next := time.Now(), time.Hour
		for id, at := range b.due {
			if wait := at.Sub(now); wait > 0 {
				next = min(next, wait)
				continue
			}
			delete(b.due, id)
			z := b.zones[id]
			flushes.Add(1)
			go func() {
				defer flushes.Done()
				b.flush(ctx, id, z)
			}()
		}
		kick := b.kick
		b.mu.Unlock()
		timer.Reset(next)
		select {
		case <-ctx.Done():
		case <-kick:
		case <-timer.C:
		}
	}
	return nil
}

func (b *Batcher) loadIfNeeded(ctx context.Context, zoneID string, z *zoneState) error {
	b.mu.Lock()
	loaded := b.fresh(z)
	b.mu.Unlock()
	if loaded {
		return nil
	}
	z.load.Lock()
	defer z.load.Unlock()
	b.mu.Lock()
	loaded = b.fresh(z)
	b.mu.Unlock()
	if loaded {
		return nil
	}
	snap := map[key]types.ResourceRecordSet{}
	in := &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)}
	for {
		out, err := b.API.ListResourceRecordSets(ctx, in)
		if err != nil {
			return err
		}
		for _, rs := range out.ResourceRecordSets {
			rs.Name = aws.String(Canonical(aws.ToString(rs.Name)))
			snap[keyOf(rs)] = rs
		}
		if !out.IsTruncated {
			break
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
	b.mu.Lock()
	z.snapshot, z.loadedAt = snap, time.Now()
	b.mu.Unlock()
	return nil
}

// flush sends one batch of a zone's queued changes, planned against the snapshot as the batch's
// earlier changes leave it (two claims wanting one shared record make one change).
func (b *Batcher) flush(running context.Context, zoneID string, z *zoneState) {
	// After a rejected batch the snapshot is read again here: the queued wants wait for this
	// flush, not for another Ensure.
	ctx, cancel := context.WithTimeout(running, 5*time.Minute)
	defer cancel()
	if err := b.loadIfNeeded(ctx, zoneID, z); err != nil {
		b.mu.Lock()
		var sent []string
		for id := range z.queue {
			z.results[id] = Result{State: Failed, Message: awsclient.Describe("route53:ListResourceRecordSets", err), Err: err}
			delete(z.queue, id)
			sent = append(sent, id)
		}
		owners := b.ownersLocked(z, sent)
		z.timer = false
		b.mu.Unlock()
		b.notify(running, owners)
		return
	}
	b.mu.Lock()
	work := make(map[key]types.ResourceRecordSet, len(z.snapshot))
	for k, v := range z.snapshot {
		work[k] = v
	}
	var changes []types.Change
	var sent []string
	records, chars := 0, 0
	for id, q := range z.queue {
		if z.snapshot == nil {
			break
		}
		cs, res := Plan(work, q.want, b.Cluster, b.ExternalDNS)
		r, c := size(cs)
		if records+r > maxBatchRecords || chars+c > maxBatchCharacters {
			continue // next batch
		}
		delete(z.queue, id)
		sent = append(sent, id)
		z.results[id] = res
		if res.State != Pending {
			continue
		}
		Apply(work, cs)
		changes = append(changes, cs...)
		records, chars = records+r, chars+c
	}
	owners := b.ownersLocked(z, sent)
	b.mu.Unlock()

	var res Result
	if len(changes) > 0 {
		_, err := b.API.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(zoneID),
			ChangeBatch:  &types.ChangeBatch{Changes: changes, Comment: aws.String("gateway-orchestrator")},
		})
		res = Result{State: Done}
		if err != nil {
			res = Result{State: Failed, Message: awsclient.Describe("route53:ChangeResourceRecordSets", err), Err: err}
			var invalid *types.InvalidChangeBatch
			if errors.As(err, &invalid) {
				res.Message = fmt.Sprintf("Route53 rejected the change batch: %v", invalid.Messages)
			}
		}
		b.mu.Lock()
		z.lastSent = time.Now()
		if err == nil && z.snapshot != nil {
			Apply(z.snapshot, changes)
		} else if err != nil {
			z.snapshot = nil // someone else changed the zone, or we do not know: read it again
		}
		for _, id := range sent {
			if z.results[id].State == Pending {
				z.results[id] = res
			}
		}
		b.mu.Unlock()
	}

	b.mu.Lock()
	z.timer = len(z.queue) > 0
	if z.timer {
		b.dueLocked(zoneID, time.Now().Add(b.Window))
	}
	b.mu.Unlock()
	b.notify(running, owners)
}

// notify tells the owners, unless the batcher is stopping: the calls of a stopping batcher fail
// with its context, and the reconcilers that would hear of it are stopping too.
func (b *Batcher) notify(ctx context.Context, owners []string) {
	if b.Notify != nil && ctx.Err() == nil {
		for _, o := range owners {
			b.Notify(o)
		}
	}
}

func (b *Batcher) ownersLocked(z *zoneState, ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		for i := 0; i < len(id); i++ {
			if id[i] == '|' {
				o := id[:i]
				if !seen[o] {
					seen[o] = true
					out = append(out, o)
				}
				break
			}
		}
	}
	return out
}

// size counts the records and value characters changes add to a batch.
func size(cs []types.Change) (records, chars int) {
	for _, c := range cs {
		rs := c.ResourceRecordSet
		if rs.AliasTarget != nil {
			records++
			continue
		}
		records += len(rs.ResourceRecords)
		for _, r := range rs.ResourceRecords {
			chars += len(aws.ToString(r.Value))
		}
	}
	return records, chars
}
