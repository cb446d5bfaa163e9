-- How many cost rows of one cluster lie in the hours [from, to): the allocation job's check
-- whether an hour was already written (an hour is written as one block, whole or not at all).
SELECT count()
FROM cost_allocations
WHERE cluster = @cluster AND hour >= toDateTime(@from, 'UTC') AND hour < toDateTime(@to, 'UTC')
