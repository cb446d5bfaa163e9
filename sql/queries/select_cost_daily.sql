-- Daily cost per namespace, workload, app and node of one cluster for the days in
-- [from, to), from the daily rollup. The sum() completes rows that have not merged yet.
SELECT cluster, day, node, namespace, workload_kind, workload, app, is_idle,
       sum(run_hours)              AS run_hours,
       sum(cpu_core_hours)         AS cpu_core_hours,
       sum(ram_byte_hours)         AS ram_byte_hours,
       sum(gpu_hours)              AS gpu_hours,
       sum(cpu_cost)               AS cpu_cost,
       sum(ram_cost)               AS ram_cost,
       sum(gpu_cost)               AS gpu_cost
FROM cost_daily
WHERE cluster = @cluster AND day >= toDate(toDateTime(@from, 'UTC')) AND day < toDate(toDateTime(@to, 'UTC'))
GROUP BY cluster, day, node, namespace, workload_kind, workload, app, is_idle
ORDER BY day, namespace, workload_kind, workload, app, node, is_idle
