-- Hourly usage per workload and container (pods pooled) of one cluster for the hours in
-- [from, to), from the hourly rollup. cpu_usage_p95 is the nearest-rank p95's bucket value (within
-- 0.5% of it; the buckets are described in migrations/0011_cpu_buckets.sql); sums, maxima
-- and counts are exact.
SELECT cluster, hour, namespace, workload_kind, workload, container,
       countMerge(samples)                                          AS samples,
       sumMerge(cpu_usage_sum)                                      AS cpu_usage_sum,
       maxMerge(cpu_usage_max)                                      AS cpu_usage_max,
       least(cpu_usage_max, greatest(minMerge(cpu_usage_min),
           if(quantileExactWeightedMerge(0.95)(cpu_usage_buckets) = 0, 0, 1e-6 * pow(1.01, quantileExactWeightedMerge(0.95)(cpu_usage_buckets) - 1)))) AS cpu_usage_p95,
       sumMerge(memory_working_set_sum)                             AS memory_working_set_sum,
       maxMerge(memory_working_set_max)                             AS memory_working_set_max,
       sumMerge(cpu_throttled_periods)                              AS cpu_throttled_periods,
       sumMerge(cpu_periods)                                        AS cpu_periods
FROM usage_hourly
WHERE cluster = @cluster AND hour >= toDateTime(@from, 'UTC') AND hour < toDateTime(@to, 'UTC')
GROUP BY cluster, hour, namespace, workload_kind, workload, container
ORDER BY hour, namespace, workload_kind, workload, container
