// Package deploy holds tally's in-cluster deployment: the kustomize base and an example
// overlay under kustomize/, and the image's Dockerfile. It has no Go code of its own; its
// tests hold the manifests to what the binaries need — every file listed, read-only RBAC
// that covers exactly what internal/kube reads (tried against a real API server), requests
// equal to limits, no secret inline. docs/deploy.md explains the objects.
package deploy
