-- Scores rightsizing recommendations against the 1-minute samples of the window that followed
-- them, [from, to), for one batch of workload containers: per container, the samples, those
-- with CPU usage above the recommended CPU request, those with a working set above the
-- recommended memory limit (each an OOM kill had the limit been set), and the largest working
-- set. The recommendations come as parallel arrays (@t_*), one element per container; the
-- namespace range [@ns_min, @ns_max] of the batch lets the sort key skip other namespaces. The
-- join is ALL: each key is in the arrays once, and newer servers read ANY INNER as "one row
-- per key on either side".
SELECT namespace, workload_kind, workload, container,
       count()                                                   AS samples_n,
       countIf(cpu_usage_cores > cpu_request)                    AS cpu_over,
       countIf(toFloat64(memory_working_set_bytes) > memory_limit) AS mem_over,
       toFloat64(max(memory_working_set_bytes))                  AS mem_peak
FROM
(
    SELECT namespace, workload_kind, workload, container, cpu_usage_cores, memory_working_set_bytes
    FROM usage_samples
    WHERE cluster = @cluster AND namespace >= @ns_min AND namespace <= @ns_max
      AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
) AS s
ALL INNER JOIN
(
    SELECT namespace, workload_kind, workload, container,
           toFloat64(cpu_request_t) AS cpu_request,
           toFloat64(memory_limit_t) AS memory_limit
    FROM system.one
    ARRAY JOIN @t_namespaces AS namespace, @t_kinds AS workload_kind, @t_workloads AS workload,
               @t_containers AS container, @t_cpu AS cpu_request_t, @t_mem AS memory_limit_t
) AS t
USING (namespace, workload_kind, workload, container)
GROUP BY namespace, workload_kind, workload, container
ORDER BY namespace, workload_kind, workload, container
