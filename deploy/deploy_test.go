package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tally-finops/tally/internal/cli"
	"github.com/tally-finops/tally/internal/kube"
	"github.com/tally-finops/tally/internal/pricing"
)

const (
	baseDir       = "kustomize/base"
	overlayDir    = "kustomize/overlays/example"
	secretExample = "secret.example.yaml"
	image         = "ghcr.io/tally-finops/tally:latest"
	collectorName = "tally-collector"
	reporterName  = "tally-reporter"
	namespace     = "tally"
)

// kustomization is the part of a kustomization.yaml these tests read.
type kustomization struct {
	Namespace          string      `json:"namespace"`
	Resources          []string    `json:"resources"`
	ConfigMapGenerator []generator `json:"configMapGenerator"`
	SecretGenerator    []generator `json:"secretGenerator"`
}

type generator struct {
	Name     string   `json:"name"`
	Behavior string   `json:"behavior"`
	Files    []string `json:"files"`
	Literals []string `json:"literals"`
}

// document is one YAML document of a manifest file, as plain values.
type document struct {
	file       string
	kind, name string
	raw        map[string]any
}

// manifests is the kustomize base, decoded.
type manifests struct {
	kustomization   kustomization
	docs            []document
	namespace       *corev1.Namespace
	serviceAccounts map[string]*corev1.ServiceAccount
	clusterRole     *rbacv1.ClusterRole
	binding         *rbacv1.ClusterRoleBinding
	deployments     map[string]*appsv1.Deployment
	services        map[string]*corev1.Service
	configMaps      map[string]*corev1.ConfigMap // from configMapGenerator, without the name hash
}

// readDocuments decodes every document of a YAML file.
func readDocuments(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// decodeStrict converts a plain document into a typed object through JSON, as the API
// server would, and fails on fields the type does not have (a misspelt or misplaced key).
func decodeStrict(doc map[string]any, into any) error {
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(into)
}

func readKustomization(t *testing.T, dir string) kustomization {
	t.Helper()
	docs := readDocuments(t, filepath.Join(dir, "kustomization.yaml"))
	if len(docs) != 1 {
		t.Fatalf("%s/kustomization.yaml: %d documents, want 1", dir, len(docs))
	}
	var k kustomization
	data, err := json.Marshal(docs[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &k); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	return k
}

func loadBase(t *testing.T) *manifests {
	t.Helper()
	m := &manifests{
		kustomization:   readKustomization(t, baseDir),
		serviceAccounts: map[string]*corev1.ServiceAccount{},
		deployments:     map[string]*appsv1.Deployment{},
		services:        map[string]*corev1.Service{},
		configMaps:      map[string]*corev1.ConfigMap{},
	}
	for _, file := range m.kustomization.Resources {
		for _, raw := range readDocuments(t, filepath.Join(baseDir, file)) {
			var tm metav1.TypeMeta
			var om metav1.ObjectMeta
			if err := decodeStrict(map[string]any{"apiVersion": raw["apiVersion"], "kind": raw["kind"]}, &tm); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if md, ok := raw["metadata"].(map[string]any); ok {
				if err := decodeStrict(md, &om); err != nil {
					t.Fatalf("%s: metadata: %v", file, err)
				}
			}
			m.docs = append(m.docs, document{file: file, kind: tm.Kind, name: om.Name, raw: raw})
			var err error
			switch gvk := tm.APIVersion + "/" + tm.Kind; gvk {
			case "v1/Namespace":
				m.namespace = &corev1.Namespace{}
				err = decodeStrict(raw, m.namespace)
			case "v1/ServiceAccount":
				sa := &corev1.ServiceAccount{}
				err = decodeStrict(raw, sa)
				m.serviceAccounts[sa.Name] = sa
			case "rbac.authorization.k8s.io/v1/ClusterRole":
				m.clusterRole = &rbacv1.ClusterRole{}
				err = decodeStrict(raw, m.clusterRole)
			case "rbac.authorization.k8s.io/v1/ClusterRoleBinding":
				m.binding = &rbacv1.ClusterRoleBinding{}
				err = decodeStrict(raw, m.binding)
			case "apps/v1/Deployment":
				d := &appsv1.Deployment{}
				err = decodeStrict(raw, d)
				m.deployments[d.Name] = d
			case "v1/Service":
				s := &corev1.Service{}
				err = decodeStrict(raw, s)
				m.services[s.Name] = s
			default:
				t.Fatalf("%s: unexpected object %s %s: add it to the tests", file, gvk, om.Name)
			}
			if err != nil {
				t.Fatalf("%s: %s %s: %v", file, tm.Kind, om.Name, err)
			}
		}
	}
	for _, g := range m.kustomization.ConfigMapGenerator {
		cm := &corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: g.Name, Namespace: m.kustomization.Namespace},
			Data:       map[string]string{},
		}
		for _, l := range g.Literals {
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				t.Fatalf("configMapGenerator %s: literal %q is not key=value", g.Name, l)
			}
			cm.Data[k] = v
		}
		for _, f := range g.Files {
			data, err := os.ReadFile(filepath.Join(baseDir, f))
			if err != nil {
				t.Fatalf("configMapGenerator %s: %v", g.Name, err)
			}
			cm.Data[filepath.Base(f)] = string(data)
		}
		m.configMaps[g.Name] = cm
	}
	if m.namespace == nil || m.clusterRole == nil || m.binding == nil {
		t.Fatal("the base lacks its Namespace, ClusterRole or ClusterRoleBinding")
	}
	for _, name := range []string{collectorName, reporterName} {
		if m.deployments[name] == nil || m.serviceAccounts[name] == nil || m.services[name] == nil {
			t.Fatalf("the base lacks the Deployment, ServiceAccount or Service %s", name)
		}
	}
	return m
}

