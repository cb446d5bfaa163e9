-- Rightsizing statistics of one cluster's workload containers (pods pooled) over the window
-- [from, to), for the namespaces of one batch: one row per workload container with samples.
--
-- * Usage: the CPU percentile at level {quantile}: the value of the bucket that holds the
--   nearest-rank quantile of the 1-minute samples, within 0.5% of it, the same however the
--   samples were inserted (migrations/0011_cpu_buckets.sql; aggregate function parameters
--   must be literals, so the store writes the level into the statement); the CPU and memory
--   peaks (exact), sample and CFS period counts. Whole UTC days [days_from, days_to) are read from
--   usage_daily, the hours outside them from usage_hourly, so a 14-day window merges about 14
--   rows per container, not 336.
-- * Pods: distinct pods with samples in the window and the first and last sample (unix
--   seconds, clipped to the window), from usage_pods_daily.
-- * Current requests and limits (0 = unset): the latest container snapshot in the last day
--   of the window; has_current = 0 when there is none.
-- * OOM kills in the window, and the largest memory limit one happened under.
-- * HPA: the resources the workload's autoscalers scale on, each as its latest snapshot in the
--   last day of the window has it.
-- * Unit prices: the workload's CPU and RAM cost divided by its core-hours and GiB-hours over
--   the window (0 when nothing was allocated yet).
--
-- The batch's namespaces are sorted; their range [@ns_min, @ns_max] lets every table's sort
-- key (which starts with cluster, namespace) skip the other batches' rows. The tables whose
-- namespace is LowCardinality are filtered in a subquery of their own: the CAST to String
-- the joins need would otherwise stand in for the column in WHERE and defeat the sort key.
--
-- ClickHouse 18.16 joins one table per SELECT, hence the nesting (l1..l5 and r1..r5 name the
-- sides, as newer servers require); output names differ from the source columns they
-- aggregate.
SELECT namespace, workload_kind, workload, container,
       samples_n, cpu_q, cpu_peak, mem_peak, throttled_n, periods_n,
       pods_n, first_at, last_at,
       has_current, cur_cpu_request, cur_cpu_limit, cur_mem_request, cur_mem_limit,
       oom_kills, oom_limit, hpa_resources, cpu_rate, ram_rate
