-- Container snapshots of one cluster in [from, to).
SELECT cluster, ts, namespace, pod, pod_uid, container, init_container, node, phase, qos_class,
       workload_kind, workload, cpu_request_cores, cpu_limit_cores, memory_request_bytes,
       memory_limit_bytes, gpu_request, started_at, finished_at, restart_count,
       last_termination_reason, label_keys, label_values
FROM containers FINAL
WHERE cluster = @cluster AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
ORDER BY namespace, pod, container, ts
