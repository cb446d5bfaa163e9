-- How many usage samples of one cluster lie in [from, to): the collector's check whether an
-- interval was already written (an interval is written as one block, whole or not at all).
SELECT count()
FROM usage_samples
WHERE cluster = @cluster AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
