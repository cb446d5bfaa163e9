-- Hourly cost of every container (and one idle row per node and hour), and the daily
-- rollup that cost reports and dashboards read for long windows.

CREATE TABLE IF NOT EXISTS cost_allocations
(
    cluster                  LowCardinality(String),
    hour                     DateTime('UTC'),
    node                     LowCardinality(String),
    namespace                LowCardinality(String),
    workload_kind            LowCardinality(String),
    workload                 String,
    app                      LowCardinality(String),
    pod                      String,
    container                LowCardinality(String),
    is_idle                  UInt8,
    label_keys               Array(String),
    label_values             Array(String),
    run_hours                Float64,
    cpu_core_hours           Float64,
    cpu_request_core_hours   Float64,
    cpu_usage_core_hours     Float64,
    ram_byte_hours           Float64,
    ram_request_byte_hours   Float64,
    ram_usage_byte_hours     Float64,
    gpu_hours                Float64,
    cpu_cost                 Float64,
    ram_cost                 Float64,
    gpu_cost                 Float64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (cluster, hour, namespace, workload_kind, workload, pod, container, node, is_idle);

CREATE TABLE IF NOT EXISTS cost_daily
(
    cluster                  LowCardinality(String),
    day                      Date,
    node                     LowCardinality(String),
    namespace                LowCardinality(String),
    workload_kind            LowCardinality(String),
    workload                 String,
    app                      LowCardinality(String),
    is_idle                  UInt8,
    label_keys               Array(String),
    label_values             Array(String),
    run_hours                Float64,
    cpu_core_hours           Float64,
    cpu_request_core_hours   Float64,
    cpu_usage_core_hours     Float64,
    ram_byte_hours           Float64,
    ram_request_byte_hours   Float64,
    ram_usage_byte_hours     Float64,
    gpu_hours                Float64,
    cpu_cost                 Float64,
    ram_cost                 Float64,
    gpu_cost                 Float64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (cluster, day, namespace, workload_kind, workload, app, node, is_idle, label_keys, label_values);

CREATE MATERIALIZED VIEW IF NOT EXISTS cost_daily_mv TO cost_daily AS
SELECT
    cluster,
    toDate(hour)                AS day,
    node,
    namespace,
    workload_kind,
    workload,
    app,
    is_idle,
    label_keys,
    label_values,
    sum(run_hours)              AS run_hours,
    sum(cpu_core_hours)         AS cpu_core_hours,
    sum(cpu_request_core_hours) AS cpu_request_core_hours,
    sum(cpu_usage_core_hours)   AS cpu_usage_core_hours,
    sum(ram_byte_hours)         AS ram_byte_hours,
    sum(ram_request_byte_hours) AS ram_request_byte_hours,
    sum(ram_usage_byte_hours)   AS ram_usage_byte_hours,
    sum(gpu_hours)              AS gpu_hours,
    sum(cpu_cost)               AS cpu_cost,
    sum(ram_cost)               AS ram_cost,
    sum(gpu_cost)               AS gpu_cost
FROM cost_allocations
GROUP BY cluster, day, node, namespace, workload_kind, workload, app, is_idle, label_keys, label_values;