func TestKustomizationListsEveryFile(t *testing.T) {
	k := readKustomization(t, baseDir)
	listed := slices.Clone(k.Resources)
	for _, g := range k.ConfigMapGenerator {
		listed = append(listed, g.Files...)
	}
	entries, err := os.ReadDir(baseDir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		if name := e.Name(); !e.IsDir() && (strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			files = append(files, name)
		}
	}
	for _, f := range files {
		switch in := slices.Contains(listed, f); {
		case f == "kustomization.yaml":
		case f == secretExample && in:
			t.Errorf("%s is listed in kustomization.yaml: credentials do not belong in git", f)
		case f != secretExample && !in:
			t.Errorf("%s is not listed in kustomization.yaml (resources or configMapGenerator files)", f)
		}
	}
	for _, f := range listed {
		if !slices.Contains(files, f) {
			t.Errorf("kustomization.yaml lists %s, which is not in %s", f, baseDir)
		}
	}
	if k.Namespace != namespace {
		t.Errorf("kustomization namespace = %q, want %q", k.Namespace, namespace)
	}
	if len(k.SecretGenerator) > 0 {
		t.Error("kustomization.yaml generates Secrets: credentials do not belong in git")
	}
	loadBase(t) // every listed manifest decodes strictly
}

// TestClusterRoleIsReadOnly: the collector may get, list and watch, nothing else, and no
// wildcard grants more than the rules name.
func TestClusterRoleIsReadOnly(t *testing.T) {
	m := loadBase(t)
	if m.clusterRole.AggregationRule != nil {
		t.Error("the ClusterRole aggregates other roles")
	}
	for i, r := range m.clusterRole.Rules {
		for _, v := range r.Verbs {
			if v != "get" && v != "list" && v != "watch" {
				t.Errorf("rule %d grants verb %q: only get, list and watch are allowed", i, v)
			}
		}
		if slices.Contains(r.APIGroups, "*") || slices.Contains(r.Resources, "*") || slices.Contains(r.Verbs, "*") {
			t.Errorf("rule %d has a wildcard: %+v", i, r)
		}
		if len(r.NonResourceURLs) > 0 {
			t.Errorf("rule %d grants non-resource URLs %v", i, r.NonResourceURLs)
		}
		for _, res := range r.Resources {
			if strings.Contains(res, "/") {
				t.Errorf("rule %d grants subresource %s", i, res)
			}
		}
	}
}

// grant is one (API group, resource, verb) of an RBAC rule.
type grant struct{ group, resource, verb string }

