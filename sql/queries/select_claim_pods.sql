-- The pods that mount a claim during the hour [from, to) of one cluster, with the minutes
-- they ran, as a set (bit m is minute m; a minute runs when the pod has a usage sample in it,
-- as for its containers' cost), the workload of its usage samples, and the node and labels
-- of its latest container snapshot of the day before the hour's end. Which claims a pod
-- mounts comes from its snapshots of that day too: a pod's volumes never change.
SELECT namespace,
       claim,
       pod,
       workload_kind,
       workload,
       minutes,
       node,
       label_keys,
       label_values
FROM
(
    SELECT namespace, pod, claim, workload_kind, workload, minutes
    FROM
    (
        SELECT DISTINCT CAST(namespace AS String) AS namespace, pod, claim
        FROM pod_claims
        WHERE cluster = @cluster
          AND ts >= toDateTime(@from, 'UTC') - 86400 AND ts < toDateTime(@to, 'UTC')
    ) AS c
    ALL INNER JOIN
    (
        SELECT CAST(namespace AS String)                            AS namespace,
               pod,
               any(CAST(workload_kind AS String))                   AS workload_kind,
               any(workload)                                        AS workload,
               groupBitOr(bitShiftLeft(toUInt64(1), toMinute(ts))) AS minutes
        FROM usage_samples FINAL
        WHERE cluster = @cluster AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
        GROUP BY namespace, pod
    ) AS u
    USING (namespace, pod)
) AS m
ANY LEFT JOIN
(
    SELECT CAST(namespace AS String)        AS namespace,
           pod,
           argMax(CAST(node AS String), ts) AS node,
           argMax(label_keys, ts)           AS label_keys,
           argMax(label_values, ts)         AS label_values
    FROM containers
    WHERE cluster = @cluster
      AND ts >= toDateTime(@from, 'UTC') - 86400 AND ts < toDateTime(@to, 'UTC')
    GROUP BY namespace, pod
) AS p
USING (namespace, pod)
ORDER BY namespace, claim, pod
