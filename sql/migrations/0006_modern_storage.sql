-- tally:min-server 20.3
-- tally:why column codecs and TTL
--
-- Modern-only storage improvements. The core schema does not depend on them: an older
-- server skips this migration and the retention job drops old partitions instead.
-- Codecs: the 1-minute samples are the biggest table; Gorilla suits slowly changing floats,
-- T64 suits byte counts that share their high bits. The TTLs are a safety net well beyond
-- the default retention (raw samples and inventory snapshots 400 days); rollups and costs
-- are kept.

ALTER TABLE usage_samples
    MODIFY COLUMN cpu_usage_cores Float64 CODEC(Gorilla, ZSTD(1)),
    MODIFY COLUMN memory_working_set_bytes UInt64 CODEC(T64, ZSTD(1)),
    MODIFY COLUMN cpu_throttled_periods Float64 CODEC(Gorilla, ZSTD(1)),
    MODIFY COLUMN cpu_periods Float64 CODEC(Gorilla, ZSTD(1));

ALTER TABLE usage_samples MODIFY TTL ts + INTERVAL 400 DAY;

ALTER TABLE containers MODIFY TTL ts + INTERVAL 400 DAY;

ALTER TABLE nodes MODIFY TTL ts + INTERVAL 400 DAY;
