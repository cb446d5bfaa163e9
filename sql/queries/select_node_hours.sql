-- Per clock hour of [from, to) and node of one cluster: the minutes the node was seen in
-- (snapshots of the Kubernetes API's inventory and of kube-state-metrics' history alike) and
-- the node as its latest snapshot of the hour has it. Attributes (instance type, region,
-- zone, capacity type, labels) come from the latest snapshot that has an instance type: a
-- node kube-state-metrics reports after the API forgot it is known only by name and
-- resources. Node minutes are counted here, not by reading every snapshot into the
-- collector. FINAL keeps the later insert of a snapshot minute written twice.
SELECT toStartOfHour(ts)                                   AS hour,
       node,
       uniqExact(toStartOfMinute(ts))                      AS minutes,
       argMaxIf(instance_type, ts, instance_type != '')    AS known_instance_type,
       argMaxIf(region, ts, instance_type != '')           AS known_region,
       argMaxIf(zone, ts, instance_type != '')             AS known_zone,
       argMaxIf(capacity_type, ts, instance_type != '')    AS known_capacity_type,
       argMax(cpu_capacity_cores, ts)                      AS cpu_capacity,
       argMax(cpu_allocatable_cores, ts)                   AS cpu_allocatable,
       argMax(memory_capacity_bytes, ts)                   AS memory_capacity,
       argMax(memory_allocatable_bytes, ts)                AS memory_allocatable,
       argMax(gpu_capacity, ts)                            AS gpus,
       argMax(gpu_allocatable, ts)                         AS gpus_allocatable,
       argMaxIf(label_keys, ts, instance_type != '')       AS known_label_keys,
       argMaxIf(label_values, ts, instance_type != '')     AS known_label_values
FROM nodes FINAL
WHERE cluster = @cluster AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
GROUP BY hour, node
ORDER BY hour, node
