-- Cost rows of one cluster for the hours in [from, to), summed per node, namespace,
-- workload, app, idle flag and labels: the whole UTC days [days_from, days_to) from the daily
-- rollup (sum() completes rows that have not merged yet), the hours of [from, to) outside
-- those days from the hourly rows. The store binds days_from = days_to when the window holds
-- no whole day.
SELECT node, namespace, workload_kind, workload, app, is_idle, label_keys, label_values,
       sum(run_hours)              AS run_hours,
       sum(cpu_core_hours)         AS cpu_core_hours,
       sum(cpu_request_core_hours) AS cpu_request_core_hours,
       sum(cpu_usage_core_hours)   AS cpu_usage_core_hours,
       sum(ram_byte_hours)         AS ram_byte_hours,
       sum(ram_request_byte_hours) AS ram_request_byte_hours,
       sum(ram_usage_byte_hours)   AS ram_usage_byte_hours,
       sum(gpu_hours)              AS gpu_hours,
       sum(cpu_cost)               AS cpu_cost,
       sum(ram_cost)               AS ram_cost,
       sum(gpu_cost)               AS gpu_cost
FROM
(
    SELECT node, namespace, workload_kind, workload, app, is_idle, label_keys, label_values,
           run_hours, cpu_core_hours, cpu_request_core_hours, cpu_usage_core_hours,
           ram_byte_hours, ram_request_byte_hours, ram_usage_byte_hours, gpu_hours,
           cpu_cost, ram_cost, gpu_cost
    FROM cost_daily
    WHERE cluster = @cluster
      AND day >= toDate(toDateTime(@days_from, 'UTC')) AND day < toDate(toDateTime(@days_to, 'UTC'))
    UNION ALL
    SELECT node, namespace, workload_kind, workload, app, is_idle, label_keys, label_values,
           run_hours, cpu_core_hours, cpu_request_core_hours, cpu_usage_core_hours,
           ram_byte_hours, ram_request_byte_hours, ram_usage_byte_hours, gpu_hours,
           cpu_cost, ram_cost, gpu_cost
    FROM cost_allocations FINAL
    WHERE cluster = @cluster
      AND hour >= toDateTime(@from, 'UTC') AND hour < toDateTime(@to, 'UTC')
      AND (hour < toDateTime(@days_from, 'UTC') OR hour >= toDateTime(@days_to, 'UTC'))
)
GROUP BY node, namespace, workload_kind, workload, app, is_idle, label_keys, label_values
ORDER BY namespace, workload_kind, workload, app, node, is_idle, label_keys, label_values
