package app

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// ErrServedKindsChanged is what the manager stops with when the API server starts or stops
// serving a kind whose watches and indexes were decided at start (a CRD installed or removed
// since): the process exits so that it is started again and sets them up as the cluster is now.
var ErrServedKindsChanged = errors.New("the API server's served kinds changed since start")

// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=list;watch

// crdGVR is the resource of CustomResourceDefinitions.
var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// DefaultKindChangeStagger is the most a replica waits, at random, before it stops for a served
// kind that changed: with two replicas, both stopping within the same few seconds (the time a
// pod takes to start again) is unlikely, so admission, whose webhooks fail closed, stays served.
const DefaultKindChangeStagger = 30 * time.Second

// maxRecheck caps how long a pending change waits between two discovery reads: a CRD that
// never becomes served (an invalid schema) costs one discovery read a minute, not one a second.
const maxRecheck = time.Minute

// kindWatch stops the manager with ErrServedKindsChanged once the API server's serving of kind
// (whose CRD is named crd) differs from servedAtStart. It watches that one CRD's metadata, by
// name, and asks discovery (a fresh RESTMapper, the same question Register asked at start) only
// while the CRD's existence says a change is coming, so that the next start sees the kind as
// the API server serves it and does not restart again. It runs on every replica: each serves
// admission from its own cache.
type kindWatch struct {
	kind          schema.GroupKind
	crd           string
	servedAtStart bool
	meta          metadata.Interface
	// servedNow asks the API server, not a cache, whether it serves kind.
	servedNow func() (bool, error)
	// recheck is the first wait between two discovery reads while a change is pending.
	recheck time.Duration
	// stagger is the most this replica waits, at random, once the change is confirmed.
	stagger time.Duration
	log     logr.Logger
}

var (
	_ manager.Runnable               = &kindWatch{}
	_ manager.LeaderElectionRunnable = &kindWatch{}
)

// newKindWatch watches the CRD of kind for mgr's API server.
func newKindWatch(cfg *rest.Config, httpClient *http.Client, log logr.Logger, kind schema.GroupKind, crd string, servedAtStart bool, stagger time.Duration) (*kindWatch, error) {
	mc, err := metadata.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("creating a metadata client for CustomResourceDefinitions: %w", err)
	}
	return &kindWatch{
		kind: kind, crd: crd, servedAtStart: servedAtStart, meta: mc, recheck: time.Second, stagger: stagger, log: log,
		servedNow: func() (bool, error) {
			m, err := apiutil.NewDynamicRESTMapper(cfg, httpClient)
			if err != nil {
				return false, err
			}
			return served(m, kind)
		},
	}, nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every replica watches.
func (w *kindWatch) NeedLeaderElection() bool { return false }

// Start implements manager.Runnable. It returns nil when ctx ends, and an error wrapping
// ErrServedKindsChanged when the kind's serving changed.
func (w *kindWatch) Start(ctx context.Context) error {
	log := w.log.WithValues("kind", w.kind.String(), "customResourceDefinition", w.crd, "servedAtStart", w.servedAtStart)
	inf := metadatainformer.NewFilteredMetadataInformer(w.meta, crdGVR, "", 0, toolscache.Indexers{}, func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", w.crd).String()
	}).Informer()
	changed := make(chan struct{}, 1)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { notify() },
		UpdateFunc: func(any, any) { notify() },
		DeleteFunc: func(any) { notify() },
	}); err != nil {
		return fmt.Errorf("watching CustomResourceDefinition %s: %w", w.crd, err)
	}
	go inf.Run(ctx.Done())

	var timer <-chan time.Time
	wait := w.recheck
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-timer:
		}
		timer = nil
		if !w.pending(inf.GetStore()) {
			wait = w.recheck
			continue
		}
		now, err := w.servedNow()
		if err != nil {
			log.Error(err, "reading whether the API server serves the kind; trying again", "in", wait)
		} else if now != w.servedAtStart {
			// The replicas see the change within a second of each other: each waits its own
			// random share of the stagger, so they do not all restart at once.
			delay := time.Duration(rand.Int64N(int64(max(w.stagger, 0)) + 1))
			log.Info("the API server's serving of this kind changed since start; stopping after a random delay, so that the replicas restart one at a time", "delay", delay)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(delay):
			}
			if now {
				log.Info("the API server serves this kind now, whose CRD was installed after start: stopping, to be started again with its watches and indexes (a claim used only by such objects must not be released as unused)")
			} else {
				log.Info("the API server no longer serves this kind, whose CRD was removed after start: stopping, to be started again without its watches")
			}
			return fmt.Errorf("%w: %s is %s", ErrServedKindsChanged, w.kind, map[bool]string{true: "served now", false: "no longer served"}[now])
		}
		timer = time.After(wait)
		wait = min(2*wait, maxRecheck)
	}
}

// pending reports whether the CRD's existence (not being deleted) says the kind's serving is about
// to differ, or differs, from what it was at start.
func (w *kindWatch) pending(store toolscache.Store) bool {
	obj, ok, err := store.GetByKey(w.crd)
	exists := err == nil && ok
	if m, isMeta := obj.(*metav1.PartialObjectMetadata); exists && isMeta && m.DeletionTimestamp != nil {
		exists = false
	}
	return exists != w.servedAtStart
}