// TestClusterRoleGrantsWhatTheCollectorReads: the rules grant exactly what internal/kube
// lists — every resource its informers list and watch and every built-in owner its owner
// walk reads — and nothing more.
func TestClusterRoleGrantsWhatTheCollectorReads(t *testing.T) {
	m := loadBase(t)
	var granted []grant
	for _, r := range m.clusterRole.Rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					granted = append(granted, grant{g, res, v})
				}
			}
		}
	}
	var needed []grant
	for _, r := range kube.WatchedResources() {
		for _, v := range kube.WatchVerbs() {
			needed = append(needed, grant{r.Group, r.Resource, v})
		}
	}
	for _, r := range kube.OwnerResources() {
		for _, v := range kube.OwnerVerbs() {
			needed = append(needed, grant{r.Group, r.Resource, v})
		}
	}
	for _, n := range needed {
		if !slices.Contains(granted, n) {
			t.Errorf("the ClusterRole does not grant %s on %s in API group %q, which the collector needs", n.verb, n.resource, n.group)
		}
	}
	for _, g := range granted {
		if !slices.Contains(needed, g) {
			t.Errorf("the ClusterRole grants %s on %s in API group %q, which the collector does not use", g.verb, g.resource, g.group)
		}
	}
}

func TestBindingAndServiceAccounts(t *testing.T) {
	m := loadBase(t)
	b := m.binding
	if b.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: m.clusterRole.Name}) {
		t.Errorf("binding roleRef = %+v, want the ClusterRole %s", b.RoleRef, m.clusterRole.Name)
	}
	want := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: collectorName, Namespace: namespace}}
	if !slices.Equal(b.Subjects, want) {
		t.Errorf("binding subjects = %+v, want %+v", b.Subjects, want)
	}
	if got := m.deployments[collectorName].Spec.Template.Spec.ServiceAccountName; got != collectorName {
		t.Errorf("collector service account = %q, want %q", got, collectorName)
	}
	reporter := m.deployments[reporterName].Spec.Template.Spec
	if reporter.ServiceAccountName != reporterName {
		t.Errorf("reporter service account = %q, want %q", reporter.ServiceAccountName, reporterName)
	}
	if reporter.AutomountServiceAccountToken == nil || *reporter.AutomountServiceAccountToken {
		t.Error("the reporter's pods mount a service account token: it never talks to the Kubernetes API")
	}
	if sa := m.serviceAccounts[reporterName]; sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Error("the reporter's service account mounts its token")
	}
}

// containers returns every container and init container of a pod spec.
func containers(spec corev1.PodSpec) []corev1.Container {
	return append(slices.Clone(spec.InitContainers), spec.Containers...)
}

// TestDeploymentsAreGuaranteed: tally recommends request = limit, and runs that way.
func TestDeploymentsAreGuaranteed(t *testing.T) {
	m := loadBase(t)
	for name, d := range m.deployments {
		for _, c := range containers(d.Spec.Template.Spec) {
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				req, hasReq := c.Resources.Requests[r]
				lim, hasLim := c.Resources.Limits[r]
				if !hasReq || !hasLim || req.Cmp(lim) != 0 {
					t.Errorf("%s/%s: %s request %v, limit %v: want both set and equal (Guaranteed QoS)", name, c.Name, r, req.String(), lim.String())
				}
			}
		}
	}
}

// parseGoMemLimit parses a GOMEMLIMIT value: bytes with an optional B, KiB, MiB, GiB or
// TiB suffix.
func parseGoMemLimit(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("GOMEMLIMIT %q: %w", s, err)
	}
	return n * mult, nil
}

func envOf(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func TestGOMEMLIMITBelowMemoryLimit(t *testing.T) {
	m := loadBase(t)
	for name, d := range m.deployments {
		for _, c := range containers(d.Spec.Template.Spec) {
			e := envOf(c, "GOMEMLIMIT")
			if e == nil || e.Value == "" {
				t.Errorf("%s/%s: GOMEMLIMIT is not set", name, c.Name)
				continue
			}
			soft, err := parseGoMemLimit(e.Value)
			if err != nil {
				t.Errorf("%s/%s: %v", name, c.Name, err)
				continue
			}
			limit := c.Resources.Limits.Memory().Value()
			if soft >= limit || soft < limit*3/4 {
				t.Errorf("%s/%s: GOMEMLIMIT %s is not between 75%% and 100%% of the memory limit %s",
					name, c.Name, e.Value, resource.NewQuantity(limit, resource.BinarySI))
			}
		}
	}
}

func TestPodsAreLockedDown(t *testing.T) {
	m := loadBase(t)
	for name, d := range m.deployments {
		spec := d.Spec.Template.Spec
		psc := spec.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: the pod must set runAsNonRoot and the RuntimeDefault seccomp profile", name)
		}
		for _, c := range containers(spec) {
			sc := c.SecurityContext
			switch {
			case sc == nil:
				t.Errorf("%s/%s: no securityContext", name, c.Name)
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				t.Errorf("%s/%s: root filesystem not read-only", name, c.Name)
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				t.Errorf("%s/%s: privilege escalation allowed", name, c.Name)
			case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
				t.Errorf("%s/%s: capabilities %+v, want ALL dropped and none added", name, c.Name, sc.Capabilities)
			case sc.Privileged != nil && *sc.Privileged:
				t.Errorf("%s/%s: privileged", name, c.Name)
			}
			if c.Image != image {
				t.Errorf("%s/%s: image %q, want %q", name, c.Name, c.Image, image)
			}
		}
	}
	if got := m.namespace.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		t.Errorf("namespace enforces pod security %q, want restricted", got)
	}
}

