-- Per-container usage at 1-minute resolution, and its hourly and daily rollups.
--
-- The workload is written with every sample, so rightsizing pools a workload's pods without a
-- join; the sort key serves exactly that grouping. The node is not: cAdvisor series do not
-- carry it, and the inventory snapshots (containers) know where every pod ran.
--
-- The string columns of these three tables are plain String, not LowCardinality: they are
-- grouped by at every insert (the materialized views below), and on ClickHouse 18.16
-- LowCardinality keys made that aggregation markedly slower (docs/benchmarks.md).

CREATE TABLE IF NOT EXISTS usage_samples
(
    cluster                  String,
    ts                       DateTime('UTC'),
    namespace                String,
    workload_kind            String,
    workload                 String,
    pod                      String,
    container                String,
    cpu_usage_cores          Float64,
    memory_working_set_bytes UInt64,
    cpu_throttled_periods    Float64,
    cpu_periods              Float64
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(ts)
ORDER BY (cluster, namespace, workload_kind, workload, container, pod, ts);

-- Hourly, per workload and container, its pods pooled: what dashboards read for usage over
-- time and what rightsizing reads for windows that are not whole days. Counts, sums and maxima
-- are exact; the t-digest gives percentiles of the 1-minute CPU samples.
CREATE TABLE IF NOT EXISTS usage_hourly
(
    cluster                  String,
    hour                     DateTime('UTC'),
    namespace                String,
    workload_kind            String,
    workload                 String,
    container                String,
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
ORDER BY (cluster, namespace, workload_kind, workload, container, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_hourly_mv TO usage_hourly AS
SELECT
    cluster,
    toStartOfHour(ts)                     AS hour,
    namespace,
    workload_kind,
    workload,
    container,
    countState()                          AS samples,
    sumState(cpu_usage_cores)             AS cpu_usage_sum,
    maxState(cpu_usage_cores)             AS cpu_usage_max,
    quantileTDigestState(cpu_usage_cores) AS cpu_usage_quantiles,
    sumState(memory_working_set_bytes)    AS memory_working_set_sum,
    maxState(memory_working_set_bytes)    AS memory_working_set_max,
    sumState(cpu_throttled_periods)       AS cpu_throttled_periods,
    sumState(cpu_periods)                 AS cpu_periods
FROM usage_samples
GROUP BY cluster, hour, namespace, workload_kind, workload, container;

-- Daily, the same grouping: what rightsizing reads for its 14-day windows. It is rolled up
-- from the hourly rows (merging their states), not from the samples, so an insert pays for the
-- per-sample aggregation once.
CREATE TABLE IF NOT EXISTS usage_daily
(
    cluster                  String,
    day                      Date,
    namespace                String,
    workload_kind            String,
    workload                 String,
    container                String,
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
PARTITION BY toYYYYMM(day)
ORDER BY (cluster, namespace, workload_kind, workload, container, day);

-- Chaining one view on another differs between server generations: ClickHouse 18.x feeds a
-- view that reads FROM the first view (usage_hourly_mv), newer servers feed a view that reads
-- FROM the first view's target table (usage_hourly), and neither feeds the other form. Both
-- views are created, so on any server exactly one of them fills usage_daily; the conformance
-- tests check that on 18.16 and on 26.x (no day counted twice, none missing).
CREATE MATERIALIZED VIEW IF NOT EXISTS usage_daily_mv TO usage_daily AS
SELECT
    cluster,
    toDate(hour)                                     AS day,
    namespace,
    workload_kind,
    workload,
    container,
    countMergeState(samples)                         AS samples,
    sumMergeState(cpu_usage_sum)                     AS cpu_usage_sum,
    maxMergeState(cpu_usage_max)                     AS cpu_usage_max,
    quantileTDigestMergeState(cpu_usage_quantiles)   AS cpu_usage_quantiles,
    sumMergeState(memory_working_set_sum)            AS memory_working_set_sum,
    maxMergeState(memory_working_set_max)            AS memory_working_set_max,
    sumMergeState(cpu_throttled_periods)             AS cpu_throttled_periods,
    sumMergeState(cpu_periods)                       AS cpu_periods
FROM usage_hourly
GROUP BY cluster, day, namespace, workload_kind, workload, container;

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_daily_mv_legacy TO usage_daily AS
SELECT
    cluster,
    toDate(hour)                                     AS day,
    namespace,
    workload_kind,
    workload,
    container,
    countMergeState(samples)                         AS samples,
    sumMergeState(cpu_usage_sum)                     AS cpu_usage_sum,
    maxMergeState(cpu_usage_max)                     AS cpu_usage_max,
    quantileTDigestMergeState(cpu_usage_quantiles)   AS cpu_usage_quantiles,
    sumMergeState(memory_working_set_sum)            AS memory_working_set_sum,
    maxMergeState(memory_working_set_max)            AS memory_working_set_max,
    sumMergeState(cpu_throttled_periods)             AS cpu_throttled_periods,
    sumMergeState(cpu_periods)                       AS cpu_periods
FROM usage_hourly_mv
GROUP BY cluster, day, namespace, workload_kind, workload, container;
