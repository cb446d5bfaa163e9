-- Volume cost rows of one cluster for the hours in [from, to), summed per node, namespace,
-- workload, app and labels, as select_cost_rows.sql does for containers: the whole UTC days
-- [days_from, days_to) from the daily rollup (sum() completes rows that have not merged yet),
-- the hours outside those days from the hourly rows.
SELECT node, namespace, workload_kind, workload, app, label_keys, label_values,
       sum(pv_byte_hours) AS byte_hours,
       sum(pv_cost)       AS cost
FROM
(
    SELECT node, namespace, workload_kind, workload, app, label_keys, label_values, pv_byte_hours, pv_cost
    FROM volume_daily
    WHERE cluster = @cluster
      AND day >= toDate(toDateTime(@days_from, 'UTC')) AND day < toDate(toDateTime(@days_to, 'UTC'))
    UNION ALL
    SELECT node, namespace, workload_kind, workload, app, label_keys, label_values, pv_byte_hours, pv_cost
    FROM volume_allocations FINAL
    WHERE cluster = @cluster
      AND hour >= toDateTime(@from, 'UTC') AND hour < toDateTime(@to, 'UTC')
      AND (hour < toDateTime(@days_from, 'UTC') OR hour >= toDateTime(@days_to, 'UTC'))
)
GROUP BY node, namespace, workload_kind, workload, app, label_keys, label_values
ORDER BY namespace, workload_kind, workload, app, node, label_keys, label_values