// flagsOf returns the names of the long flags in args ("--pricing=x" → "pricing") and of
// the flags set through TALLY_* variables.
func flagsOf(c corev1.Container) []string {
	var out []string
	for _, a := range c.Args {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			out = append(out, name)
		}
	}
	for _, e := range c.Env {
		if name, ok := strings.CutPrefix(e.Name, "TALLY_"); ok {
			out = append(out, strings.ReplaceAll(strings.ToLower(name), "_", "-"))
		}
	}
	return out
}

// checkFlagsDefined fails when a flag the manifests set is not declared in the command's
// sources; a TALLY_* variable must be the one cli.EnvName gives for its flag.
func checkFlagsDefined(t *testing.T, c corev1.Container, cmdDir string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(cmdDir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(data)
	}
	for _, f := range flagsOf(c) {
		if !strings.Contains(src.String(), strconv.Quote(f)) {
			t.Errorf("%s sets --%s (or %s), which %s does not declare", c.Name, f, cli.EnvName(f), cmdDir)
		}
	}
	for _, e := range c.Env {
		if strings.HasPrefix(e.Name, "TALLY_") {
			f := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(e.Name, "TALLY_")), "_", "-")
			if cli.EnvName(f) != e.Name {
				t.Errorf("%s: %s is not the variable of --%s", c.Name, e.Name, f)
			}
		}
	}
}

// probePort returns the container port a probe's port names.
func probePort(c corev1.Container, p *corev1.Probe) (path string, port int32) {
	if p == nil || p.HTTPGet == nil {
		return "", 0
	}
	port = p.HTTPGet.Port.IntVal
	for _, cp := range c.Ports {
		if cp.Name == p.HTTPGet.Port.StrVal && p.HTTPGet.Port.StrVal != "" {
			port = cp.ContainerPort
		}
	}
	return p.HTTPGet.Path, port
}

func TestCollectorDeployment(t *testing.T) {
	m := loadBase(t)
	d := m.deployments[collectorName]
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("collector: replicas %v, strategy %q: want one replica, Recreate", d.Spec.Replicas, d.Spec.Strategy.Type)
	}
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("collector: %d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	if !slices.Equal(c.Command, []string{"/usr/local/bin/collector"}) {
		t.Errorf("collector command = %v", c.Command)
	}
	for _, a := range []string{"--pricing=/etc/tally/prices.yaml", "--listen=:9464"} {
		if !slices.Contains(c.Args, a) {
			t.Errorf("collector args %v lack %s", c.Args, a)
		}
	}
	checkFlagsDefined(t, c, "../cmd/collector")
	for _, p := range []struct {
		probe *corev1.Probe
		path  string
	}{{c.ReadinessProbe, "/readyz"}, {c.LivenessProbe, "/healthz"}, {c.StartupProbe, "/healthz"}} {
		if path, port := probePort(c, p.probe); path != p.path || port != 9464 {
			t.Errorf("collector probe on %s:%d, want %s on 9464", path, port, p.path)
		}
	}
	checkConfigEnv(t, m, c, map[string]string{"TALLY_CLUSTER": "cluster", "TALLY_PROMETHEUS_URL": "prometheus-url"})
	checkSecretEnv(t, c, "TALLY_CLICKHOUSE_DSN", "clickhouse-dsn", false)

	// The price book: the generated ConfigMap, mounted where --pricing looks.
	var vol *corev1.Volume
	for i := range spec.Volumes {
		if cm := spec.Volumes[i].ConfigMap; cm != nil && cm.Name == "tally-prices" {
			vol = &spec.Volumes[i]
		}
	}
	if vol == nil {
		t.Fatal("collector: no volume from the tally-prices ConfigMap")
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(vm corev1.VolumeMount) bool { return vm.Name == vol.Name && vm.MountPath == "/etc/tally" }) {
		t.Errorf("collector: the price book is not mounted at /etc/tally")
	}
	if _, ok := m.configMaps["tally-prices"].Data["prices.yaml"]; !ok {
		t.Errorf("the tally-prices ConfigMap has no prices.yaml")
	}
}

