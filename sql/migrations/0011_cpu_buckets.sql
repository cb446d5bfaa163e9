-- CPU percentiles that do not depend on how the samples were inserted.
--
-- The rollups kept t-digest states (quantileTDigest), which merge differently depending on
-- block boundaries: the same samples sent in one block, in several, or again after a retry
-- gave CPU percentiles that differed in the fourth digit. They now keep a histogram of
-- fixed log-spaced buckets instead: quantileExactWeighted over a bucket number, with a
-- count per bucket. Merging sums counts per bucket, so any chunking of the same samples
-- gives the same state and the same percentile.
--
-- Bucket 0 holds no usage (under one micro-core, or no sample); bucket k ≥ 1 holds the rates
-- r with round(ln(r / 1e-6) / ln 1.01) = k - 1, and stands for 1e-6 × 1.01^(k-1) cores: the
-- geometric centre of the bucket, within a factor 1.01^½ of every rate in it (a relative
-- error of at most 0.499%). quantileExactWeightedMerge(q) returns the bucket of the
-- nearest-rank q-quantile (the smallest bucket whose cumulative count reaches ⌈q·n⌉), so
-- the percentile read is that order statistic's bucket value, clamped to the exact minimum
-- (the new cpu_usage_min) and maximum of the samples: never outside their range, and exact
-- when they all fall in one bucket (a steady workload). Rates up to 1e-6 × 1.01^65534 cores
-- fit the UInt16 bucket number.
--
-- The two rollup tables are rebuilt: their counts, sums and maxima are copied, the buckets
-- are computed from the 1-minute samples still kept (usage_samples; hours whose samples
-- retention already dropped keep their counts and sums but have no percentile any more),
-- and the new tables replace the old ones. Every statement can run again: a migration cut
-- short is completed by the next run (the copy starts again from whichever usage_hourly is
-- in place, old or new, and the samples). Stop the collectors while it runs: the views are
-- dropped until its last statements, and samples inserted meanwhile would miss the rollups.

DROP TABLE IF EXISTS usage_daily_mv_legacy;
DROP TABLE IF EXISTS usage_daily_mv;
DROP TABLE IF EXISTS usage_hourly_mv;

DROP TABLE IF EXISTS usage_hourly_old;
DROP TABLE IF EXISTS usage_daily_old;
DROP TABLE IF EXISTS usage_hourly_next;
DROP TABLE IF EXISTS usage_daily_next;

