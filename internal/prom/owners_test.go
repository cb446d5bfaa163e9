package prom

import (
	"testing"

	"github.com/tally-finops/tally/internal/model"
)

func TestWorkload(t *testing.T) {
	o := newOwners()
	setOwner(o.pods, objectKey{"shop", "web-7d9f-abc12"}, "ReplicaSet", "web-7d9f")
	setOwner(o.replicaSets, objectKey{"shop", "web-7d9f"}, "Deployment", "web")
	setOwner(o.pods, objectKey{"shop", "orphan-rs-x1"}, "ReplicaSet", "orphan-rs")
	setOwner(o.replicaSets, objectKey{"shop", "orphan-rs"}, noOwner, noOwner)
	setOwner(o.pods, objectKey{"batch", "report-29340000-xk2lp"}, "Job", "report-29340000")
	setOwner(o.jobs, objectKey{"batch", "report-29340000"}, "CronJob", "report")
	setOwner(o.pods, objectKey{"batch", "once-abc"}, "Job", "once")
	setOwner(o.pods, objectKey{"db", "pg-0"}, "StatefulSet", "pg")
	setOwner(o.pods, objectKey{"kube-system", "fluentd-x2"}, "DaemonSet", "fluentd")
	setOwner(o.pods, objectKey{"ml", "trainer-0"}, "TFJob", "trainer")
	setOwner(o.pods, objectKey{"shop", "debug"}, noOwner, noOwner)
	setOwner(o.pods, objectKey{"roll", "api-5c-x"}, "ReplicaSet", "api-5c")
	setOwner(o.replicaSets, objectKey{"roll", "api-5c"}, "Rollout", "api")
	// Same names in another namespace must not resolve through these.
	setOwner(o.pods, objectKey{"other", "web-7d9f-abc12"}, "ReplicaSet", "web-7d9f")

	for _, tc := range []struct {
		ns, pod string
		want    model.WorkloadRef
	}{
		{"shop", "web-7d9f-abc12", model.WorkloadRef{Kind: "Deployment", Name: "web"}},
		{"shop", "orphan-rs-x1", model.WorkloadRef{Kind: "ReplicaSet", Name: "orphan-rs"}},
		{"batch", "report-29340000-xk2lp", model.WorkloadRef{Kind: "CronJob", Name: "report"}},
		{"batch", "once-abc", model.WorkloadRef{Kind: "Job", Name: "once"}},
		{"db", "pg-0", model.WorkloadRef{Kind: "StatefulSet", Name: "pg"}},
		{"kube-system", "fluentd-x2", model.WorkloadRef{Kind: "DaemonSet", Name: "fluentd"}},
		{"ml", "trainer-0", model.WorkloadRef{Kind: "TFJob", Name: "trainer"}},
		{"shop", "debug", model.WorkloadRef{Kind: "Pod", Name: "debug"}},
		{"shop", "unknown", model.WorkloadRef{Kind: "Pod", Name: "unknown"}},
		{"roll", "api-5c-x", model.WorkloadRef{Kind: "Rollout", Name: "api"}},
		{"other", "web-7d9f-abc12", model.WorkloadRef{Kind: "ReplicaSet", Name: "web-7d9f"}},
	} {
		if got := o.workload(tc.ns, tc.pod); got != tc.want {
			t.Errorf("workload(%s/%s) = %+v, want %+v", tc.ns, tc.pod, got, tc.want)
		}
	}
}

func TestQoSClass(t *testing.T) {
	g := resources{cpuRequest: 1, cpuLimit: 1, memRequest: 1 << 30, memLimit: 1 << 30}
	for _, tc := range []struct {
		name string
		in   []resources
		want string
	}{
		{"none", nil, ""},
		{"guaranteed", []resources{g, g}, qosGuaranteed},
		{"one container burstable", []resources{g, {cpuRequest: 0.1}}, qosBurstable},
		{"limit above request", []resources{{cpuRequest: 1, cpuLimit: 2, memRequest: 1, memLimit: 1}}, qosBurstable},
		{"no memory limit", []resources{{cpuRequest: 1, cpuLimit: 1, memRequest: 1}}, qosBurstable},
		{"best effort", []resources{{}, {}}, qosBestEffort},
	} {
		if got := qosClass(tc.in); got != tc.want {
			t.Errorf("%s: qosClass = %q, want %q", tc.name, got, tc.want)
		}
	}
}
