-- The hourly volume cost rows of one cluster in the hours [from, to), one per volume and pod
-- (or unmounted remainder) and hour, with the volume they are for: the evidence behind the
-- volume costs of a report.
SELECT hour, node, namespace, workload_kind, workload, app, pod, volume, label_keys, label_values, pv_byte_hours, pv_cost
FROM volume_allocations FINAL
WHERE cluster = @cluster AND hour >= toDateTime(@from, 'UTC') AND hour < toDateTime(@to, 'UTC')
ORDER BY hour, namespace, workload_kind, workload, pod, volume
