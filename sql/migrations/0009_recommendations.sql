-- The rightsizing recommendations of every day, as the collector's daily job computed them
-- over the 14 days before the day's start: what dashboards chart as potential savings over
-- time, and, set against the current requests of later days, what was applied. A value not
-- set (a missing limit, a recommendation withheld for insufficient data) is NULL.
CREATE TABLE IF NOT EXISTS recommendations
(
    cluster                      LowCardinality(String),
    day                          Date,
    window_start                 DateTime('UTC'),
    window_end                   DateTime('UTC'),
    namespace                    LowCardinality(String),
    workload_kind                LowCardinality(String),
    workload                     String,
    container                    LowCardinality(String),
    current_cpu_request_cores    Nullable(Float64),
    current_cpu_limit_cores      Nullable(Float64),
    current_memory_request_bytes Nullable(Float64),
    current_memory_limit_bytes   Nullable(Float64),
    cpu_request_cores            Nullable(Float64),
    cpu_limit_cores              Nullable(Float64),
    memory_request_bytes         Nullable(Float64),
    memory_limit_bytes           Nullable(Float64),
    monthly_savings              Float64,
    currency                     LowCardinality(String),
    risk                         LowCardinality(String),
    flags                        Array(String),
    evidence                     String,
    risk_note                    String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (cluster, day, namespace, workload_kind, workload, container);
