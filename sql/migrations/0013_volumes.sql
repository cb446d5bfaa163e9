-- Persistent volumes: snapshots of the volumes and of the claims pods mount, taken with the
-- node and container snapshots, and the hourly cost of every volume split over the pods that
-- mount its claim (internal/allocation.Volumes), with its daily rollup. Volume rows are kept
-- apart from cost_allocations: a pod has one row per volume, which that table's key cannot
-- tell apart. Re-inserting the same snapshot minute or allocation hour replaces the row
-- (ReplacingMergeTree on the full key); the collector writes an hour's volume rows once, as
-- it does its container rows, so the rollup counts them once.

CREATE TABLE IF NOT EXISTS volumes
(
    cluster         LowCardinality(String),
    ts              DateTime('UTC'),
    volume          String,
    capacity_bytes  UInt64,
    storage_class   LowCardinality(String),
    provisioner     LowCardinality(String),
    volume_type     LowCardinality(String),
    volume_handle   String,
    phase           LowCardinality(String),
    claim_namespace LowCardinality(String),
    claim           String,
    label_keys      Array(String),
    label_values    Array(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (cluster, volume, ts);

CREATE TABLE IF NOT EXISTS pod_claims
(
    cluster   LowCardinality(String),
    ts        DateTime('UTC'),
    namespace LowCardinality(String),
    pod       String,
    claim     String
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(ts)
ORDER BY (cluster, namespace, claim, pod, ts);

CREATE TABLE IF NOT EXISTS volume_allocations
(
    cluster       LowCardinality(String),
    hour          DateTime('UTC'),
    node          LowCardinality(String),
    namespace     LowCardinality(String),
    workload_kind LowCardinality(String),
    workload      String,
    app           LowCardinality(String),
    pod           String,
    volume        String,
    label_keys    Array(String),
    label_values  Array(String),
    pv_byte_hours Float64,
    pv_cost       Float64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (cluster, hour, namespace, workload_kind, workload, pod, volume);

CREATE TABLE IF NOT EXISTS volume_daily
(
    cluster       LowCardinality(String),
    day           Date,
    node          LowCardinality(String),
    namespace     LowCardinality(String),
    workload_kind LowCardinality(String),
    workload      String,
    app           LowCardinality(String),
    label_keys    Array(String),
    label_values  Array(String),
    pv_byte_hours Float64,
    pv_cost       Float64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (cluster, day, namespace, workload_kind, workload, app, node, label_keys, label_values);

CREATE MATERIALIZED VIEW IF NOT EXISTS volume_daily_mv TO volume_daily AS
SELECT
    cluster,
    toDate(hour)       AS day,
    node,
    namespace,
    workload_kind,
    workload,
    app,
    label_keys,
    label_values,
    sum(pv_byte_hours) AS pv_byte_hours,
    sum(pv_cost)       AS pv_cost
FROM volume_allocations
GROUP BY cluster, day, node, namespace, workload_kind, workload, app, label_keys, label_values;
