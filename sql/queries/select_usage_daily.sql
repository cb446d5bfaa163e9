-- Daily usage per workload and container (pods pooled) of one cluster for the UTC days in
-- [from, to), from the daily rollup. cpu_usage_p95 is a t-digest estimate; sums, maxima and
-- counts are exact.
SELECT cluster, day, namespace, workload_kind, workload, container,
       countMerge(samples)                                          AS samples,
       sumMerge(cpu_usage_sum)                                      AS cpu_usage_sum,
       maxMerge(cpu_usage_max)                                      AS cpu_usage_max,
       toFloat64(quantileTDigestMerge(0.95)(cpu_usage_quantiles))   AS cpu_usage_p95,
       sumMerge(memory_working_set_sum)                             AS memory_working_set_sum,
       maxMerge(memory_working_set_max)                             AS memory_working_set_max,
       sumMerge(cpu_throttled_periods)                              AS cpu_throttled_periods,
       sumMerge(cpu_periods)                                        AS cpu_periods
FROM usage_daily
WHERE cluster = @cluster
  AND day >= toDate(toDateTime(@from, 'UTC')) AND day < toDate(toDateTime(@to, 'UTC'))
GROUP BY cluster, day, namespace, workload_kind, workload, container
ORDER BY day, namespace, workload_kind, workload, container
