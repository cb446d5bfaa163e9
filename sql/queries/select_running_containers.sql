-- The containers of one cluster running at the latest inventory snapshot in [from, to) (init
-- containers and finished pods left out), with each one's latest working set in [from, to):
-- what `reporter qos` reads for request = limit findings, node overcommit and kill order. A
-- snapshot written twice counts once (LIMIT 1 BY).
SELECT c.namespace, c.pod, c.container, c.node, c.qos_class, c.workload_kind, c.workload,
       c.cpu_request_cores, c.cpu_limit_cores, c.memory_request_bytes, c.memory_limit_bytes,
       c.label_keys, c.label_values, u.working_set
FROM
(
    SELECT CAST(namespace AS String)           AS namespace,
           pod,
           CAST(container AS String)           AS container,
           CAST(node AS String)                AS node,
           CAST(qos_class AS String)           AS qos_class,
           CAST(workload_kind AS String)       AS workload_kind,
           workload,
           cpu_request_cores,
           cpu_limit_cores,
           memory_request_bytes,
           memory_limit_bytes,
           label_keys,
           label_values
    FROM containers
    WHERE cluster = @cluster AND init_container = 0 AND phase = 'Running'
      AND ts = (SELECT max(ts) FROM containers
                WHERE cluster = @cluster AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC'))
    LIMIT 1 BY namespace, pod, container
) AS c
ANY LEFT JOIN
(
    SELECT namespace, pod, container,
           toFloat64(argMax(memory_working_set_bytes, ts)) AS working_set
    FROM usage_samples
    WHERE cluster = @cluster AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
    GROUP BY namespace, pod, container
) AS u
USING (namespace, pod, container)
ORDER BY namespace, pod, container
