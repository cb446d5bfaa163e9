-- The inputs of the hourly allocation (internal/allocation.Hourly) for the hour [from, to) of
-- one cluster: per container, the node it ran on, its running minutes (minutes with a usage
-- sample) and, over those minutes, the sums of max(request, usage) and of usage, for CPU and
-- memory. The request is the one of the container's latest snapshot taken in the day before
-- the hour's end (requests do not change within a pod's life, bar in-place resizes); a
-- container without a snapshot has no request and pays its usage. (The requests' output names
-- differ from the joined columns': ClickHouse 18.16 would read an alias inside the sums.)
SELECT u.namespace                                                    AS namespace,
       u.pod                                                          AS pod,
       u.container                                                    AS container,
       u.workload_kind                                                AS workload_kind,
       u.workload                                                     AS workload,
       r.node                                                         AS node,
       r.label_keys                                                   AS label_keys,
       r.label_values                                                 AS label_values,
       count()                                                        AS running_minutes,
       any(r.cpu_request_cores)                                       AS cpu_request,
       any(r.memory_request_bytes)                                    AS memory_request,
       any(r.gpu_request)                                             AS gpu_requested,
       sum(greatest(u.cpu_usage_cores, r.cpu_request_cores))          AS cpu_charged_core_minutes,
       sum(greatest(toFloat64(u.memory_working_set_bytes), toFloat64(r.memory_request_bytes))) AS ram_charged_byte_minutes,
       sum(u.cpu_usage_cores)                                         AS cpu_usage_core_minutes,
       sum(toFloat64(u.memory_working_set_bytes))                     AS ram_usage_byte_minutes
FROM
(
    SELECT namespace, pod, container, workload_kind, workload, cpu_usage_cores, memory_working_set_bytes
    FROM usage_samples FINAL
    WHERE cluster = @cluster AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
) AS u
ANY LEFT JOIN
(
    SELECT CAST(namespace AS String)         AS namespace,
           pod,
           CAST(container AS String)         AS container,
           argMax(CAST(node AS String), ts)  AS node,
           argMax(cpu_request_cores, ts)     AS cpu_request_cores,
           argMax(memory_request_bytes, ts)  AS memory_request_bytes,
           argMax(gpu_request, ts)           AS gpu_request,
           argMax(label_keys, ts)            AS label_keys,
           argMax(label_values, ts)          AS label_values
    FROM containers
    WHERE cluster = @cluster
      AND ts >= toDateTime(@from, 'UTC') - 86400 AND ts < toDateTime(@to, 'UTC')
    GROUP BY namespace, pod, container
) AS r
USING (namespace, pod, container)
GROUP BY namespace, pod, container, workload_kind, workload, node, label_keys, label_values
ORDER BY namespace, pod, container
