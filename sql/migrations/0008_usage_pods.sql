-- Per pod and day: the samples of each of a workload container's pods and the first and last
-- of them (unix seconds). Rightsizing reads it for what the pooled rollups cannot say: how
-- many distinct pods a workload ran as, how long its data spans (a "too young" workload has
-- under a day), and so the average number of replicas running (samples ÷ minutes spanned),
-- which prices its savings.
--
-- One row per pod and day (about as many rows as usage_daily has per container and day on a
-- steady cluster), filled straight from the samples, so no chaining of views is needed.
-- Rows written before this migration are not back-filled: such days count no pods.
CREATE TABLE IF NOT EXISTS usage_pods_daily
(
    cluster       String,
    day           Date,
    namespace     String,
    workload_kind String,
    workload      String,
    container     String,
    pod           String,
    samples       AggregateFunction(count),
    first_seen    AggregateFunction(min, UInt32),
    last_seen     AggregateFunction(max, UInt32)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (cluster, namespace, workload_kind, workload, container, day, pod);

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_pods_daily_mv TO usage_pods_daily AS
SELECT
    cluster,
    toDate(ts)             AS day,
    namespace,
    workload_kind,
    workload,
    container,
    pod,
    countState()           AS samples,
    minState(toUInt32(ts)) AS first_seen,
    maxState(toUInt32(ts)) AS last_seen
FROM usage_samples
GROUP BY cluster, day, namespace, workload_kind, workload, container, pod;