func TestReporterDeployment(t *testing.T) {
	m := loadBase(t)
	spec := m.deployments[reporterName].Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("reporter: %d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	if !slices.Equal(c.Command, []string{"/usr/local/bin/reporter"}) || len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Errorf("reporter command %v, args %v: want /usr/local/bin/reporter serve", c.Command, c.Args)
	}
	for _, a := range []string{"--listen=:8080", "--reports-dir=/var/lib/tally/reports"} {
		if !slices.Contains(c.Args, a) {
			t.Errorf("reporter args %v lack %s", c.Args, a)
		}
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(vm corev1.VolumeMount) bool { return vm.MountPath == "/var/lib/tally/reports" && !vm.ReadOnly }) {
		t.Error("reporter: no writable volume at /var/lib/tally/reports")
	}
	for _, p := range []struct {
		probe *corev1.Probe
		path  string
	}{{c.ReadinessProbe, "/readyz"}, {c.LivenessProbe, "/healthz"}} {
		if path, port := probePort(c, p.probe); path != p.path || port != 8080 {
			t.Errorf("reporter probe on %s:%d, want %s on 8080", path, port, p.path)
		}
	}
	checkConfigEnv(t, m, c, map[string]string{"TALLY_CLUSTER": "cluster"})
	checkSecretEnv(t, c, "TALLY_CLICKHOUSE_DSN", "reporter-clickhouse-dsn", false)
	checkSecretEnv(t, c, "TALLY_TOKEN", "api-token", true)
}

// TestReporterServeFlags checks the reporter's flags against its sources once `reporter
// serve` exists.
func TestReporterServeFlags(t *testing.T) {
	m := loadBase(t)
	files, _ := filepath.Glob("../cmd/reporter/serve*.go")
	if len(files) == 0 {
		t.Skip("cmd/reporter has no serve command yet")
	}
	checkFlagsDefined(t, m.deployments[reporterName].Spec.Template.Spec.Containers[0], "../cmd/reporter")
}

func checkConfigEnv(t *testing.T, m *manifests, c corev1.Container, want map[string]string) {
	t.Helper()
	for name, key := range want {
		e := envOf(c, name)
		if e == nil || e.ValueFrom == nil || e.ValueFrom.ConfigMapKeyRef == nil || e.ValueFrom.ConfigMapKeyRef.Key != key {
			t.Errorf("%s: %s does not come from a ConfigMap's key %s", c.Name, name, key)
			continue
		}
		ref := e.ValueFrom.ConfigMapKeyRef
		if v, ok := m.configMaps[ref.Name].Data[key]; !ok || v == "" {
			t.Errorf("%s: %s comes from %s/%s, which the kustomization does not generate", c.Name, name, ref.Name, key)
		}
	}
}

func checkSecretEnv(t *testing.T, c corev1.Container, name, key string, optional bool) {
	t.Helper()
	e := envOf(c, name)
	if e == nil || e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Key != key {
		t.Errorf("%s: %s does not come from the Secret's key %s", c.Name, name, key)
		return
	}
	if got := e.ValueFrom.SecretKeyRef.Optional != nil && *e.ValueFrom.SecretKeyRef.Optional; got != optional {
		t.Errorf("%s: %s optional = %v, want %v", c.Name, name, got, optional)
	}
}

func TestServicesReachTheirPods(t *testing.T) {
	m := loadBase(t)
	for name, want := range map[string]int32{collectorName: 9464, reporterName: 8080} {
		s, d := m.services[name], m.deployments[name]
		for k, v := range s.Spec.Selector {
			if d.Spec.Template.Labels[k] != v {
				t.Errorf("service %s selects %s=%s, which the pods of %s lack", name, k, v, name)
			}
		}
		if len(s.Spec.Selector) == 0 {
			t.Errorf("service %s selects nothing", name)
		}
		if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Port != want {
			t.Errorf("service %s ports %+v, want %d", name, s.Spec.Ports, want)
			continue
		}
		target := s.Spec.Ports[0].TargetPort
		if !slices.ContainsFunc(d.Spec.Template.Spec.Containers[0].Ports, func(p corev1.ContainerPort) bool {
			return p.Name == target.StrVal && target.StrVal != "" || p.ContainerPort == target.IntVal
		}) {
			t.Errorf("service %s targets port %s, which the pods of %s do not open", name, target.String(), name)
		}
	}
}

