-- The minutes of one cluster's usage already written in [from, to). An interval is written
-- as one block, and a block lands whole within each partition (a UTC day), so a minute is
-- written whole or not at all: when a run stopped after its insert but before moving the
-- watermark, the next run writes the minutes this does not list instead of skipping the
-- interval.
SELECT DISTINCT ts
FROM usage_samples
WHERE cluster = @cluster AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
ORDER BY ts
