-- Container events that matter for cost and sizing, and the hourly price of every node.

CREATE TABLE IF NOT EXISTS container_events
(
    cluster            LowCardinality(String),
    ts                 DateTime('UTC'),
    namespace          LowCardinality(String),
    workload_kind      LowCardinality(String),
    workload           String,
    pod                String,
    container          LowCardinality(String),
    node               LowCardinality(String),
    kind               LowCardinality(String),
    reason             LowCardinality(String),
    message            String,
    count              UInt32,
    memory_limit_bytes UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (cluster, namespace, workload_kind, workload, container, pod, kind, ts);

CREATE TABLE IF NOT EXISTS node_prices
(
    cluster             LowCardinality(String),
    hour                DateTime('UTC'),
    node                String,
    instance_type       LowCardinality(String),
    capacity_type       LowCardinality(String),
    currency            LowCardinality(String),
    hourly_cost         Float64,
    cpu_core_hour_cost  Float64,
    ram_gib_hour_cost   Float64,
    gpu_hour_cost       Float64,
    source              LowCardinality(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (cluster, node, hour);
