INSERT INTO container_events (cluster, ts, namespace, workload_kind, workload, pod, container, node, kind, reason, message, count, memory_limit_bytes)