CREATE TABLE usage_hourly_next
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
    cpu_usage_min            AggregateFunction(min, Float64),
    cpu_usage_buckets        AggregateFunction(quantileExactWeighted, UInt16, UInt64),
    memory_working_set_sum   AggregateFunction(sum, UInt64),
    memory_working_set_max   AggregateFunction(max, UInt64),
    cpu_throttled_periods    AggregateFunction(sum, Float64),
    cpu_periods              AggregateFunction(sum, Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (cluster, namespace, workload_kind, workload, container, hour);

CREATE TABLE usage_daily_next
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
    cpu_usage_min            AggregateFunction(min, Float64),
    cpu_usage_buckets        AggregateFunction(quantileExactWeighted, UInt16, UInt64),
    memory_working_set_sum   AggregateFunction(sum, UInt64),
    memory_working_set_max   AggregateFunction(max, UInt64),
    cpu_throttled_periods    AggregateFunction(sum, Float64),
    cpu_periods              AggregateFunction(sum, Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (cluster, namespace, workload_kind, workload, container, day);

INSERT INTO usage_hourly_next (cluster, hour, namespace, workload_kind, workload, container, samples, cpu_usage_sum,
                               cpu_usage_max, memory_working_set_sum, memory_working_set_max, cpu_throttled_periods, cpu_periods)
SELECT cluster, hour, namespace, workload_kind, workload, container, samples, cpu_usage_sum,
       cpu_usage_max, memory_working_set_sum, memory_working_set_max, cpu_throttled_periods, cpu_periods
FROM usage_hourly;

INSERT INTO usage_hourly_next (cluster, hour, namespace, workload_kind, workload, container, cpu_usage_min, cpu_usage_buckets)
SELECT cluster, toStartOfHour(ts) AS hour, namespace, workload_kind, workload, container,
       minState(cpu_usage_cores) AS cpu_usage_min,
       quantileExactWeightedState(if(cpu_usage_cores >= 1e-6,
                                     toUInt16(least(65535, 1 + round(log(cpu_usage_cores * 1e6) / log(1.01)))),
                                     toUInt16(0)),
                                  toUInt64(1)) AS cpu_usage_buckets
FROM usage_samples
GROUP BY cluster, hour, namespace, workload_kind, workload, container;

INSERT INTO usage_daily_next (cluster, day, namespace, workload_kind, workload, container, samples, cpu_usage_sum,
                              cpu_usage_max, memory_working_set_sum, memory_working_set_max, cpu_throttled_periods, cpu_periods)
SELECT cluster, day, namespace, workload_kind, workload, container, samples, cpu_usage_sum,
       cpu_usage_max, memory_working_set_sum, memory_working_set_max, cpu_throttled_periods, cpu_periods
FROM usage_daily;

INSERT INTO usage_daily_next (cluster, day, namespace, workload_kind, workload, container, cpu_usage_min, cpu_usage_buckets)
SELECT cluster, toDate(ts) AS day, namespace, workload_kind, workload, container,
       minState(cpu_usage_cores) AS cpu_usage_min,
       quantileExactWeightedState(if(cpu_usage_cores >= 1e-6,
                                     toUInt16(least(65535, 1 + round(log(cpu_usage_cores * 1e6) / log(1.01)))),
                                     toUInt16(0)),
                                  toUInt64(1)) AS cpu_usage_buckets
FROM usage_samples
GROUP BY cluster, day, namespace, workload_kind, workload, container;

RENAME TABLE usage_hourly TO usage_hourly_old, usage_hourly_next TO usage_hourly,
             usage_daily TO usage_daily_old, usage_daily_next TO usage_daily;

DROP TABLE usage_hourly_old;
DROP TABLE usage_daily_old;

-- The views of 0002_usage, with the buckets in place of the t-digest (see there for why
-- usage_daily has two views, of which exactly one fires on any server).
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
    minState(cpu_usage_cores)             AS cpu_usage_min,
    quantileExactWeightedState(if(cpu_usage_cores >= 1e-6,
                                  toUInt16(least(65535, 1 + round(log(cpu_usage_cores * 1e6) / log(1.01)))),
                                  toUInt16(0)),
                               toUInt64(1)) AS cpu_usage_buckets,
    sumState(memory_working_set_bytes)    AS memory_working_set_sum,
    maxState(memory_working_set_bytes)    AS memory_working_set_max,
    sumState(cpu_throttled_periods)       AS cpu_throttled_periods,
    sumState(cpu_periods)                 AS cpu_periods
FROM usage_samples
GROUP BY cluster, hour, namespace, workload_kind, workload, container;

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_daily_mv TO usage_daily AS
SELECT
    cluster,
    toDate(hour)                                        AS day,
    namespace,
    workload_kind,
    workload,
    container,
    countMergeState(samples)                            AS samples,
    sumMergeState(cpu_usage_sum)                        AS cpu_usage_sum,
    maxMergeState(cpu_usage_max)                        AS cpu_usage_max,
    minMergeState(cpu_usage_min)                        AS cpu_usage_min,
    quantileExactWeightedMergeState(cpu_usage_buckets)  AS cpu_usage_buckets,
    sumMergeState(memory_working_set_sum)               AS memory_working_set_sum,
    maxMergeState(memory_working_set_max)               AS memory_working_set_max,
    sumMergeState(cpu_throttled_periods)                AS cpu_throttled_periods,
    sumMergeState(cpu_periods)                          AS cpu_periods
FROM usage_hourly
GROUP BY cluster, day, namespace, workload_kind, workload, container;

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_daily_mv_legacy TO usage_daily AS
SELECT
    cluster,
    toDate(hour)                                        AS day,
    namespace,
    workload_kind,
    workload,
    container,
    countMergeState(samples)                            AS samples,
    sumMergeState(cpu_usage_sum)                        AS cpu_usage_sum,
    maxMergeState(cpu_usage_max)                        AS cpu_usage_max,
    minMergeState(cpu_usage_min)                        AS cpu_usage_min,
    quantileExactWeightedMergeState(cpu_usage_buckets)  AS cpu_usage_buckets,
    sumMergeState(memory_working_set_sum)               AS memory_working_set_sum,
    maxMergeState(memory_working_set_max)               AS memory_working_set_max,
    sumMergeState(cpu_throttled_periods)                AS cpu_throttled_periods,
    sumMergeState(cpu_periods)                          AS cpu_periods
FROM usage_hourly_mv
GROUP BY cluster, day, namespace, workload_kind, workload, container;