FROM
(
    SELECT *
    FROM
    (
        SELECT *
        FROM
        (
            SELECT *
            FROM
            (
                SELECT *
                FROM
                (
                    SELECT namespace, workload_kind, workload, container,
                           countMerge(samples)                                             AS samples_n,
                           least(maxMerge(cpu_usage_max), greatest(minMerge(cpu_usage_min),
                               if(quantileExactWeightedMerge({quantile})(cpu_usage_buckets) = 0, 0, 1e-6 * pow(1.01, quantileExactWeightedMerge({quantile})(cpu_usage_buckets) - 1)))) AS cpu_q,
                           maxMerge(cpu_usage_max)                                         AS cpu_peak,
                           toFloat64(maxMerge(memory_working_set_max))                     AS mem_peak,
                           sumMerge(cpu_throttled_periods)                                 AS throttled_n,
                           sumMerge(cpu_periods)                                           AS periods_n
                    FROM
                    (
                        SELECT namespace, workload_kind, workload, container, samples, cpu_usage_buckets,
                               cpu_usage_min, cpu_usage_max, memory_working_set_max, cpu_throttled_periods, cpu_periods
                        FROM usage_daily
                        WHERE cluster = @cluster AND namespace >= @ns_min AND namespace <= @ns_max AND has(@namespaces, namespace)
                          AND day >= toDate(toDateTime(@days_from, 'UTC')) AND day < toDate(toDateTime(@days_to, 'UTC'))
                        UNION ALL
                        SELECT namespace, workload_kind, workload, container, samples, cpu_usage_buckets,
                               cpu_usage_min, cpu_usage_max, memory_working_set_max, cpu_throttled_periods, cpu_periods
                        FROM usage_hourly
                        WHERE cluster = @cluster AND namespace >= @ns_min AND namespace <= @ns_max AND has(@namespaces, namespace)
                          AND hour >= toDateTime(@from, 'UTC') AND hour < toDateTime(@to, 'UTC')
                          AND (hour < toDateTime(@days_from, 'UTC') OR hour >= toDateTime(@days_to, 'UTC'))
                    )
                    GROUP BY namespace, workload_kind, workload, container
                ) AS l1
                ANY LEFT JOIN
                (
                    SELECT namespace, workload_kind, workload, container,
                           uniqExact(pod)                            AS pods_n,
                           min(greatest(pod_first, toUInt32(@from))) AS first_at,
                           max(least(pod_last, toUInt32(@to - 60)))  AS last_at
                    FROM
                    (
                        SELECT namespace, workload_kind, workload, container, pod,
                               minMerge(first_seen) AS pod_first,
                               maxMerge(last_seen)  AS pod_last
                        FROM usage_pods_daily
                        WHERE cluster = @cluster AND namespace >= @ns_min AND namespace <= @ns_max AND has(@namespaces, namespace)
                          AND day >= toDate(toDateTime(@from, 'UTC')) AND day <= toDate(toDateTime(@to - 1, 'UTC'))
                        GROUP BY namespace, workload_kind, workload, container, pod
                        HAVING pod_last >= @from AND pod_first < @to
                    )
                    GROUP BY namespace, workload_kind, workload, container
                ) AS r1
                USING (namespace, workload_kind, workload, container)
            ) AS l2
            ANY LEFT JOIN
            (
                SELECT CAST(namespace AS String)               AS namespace,
                       CAST(workload_kind AS String)           AS workload_kind,
                       workload,
                       CAST(container AS String)               AS container,
                       toUInt8(1)                              AS has_current,
                       argMax(cpu_request_cores, ts)           AS cur_cpu_request,
                       argMax(cpu_limit_cores, ts)             AS cur_cpu_limit,
                       toFloat64(argMax(memory_request_bytes, ts)) AS cur_mem_request,
                       toFloat64(argMax(memory_limit_bytes, ts))   AS cur_mem_limit
                FROM
                (
                    SELECT namespace, workload_kind, workload, container, ts, cpu_request_cores, cpu_limit_cores,
                           memory_request_bytes, memory_limit_bytes
                    FROM containers
                    WHERE cluster = @cluster AND namespace >= @ns_min AND namespace <= @ns_max AND has(@namespaces, namespace)
                      AND ts >= toDateTime(@to, 'UTC') - 86400 AND ts < toDateTime(@to, 'UTC')
                )
                GROUP BY namespace, workload_kind, workload, container
            ) AS r2
            USING (namespace, workload_kind, workload, container)
        ) AS l3
        ANY LEFT JOIN
        (
            SELECT CAST(namespace AS String)     AS namespace,
                   CAST(workload_kind AS String) AS workload_kind,
                   workload,
                   CAST(container AS String)     AS container,
                   sum(greatest(count, 1))       AS oom_kills,
                   toFloat64(max(memory_limit_bytes)) AS oom_limit
            FROM
            (
                SELECT namespace, workload_kind, workload, container, count, memory_limit_bytes
                FROM container_events FINAL
                WHERE cluster = @cluster AND namespace >= @ns_min AND namespace <= @ns_max AND has(@namespaces, namespace)
                  AND kind = 'oom-kill' AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
            )
            GROUP BY namespace, workload_kind, workload, container
        ) AS r3
        USING (namespace, workload_kind, workload, container)
    ) AS l4
    ANY LEFT JOIN
    (
        SELECT namespace, workload_kind, workload,
               arraySort(groupUniqArrayArray(hpa_latest)) AS hpa_resources
        FROM
        (
            SELECT CAST(namespace AS String)   AS namespace,
                   CAST(target_kind AS String) AS workload_kind,
                   target_name                 AS workload,
                   argMax(resources, ts)       AS hpa_latest
            FROM
            (
                SELECT namespace, name, target_kind, target_name, resources, ts
                FROM autoscalers
                WHERE cluster = @cluster AND namespace >= @ns_min AND namespace <= @ns_max AND has(@namespaces, namespace)
                  AND ts >= toDateTime(@to, 'UTC') - 86400 AND ts < toDateTime(@to, 'UTC')
            )
            GROUP BY namespace, name, workload_kind, workload
        )
        GROUP BY namespace, workload_kind, workload
    ) AS r4
    USING (namespace, workload_kind, workload)
) AS l5
ANY LEFT JOIN
(
    SELECT CAST(namespace AS String)     AS namespace,
           CAST(workload_kind AS String) AS workload_kind,
           workload,
           if(sum(cpu_core_hours) > 0, sum(cpu_cost) / sum(cpu_core_hours), 0)               AS cpu_rate,
           if(sum(ram_byte_hours) > 0, sum(ram_cost) / (sum(ram_byte_hours) / 1073741824), 0) AS ram_rate
    FROM
    (
        SELECT namespace, workload_kind, workload, cpu_cost, cpu_core_hours, ram_cost, ram_byte_hours
        FROM cost_daily
        WHERE cluster = @cluster AND namespace >= @ns_min AND namespace <= @ns_max AND has(@namespaces, namespace)
          AND is_idle = 0 AND day >= toDate(toDateTime(@from, 'UTC')) AND day <= toDate(toDateTime(@to - 1, 'UTC'))
    )
    GROUP BY namespace, workload_kind, workload
) AS r5
USING (namespace, workload_kind, workload)
ORDER BY namespace, workload_kind, workload, container
