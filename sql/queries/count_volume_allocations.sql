-- How many volume cost rows of one cluster lie in the hours [from, to): the allocation job's
-- check whether an hour's volume rows were already written (one block, whole or not at all).
SELECT count()
FROM volume_allocations
WHERE cluster = @cluster AND hour >= toDateTime(@from, 'UTC') AND hour < toDateTime(@to, 'UTC')
