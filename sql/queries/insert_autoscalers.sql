INSERT INTO autoscalers (cluster, ts, namespace, name, target_kind, target_name, min_replicas, max_replicas, resources)
