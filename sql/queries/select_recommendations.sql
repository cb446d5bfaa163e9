-- The stored daily recommendations of one cluster for the days in [from, to), a day written
-- twice counting once.
SELECT day, window_start, window_end, CAST(namespace AS String) AS namespace,
       CAST(workload_kind AS String) AS workload_kind, workload, CAST(container AS String) AS container,
       current_cpu_request_cores, current_cpu_limit_cores, current_memory_request_bytes, current_memory_limit_bytes,
       cpu_request_cores, cpu_limit_cores, memory_request_bytes, memory_limit_bytes,
       monthly_savings, CAST(currency AS String) AS currency, CAST(risk AS String) AS risk, flags, evidence, risk_note
FROM recommendations FINAL
WHERE cluster = @cluster AND day >= toDate(toDateTime(@from, 'UTC')) AND day < toDate(toDateTime(@to, 'UTC'))
ORDER BY day, namespace, workload_kind, workload, container
