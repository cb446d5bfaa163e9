INSERT INTO volume_allocations (cluster, hour, node, namespace, workload_kind, workload, app, pod, volume, label_keys, label_values, pv_byte_hours, pv_cost)
