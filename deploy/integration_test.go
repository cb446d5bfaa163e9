package deploy

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tally-finops/tally/internal/kube"
	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/stacktest"
)

// TestIntegrationCollectorRBAC installs the collector's ServiceAccount, ClusterRole and
// ClusterRoleBinding from the manifests on the stack's kube-apiserver (RBAC authorization),
// then acts as that service account: every watched resource can be listed and watched,
// the built-in owners can be read, the collector's inventory syncs and walks owners — and
// writing pods or reading secrets is forbidden. The other objects of the base are created
// with a server-side dry run, so the API server validates them.
func TestIntegrationCollectorRBAC(t *testing.T) {
	kubeconfig := stacktest.Kubeconfig(t)
	m := loadBase(t)
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	suffix := fmt.Sprintf("%06d", rand.IntN(1_000_000))
	ns := "deploytest-" + suffix
	roleName := m.clusterRole.Name + "-deploytest-" + suffix
	t.Cleanup(func() { cleanup(t, admin, ns, roleName) })
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sa := m.serviceAccounts[collectorName].DeepCopy()
	sa.Namespace = ns
	if _, err := admin.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	role := m.clusterRole.DeepCopy()
	role.Name = roleName
	if _, err := admin.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := m.binding.DeepCopy()
	binding.Name = roleName
	binding.RoleRef.Name = roleName
	for i := range binding.Subjects {
		binding.Subjects[i].Namespace = ns
	}
	if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dryRunBase(ctx, t, admin, m, ns)

	// Objects of the namespace for the checks below, created by the admin.
	pod, secret := fixtures(ctx, t, admin, ns)

	imp := rest.CopyConfig(cfg)
	imp.Impersonate = rest.ImpersonationConfig{UserName: fmt.Sprintf("system:serviceaccount:%s:%s", ns, sa.Name)}
	asCollector, err := kubernetes.NewForConfig(imp)
	if err != nil {
		t.Fatal(err)
	}
	asCollectorMeta, err := metadata.NewForConfig(imp)
	if err != nil {
		t.Fatal(err)
	}
	// The API server's RBAC authorizer learns of the new binding from its informers: wait
	// until the first watched resource can be listed.
	first := kube.WatchedResources()[0]
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := asCollectorMeta.Resource(first).List(ctx, metav1.ListOptions{Limit: 1})
		if apierrors.IsForbidden(err) {
			return false, nil
		}
		return err == nil, err
	}); err != nil {
		t.Fatalf("list %s as the collector: %v", first.Resource, err)
	}

	t.Run("list and watch every watched resource", func(t *testing.T) {
		for _, gvr := range kube.WatchedResources() {
			res := asCollectorMeta.Resource(gvr)
			list, err := res.List(ctx, metav1.ListOptions{Limit: 1})
			if err != nil {
				t.Errorf("list %s in all namespaces: %v", gvr, err)
				continue
			}
			w, err := res.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
			if err != nil {
				t.Errorf("watch %s in all namespaces: %v", gvr, err)
				continue
			}
			w.Stop()
		}
	})

	t.Run("get the built-in owners", func(t *testing.T) {
		for _, gvr := range kube.OwnerResources() {
			// A missing object answers 404 to who may read it, 403 to who may not.
			_, err := asCollectorMeta.Resource(gvr).Namespace(ns).Get(ctx, "no-such-owner", metav1.GetOptions{})
			if !apierrors.IsNotFound(err) {
				t.Errorf("get %s: %v, want not found", gvr, err)
			}
		}
	})

	t.Run("no writes, no secrets", func(t *testing.T) {
		newPod := pod.DeepCopy()
		newPod.Name, newPod.ResourceVersion, newPod.UID, newPod.OwnerReferences = "intruder", "", "", nil
		grace := int64(0)
		for what, call := range map[string]func() error{
			"create pod": func() error {
				_, err := asCollector.CoreV1().Pods(ns).Create(ctx, newPod, metav1.CreateOptions{})
				return err
			},
			"delete pod": func() error {
				return asCollector.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &grace})
			},
			"get secret": func() error {
				_, err := asCollector.CoreV1().Secrets(ns).Get(ctx, secret.Name, metav1.GetOptions{})
				return err
			},
			"list secrets": func() error {
				_, err := asCollector.CoreV1().Secrets("").List(ctx, metav1.ListOptions{})
				return err
			},
			"get deployment": func() error {
				_, err := asCollector.AppsV1().Deployments(ns).Get(ctx, "legacy", metav1.GetOptions{})
				return err
			},
			"delete clusterrolebinding": func() error {
				return asCollector.RbacV1().ClusterRoleBindings().Delete(ctx, roleName, metav1.DeleteOptions{})
			},
		} {
			if err := call(); !apierrors.IsForbidden(err) {
				t.Errorf("%s as the collector: %v, want forbidden", what, err)
			}
		}
	})

	t.Run("the collector's inventory syncs and walks owners", func(t *testing.T) {
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
		inv := kube.NewInventory(kube.NewClientsFrom(asCollector, asCollectorMeta), "deploytest", logger)
		invCtx, stop := context.WithTimeout(ctx, 30*time.Second)
		defer stop()
		if err := inv.Start(invCtx); err != nil {
			t.Fatalf("start the inventory as the collector: %v", err)
		}
		var got []model.WorkloadRef
		for _, c := range inv.Containers(time.Now()) {
			if c.Namespace == ns {
				got = append(got, c.Workload)
			}
		}
		// Pod → ReplicationController (read with the metadata client) → Deployment.
		want := model.WorkloadRef{Kind: "Deployment", Name: "legacy"}
		if len(got) != 1 || got[0] != want {
			t.Errorf("workloads of the pods of %s = %v, want [%v]", ns, got, want)
		}
		if strings.Contains(logs.String(), "cannot read owner") {
			t.Errorf("the inventory could not read an owner:\n%s", logs.String())
		}
	})
}

