-- Namespace snapshots, taken with the node and container snapshots: each namespace's labels.
-- Cost reports group by a pod label, else the label of the pod's namespace (teams are often
-- labelled on the namespace). Re-inserting the same snapshot minute replaces the row
-- (ReplacingMergeTree on the full key). Few rows per snapshot: partitioned by month, like nodes.

CREATE TABLE IF NOT EXISTS namespaces
(
    cluster      LowCardinality(String),
    ts           DateTime('UTC'),
    namespace    LowCardinality(String),
    label_keys   Array(String),
    label_values Array(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (cluster, namespace, ts);
