-- Container events of one cluster in [from, to).
SELECT cluster, ts, namespace, workload_kind, workload, pod, container, node, kind, reason,
       message, count, memory_limit_bytes
FROM container_events FINAL
WHERE cluster = @cluster AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
ORDER BY ts, namespace, pod, container, kind