// dryRunBase creates the base's other objects in ns with a server-side dry run.
func dryRunBase(ctx context.Context, t *testing.T, k kubernetes.Interface, m *manifests, ns string) {
	t.Helper()
	dry := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}
	check := func(what string, err error) {
		if err != nil {
			t.Errorf("dry-run create %s: %v", what, err)
		}
	}
	nsObj := m.namespace.DeepCopy()
	nsObj.Name = ns + "-dry"
	_, err := k.CoreV1().Namespaces().Create(ctx, nsObj, dry)
	check("namespace", err)
	for _, sa := range m.serviceAccounts {
		if sa.Name != collectorName {
			sa = sa.DeepCopy()
			sa.Namespace = ns
			_, err := k.CoreV1().ServiceAccounts(ns).Create(ctx, sa, dry)
			check("serviceaccount "+sa.Name, err)
		}
	}
	for _, cm := range m.configMaps {
		cm = cm.DeepCopy()
		cm.Namespace = ns
		_, err := k.CoreV1().ConfigMaps(ns).Create(ctx, cm, dry)
		check("configmap "+cm.Name, err)
	}
	for _, s := range m.services {
		s = s.DeepCopy()
		s.Namespace = ns
		_, err := k.CoreV1().Services(ns).Create(ctx, s, dry)
		check("service "+s.Name, err)
	}
	for _, d := range m.deployments {
		d = d.DeepCopy()
		d.Namespace = ns
		_, err := k.AppsV1().Deployments(ns).Create(ctx, d, dry)
		check("deployment "+d.Name, err)
	}
}

// fixtures creates, as the admin, a Deployment "legacy" that controls a
// ReplicationController that controls a pod (an odd chain, but one whose walk needs the
// ReplicationController read), and a Secret.
func fixtures(ctx context.Context, t *testing.T, k kubernetes.Interface, ns string) (*corev1.Pod, *corev1.Secret) {
	t.Helper()
	labels := map[string]string{"app": "legacy"}
	template := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.local/legacy:1"}}},
	}
	zero := int32(0)
	dep, err := k.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy"},
		Spec:       appsv1.DeploymentSpec{Replicas: &zero, Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: template},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	controller := true
	owner := func(apiVersion, kind, name string, uid types.UID) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, Controller: &controller}}
	}
	rc, err := k.CoreV1().ReplicationControllers(ns).Create(ctx, &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy-1", OwnerReferences: owner("apps/v1", "Deployment", dep.Name, dep.UID)},
		Spec:       corev1.ReplicationControllerSpec{Replicas: &zero, Selector: labels, Template: &template},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod, err := k.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy-1-abcde", Labels: labels, OwnerReferences: owner("v1", "ReplicationController", rc.Name, rc.UID)},
		Spec:       template.Spec,
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := k.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "clickhouse"},
		StringData: map[string]string{"password": "not-for-the-collector"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return pod, secret
}

// cleanup deletes what the test created. Nothing reconciles on the stack's API server: the
// namespace's objects are deleted by hand (pods without grace, no kubelet confirms), and the
// namespace, which the namespace controller would finalize, is finalized here.
func cleanup(t *testing.T, k kubernetes.Interface, ns, roleName string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	check := func(what string, err error) {
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cleanup: delete %s: %v", what, err)
		}
	}
	grace := int64(0)
	all := metav1.ListOptions{}
	check("clusterrolebinding", k.RbacV1().ClusterRoleBindings().Delete(ctx, roleName, metav1.DeleteOptions{}))
	check("clusterrole", k.RbacV1().ClusterRoles().Delete(ctx, roleName, metav1.DeleteOptions{}))
	check("pods", k.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &grace}, all))
	check("replicationcontrollers", k.CoreV1().ReplicationControllers(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, all))
	check("deployments", k.AppsV1().Deployments(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, all))
	check("secrets", k.CoreV1().Secrets(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, all))
	check("serviceaccounts", k.CoreV1().ServiceAccounts(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, all))
	check("namespace", k.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}))
	if nsObj, err := k.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err == nil {
		nsObj.Spec.Finalizers = nil
		_, err = k.CoreV1().Namespaces().Finalize(ctx, nsObj, metav1.UpdateOptions{})
		check("namespace finalizers", err)
	}
	if _, err := k.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("cleanup: namespace %s still exists (err %v)", ns, err)
	}
	for _, what := range []struct {
		name string
		get  func() error
	}{
		{"clusterrole", func() error { _, err := k.RbacV1().ClusterRoles().Get(ctx, roleName, metav1.GetOptions{}); return err }},
		{"clusterrolebinding", func() error {
			_, err := k.RbacV1().ClusterRoleBindings().Get(ctx, roleName, metav1.GetOptions{})
			return err
		}},
	} {
		if err := what.get(); !apierrors.IsNotFound(err) {
			t.Errorf("cleanup: %s %s still exists (err %v)", what.name, roleName, err)
		}
	}
}
