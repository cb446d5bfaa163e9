-- HorizontalPodAutoscalers, snapshotted with the inventory: rightsizing flags a workload
-- scaled on CPU or memory, because changing its requests moves its scaling point.

CREATE TABLE IF NOT EXISTS autoscalers
(
    cluster       LowCardinality(String),
    ts            DateTime('UTC'),
    namespace     LowCardinality(String),
    name          String,
    target_kind   LowCardinality(String),
    target_name   String,
    min_replicas  Int32,
    max_replicas  Int32,
    resources     Array(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (cluster, namespace, target_kind, target_name, name, ts);
