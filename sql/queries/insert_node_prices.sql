INSERT INTO node_prices (cluster, hour, node, instance_type, capacity_type, currency, hourly_cost, cpu_core_hour_cost, ram_gib_hour_cost, gpu_hour_cost, source)
