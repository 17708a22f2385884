package v1alpha1

// AnnotationAdmissionPending marks a wildcard DomainClaim that admission has created but not yet
// confirmed: the request that made it is still checking, against the API server, for claims of
// other namespaces below it. A request for a name below a pending wildcard waits for the verdict
// (the annotation removed: the wildcard stays; the claim deleted: it yields). Claims without the
// annotation, admin claims among them, are settled.
const AnnotationAdmissionPending = "gateway.opendi.com/admission-pending"
