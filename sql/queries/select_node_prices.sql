-- Hourly node prices of one cluster for the hours in [from, to).
SELECT cluster, hour, node, instance_type, capacity_type, currency, hourly_cost,
       cpu_core_hour_cost, ram_gib_hour_cost, gpu_hour_cost, source
FROM node_prices FINAL
WHERE cluster = @cluster AND hour >= toDateTime(@from, 'UTC') AND hour < toDateTime(@to, 'UTC')
ORDER BY node, hour
