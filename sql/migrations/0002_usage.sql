-- Per-container usage at 1-minute resolution, and its hourly and daily rollups.
-- The workload is written with every sample so that rightsizing pools a workload's pods
-- without a join; the sort key serves exactly that grouping.

CREATE TABLE IF NOT EXISTS usage_samples
(
    cluster                  LowCardinality(String),
    ts                       DateTime('UTC'),
    namespace                LowCardinality(String),
    workload_kind            LowCardinality(String),
    workload                 String,
    pod                      String,
    container                LowCardinality(String),
    node                     LowCardinality(String),
    cpu_usage_cores          Float64,
    memory_working_set_bytes UInt64,
    cpu_throttled_periods    Float64,
    cpu_periods              Float64
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(ts)
ORDER BY (cluster, namespace, workload_kind, workload, container, pod, ts);

-- Hourly, per pod and container: what cost allocation and the dashboards read.
CREATE TABLE IF NOT EXISTS usage_hourly
(
    cluster                  LowCardinality(String),
    hour                     DateTime('UTC'),
    namespace                LowCardinality(String),
    workload_kind            LowCardinality(String),
    workload                 String,
    pod                      String,
    container                LowCardinality(String),
    node                     LowCardinality(String),
    samples                  AggregateFunction(count),
    cpu_usage_sum            AggregateFunction(sum, Float64),
    cpu_usage_max            AggregateFunction(max, Float64),
    cpu_usage_quantiles      AggregateFunction(quantileTDigest, Float64),
    memory_working_set_sum   AggregateFunction(sum, UInt64),
    memory_working_set_max   AggregateFunction(max, UInt64),
    cpu_throttled_periods    AggregateFunction(sum, Float64),
    cpu_periods              AggregateFunction(sum, Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (cluster, namespace, workload_kind, workload, container, pod, node, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_hourly_mv TO usage_hourly AS
SELECT
    cluster,
    toStartOfHour(ts)                        AS hour,
    namespace,
    workload_kind,
    workload,
    pod,
    container,
    node,
    countState()                             AS samples,
    sumState(cpu_usage_cores)                AS cpu_usage_sum,
    maxState(cpu_usage_cores)                AS cpu_usage_max,
    quantileTDigestState(cpu_usage_cores)    AS cpu_usage_quantiles,
    sumState(memory_working_set_bytes)       AS memory_working_set_sum,
    maxState(memory_working_set_bytes)       AS memory_working_set_max,
    sumState(cpu_throttled_periods)          AS cpu_throttled_periods,
    sumState(cpu_periods)                    AS cpu_periods
FROM usage_samples
GROUP BY cluster, hour, namespace, workload_kind, workload, pod, container, node;

-- Daily, per workload and container, pods pooled: what rightsizing reads for long windows.
CREATE TABLE IF NOT EXISTS usage_daily
(
    cluster                  LowCardinality(String),
    day                      Date,
    namespace                LowCardinality(String),
    workload_kind            LowCardinality(String),
    workload                 String,
    container                LowCardinality(String),
    pods                     AggregateFunction(uniqExact, String),
    samples                  AggregateFunction(count),
    cpu_usage_sum            AggregateFunction(sum, Float64),
    cpu_usage_max            AggregateFunction(max, Float64),
    cpu_usage_quantiles      AggregateFunction(quantileTDigest, Float64),
    memory_working_set_max   AggregateFunction(max, UInt64),
    memory_working_set_quantiles AggregateFunction(quantileTDigest, UInt64),
    cpu_throttled_periods    AggregateFunction(sum, Float64),
    cpu_periods              AggregateFunction(sum, Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (cluster, namespace, workload_kind, workload, container, day);

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_daily_mv TO usage_daily AS
SELECT
    cluster,
    toDate(ts)                                      AS day,
    namespace,
    workload_kind,
    workload,
    container,
    uniqExactState(pod)                             AS pods,
    countState()                                    AS samples,
    sumState(cpu_usage_cores)                       AS cpu_usage_sum,
    maxState(cpu_usage_cores)                       AS cpu_usage_max,
    quantileTDigestState(cpu_usage_cores)           AS cpu_usage_quantiles,
    maxState(memory_working_set_bytes)              AS memory_working_set_max,
    quantileTDigestState(memory_working_set_bytes)  AS memory_working_set_quantiles,
    sumState(cpu_throttled_periods)                 AS cpu_throttled_periods,
    sumState(cpu_periods)                           AS cpu_periods
FROM usage_samples
GROUP BY cluster, day, namespace, workload_kind, workload, container;
