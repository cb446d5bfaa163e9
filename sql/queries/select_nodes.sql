-- Node snapshots of one cluster in [from, to), newest row per (node, ts).
SELECT cluster, ts, node, instance_type, region, zone, capacity_type,
       cpu_capacity_cores, cpu_allocatable_cores, memory_capacity_bytes, memory_allocatable_bytes,
       gpu_capacity, gpu_allocatable, label_keys, label_values
FROM nodes FINAL
WHERE cluster = @cluster AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
ORDER BY node, ts
