INSERT INTO namespaces (cluster, ts, namespace, label_keys, label_values)
