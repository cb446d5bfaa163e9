-- How far each collector job got, per cluster. The newest row (highest version) wins, so a
-- watermark can also be moved back on purpose to re-collect an interval.

CREATE TABLE IF NOT EXISTS watermarks
(
    cluster    LowCardinality(String),
    job        LowCardinality(String),
    watermark  DateTime('UTC'),
    updated_at DateTime('UTC'),
    version    UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (cluster, job);
