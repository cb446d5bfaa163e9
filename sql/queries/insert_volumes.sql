INSERT INTO volumes (cluster, ts, volume, capacity_bytes, storage_class, provisioner, volume_type, volume_handle, phase, claim_namespace, claim, label_keys, label_values)
