-- Hourly cost rows of one cluster for the hours in [from, to).
SELECT cluster, hour, node, namespace, workload_kind, workload, app, pod, container, is_idle,
       label_keys, label_values, run_hours, cpu_core_hours, cpu_request_core_hours,
       cpu_usage_core_hours, ram_byte_hours, ram_request_byte_hours, ram_usage_byte_hours,
       gpu_hours, cpu_cost, ram_cost, gpu_cost
FROM cost_allocations FINAL
WHERE cluster = @cluster AND hour >= toDateTime(@from, 'UTC') AND hour < toDateTime(@to, 'UTC')
ORDER BY hour, namespace, workload_kind, workload, pod, container, node, is_idle
