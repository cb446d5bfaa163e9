-- 1-minute usage samples of one cluster in [from, to).
SELECT cluster, ts, namespace, workload_kind, workload, pod, container,
       cpu_usage_cores, memory_working_set_bytes, cpu_throttled_periods, cpu_periods
FROM usage_samples FINAL
WHERE cluster = @cluster AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
ORDER BY namespace, pod, container, ts
