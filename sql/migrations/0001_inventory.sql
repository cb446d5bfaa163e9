-- Inventory snapshots: what the cluster asked for and where it ran.
-- One row per node, and one per container, each time the collector takes a snapshot.
-- Re-inserting the same snapshot minute replaces the row (ReplacingMergeTree on the full key).

CREATE TABLE IF NOT EXISTS nodes
(
    cluster                  LowCardinality(String),
    ts                       DateTime('UTC'),
    node                     String,
    instance_type            LowCardinality(String),
    region                   LowCardinality(String),
    zone                     LowCardinality(String),
    capacity_type            LowCardinality(String),
    cpu_capacity_cores       Float64,
    cpu_allocatable_cores    Float64,
    memory_capacity_bytes    UInt64,
    memory_allocatable_bytes UInt64,
    gpu_capacity             Float64,
    gpu_allocatable          Float64,
    label_keys               Array(String),
    label_values             Array(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (cluster, node, ts);

CREATE TABLE IF NOT EXISTS containers
(
    cluster                 LowCardinality(String),
    ts                      DateTime('UTC'),
    namespace               LowCardinality(String),
    pod                     String,
    pod_uid                 String,
    container               LowCardinality(String),
    init_container          UInt8,
    node                    LowCardinality(String),
    phase                   LowCardinality(String),
    qos_class               LowCardinality(String),
    workload_kind           LowCardinality(String),
    workload                String,
    cpu_request_cores       Float64,
    cpu_limit_cores         Float64,
    memory_request_bytes    UInt64,
    memory_limit_bytes      UInt64,
    gpu_request             Float64,
    started_at              DateTime('UTC'),
    finished_at             DateTime('UTC'),
    restart_count           UInt32,
    last_termination_reason LowCardinality(String),
    label_keys              Array(String),
    label_values            Array(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(ts)
ORDER BY (cluster, namespace, workload_kind, workload, pod, container, ts);
