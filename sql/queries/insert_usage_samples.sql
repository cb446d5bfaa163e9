INSERT INTO usage_samples (cluster, ts, namespace, workload_kind, workload, pod, container, cpu_usage_cores, memory_working_set_bytes, cpu_throttled_periods, cpu_periods)
