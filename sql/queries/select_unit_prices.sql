-- A cluster's average unit prices over the hours [from, to), across its nodes and hours, and
-- its currency (a corrected price replaces the first one): what rightsizing prices a workload with when no cost was allocated to it yet.
SELECT any(CAST(currency AS String))  AS unit_currency,
       avg(cpu_core_hour_cost)        AS cpu_rate,
       avg(ram_gib_hour_cost)         AS ram_rate,
       count()                        AS price_rows
FROM node_prices FINAL
WHERE cluster = @cluster AND hour >= toDateTime(@from, 'UTC') AND hour < toDateTime(@to, 'UTC')
