// Package faults holds tally's fault-injection suite: the synthetic cluster's history in the
// stack's Prometheus and API server, collected by the collector binary into a ClickHouse
// server of the suite's own, once without faults and then again under each fault (the
// collector killed at random points, ClickHouse hung and restarted, Prometheus away,
// connections cut mid-insert and mid-answer, cron runs over simulated hours). After
// recovery every report and every table must equal the uninterrupted run's
// (docs/reliability.md). It has no code outside its tests.
package faults