// credentialURL matches a URL with a password in it (scheme://user:password@host).
var credentialURL = regexp.MustCompile(`[a-z]+://[^/\s:@]+:[^/\s@]+@`)

// secretish names an environment variable or key that holds a credential.
var secretish = regexp.MustCompile(`(?i)(dsn|password|passwd|token|secret|api[-_]?key)`)

// walkStrings calls f with every string in a plain YAML value and its path.
func walkStrings(v any, path string, f func(path, s string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			walkStrings(x, path+"."+k, f)
		}
	case []any:
		for i, x := range v {
			walkStrings(x, fmt.Sprintf("%s[%d]", path, i), f)
		}
	case string:
		f(path, v)
	}
}

// TestNoSecretValueInline: credentials come from the Secret the user creates, never from a
// file of the base.
func TestNoSecretValueInline(t *testing.T) {
	m := loadBase(t)
	for _, d := range m.docs {
		if d.kind == "Secret" {
			t.Errorf("%s: a Secret is part of the base", d.file)
		}
		walkStrings(d.raw, d.kind+"/"+d.name, func(path, s string) {
			if credentialURL.MatchString(s) {
				t.Errorf("%s: %s holds a URL with a password", d.file, path)
			}
		})
	}
	for _, cm := range m.configMaps {
		for k, v := range cm.Data {
			if credentialURL.MatchString(v) || secretish.MatchString(k) {
				t.Errorf("ConfigMap %s: key %s looks like a credential", cm.Name, k)
			}
		}
	}
	example := readDocuments(t, filepath.Join(baseDir, secretExample))
	var secret corev1.Secret
	if len(example) != 1 || decodeStrict(example[0], &secret) != nil || secret.Kind != "Secret" {
		t.Fatalf("%s does not hold one Secret", secretExample)
	}
	raw, err := os.ReadFile(filepath.Join(baseDir, secretExample))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "kubectl -n tally create secret generic "+secret.Name) {
		t.Errorf("%s does not show how to create the Secret with kubectl", secretExample)
	}
	for name, d := range m.deployments {
		for _, c := range containers(d.Spec.Template.Spec) {
			for _, a := range c.Args {
				if secretish.MatchString(a) {
					t.Errorf("%s/%s: argument %q passes a credential on the command line", name, c.Name, a)
				}
			}
			for _, e := range c.Env {
				if !secretish.MatchString(e.Name) {
					continue
				}
				ref := (*corev1.SecretKeySelector)(nil)
				if e.ValueFrom != nil {
					ref = e.ValueFrom.SecretKeyRef
				}
				switch {
				case ref == nil || e.Value != "":
					t.Errorf("%s/%s: %s is not read from a Secret", name, c.Name, e.Name)
				case ref.Name != secret.Name:
					t.Errorf("%s/%s: %s reads Secret %s; %s describes %s", name, c.Name, e.Name, ref.Name, secretExample, secret.Name)
				case secret.StringData[ref.Key] == "":
					t.Errorf("%s/%s: %s reads key %s, which %s does not show", name, c.Name, e.Name, ref.Key, secretExample)
				}
			}
		}
	}
}

func TestPriceBookLoads(t *testing.T) {
	if _, err := pricing.Load(filepath.Join(baseDir, "prices.yaml")); err != nil {
		t.Fatal(err)
	}
}

func TestOverlayExample(t *testing.T) {
	k := readKustomization(t, overlayDir)
	if !slices.Contains(k.Resources, "../../base") {
		t.Errorf("the example overlay does not build on ../../base: %v", k.Resources)
	}
	i := slices.IndexFunc(k.ConfigMapGenerator, func(g generator) bool { return g.Name == "tally-config" })
	if i < 0 || k.ConfigMapGenerator[i].Behavior != "merge" {
		t.Fatal("the example overlay does not merge its own tally-config")
	}
	keys := map[string]bool{}
	for _, l := range k.ConfigMapGenerator[i].Literals {
		key, _, _ := strings.Cut(l, "=")
		keys[key] = true
	}
	if !keys["cluster"] || !keys["prometheus-url"] {
		t.Errorf("the example overlay does not set cluster and prometheus-url: %v", k.ConfigMapGenerator[i].Literals)
	}
}
