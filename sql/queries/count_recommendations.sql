-- How many recommendations of one cluster were stored for the days in [from, to): the daily
-- rightsizing job's check whether a day was already written (a day is written as one block).
SELECT count()
FROM recommendations
WHERE cluster = @cluster AND day >= toDate(toDateTime(@from, 'UTC')) AND day < toDate(toDateTime(@to, 'UTC'))
