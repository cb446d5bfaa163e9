INSERT INTO pod_claims (cluster, ts, namespace, pod, claim)
