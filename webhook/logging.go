package webhook

import (
	"reflect"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/opendi/gateway-orchestrator/internal/lazylog"
)

// managedBy is builder.WebhookManagedBy for obj, whose requests log through RequestLog.
func managedBy[T runtime.Object](mgr manager.Manager, obj T) *builder.WebhookBuilder[T] {
	return builder.WebhookManagedBy(mgr, obj).WithLogConstructor(RequestLog(mgr.GetLogger(), reflect.TypeOf(obj).Elem().Name()))
}

// RequestLog is the LogConstructor of the webhooks of kind: each request's logger has the values
// controller-runtime's builder gives it (the webhook's kind, the object, the user, the request's
// UID), on base named "admission", kept by package lazylog until a line is written. Most requests
// write none, and controller-runtime's own constructor costs every request two copies of zap's
// encoder (about 6.5 KB; BenchmarkHandlerByKind).
func RequestLog(base logr.Logger, kind string) func(logr.Logger, *admission.Request) logr.Logger {
	log := lazylog.New(base).WithName("admission")
	return func(_ logr.Logger, req *admission.Request) logr.Logger {
		if req == nil {
			return log.WithValues("webhookKind", kind)
		}
		return log.WithValues("webhookGroup", req.Kind.Group, "webhookKind", kind,
			kind, klog.KRef(req.Namespace, req.Name), "namespace", req.Namespace, "name", req.Name,
			"resource", req.Resource, "user", req.UserInfo.Username, "requestID", req.UID)
	}
}
