-- The autoscalers of one cluster seen in [from, to): the latest snapshot of each.
SELECT cluster, namespace, name, target_kind, target_name,
       argMax(min_replicas, ts) AS min_replicas,
       argMax(max_replicas, ts) AS max_replicas,
       argMax(resources, ts)    AS resources
FROM autoscalers
WHERE cluster = @cluster AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
GROUP BY cluster, namespace, name, target_kind, target_name
ORDER BY namespace, target_kind, target_name, name
