package store

import (
	"errors"

	tallysql "github.com/tally-finops/tally/sql"
)

// queries are the named statements of sql/queries the store runs, loaded once at Open.
type queries struct {
	serverVersion, selectMigrations, insertMigrations string

	insertNodes, insertContainers, insertUsageSamples, insertContainerEvents string
	insertNodePrices, insertCostAllocations, insertWatermarks                string

	selectNodes, selectContainers, selectUsageSamples, selectContainerEvents string
	selectNodePrices, selectCostAllocations, selectWatermarks                string
	selectUsageHourly, selectUsageDaily, selectCostDaily                     string
	countUsageSamples, selectPartitions, dropPartition                       string
	selectUsageWritten, selectNodeHours                                      string
	insertAutoscalers, selectAutoscalers                                     string
	selectContainerHours, countCostAllocations                               string
	selectCostRows                                                           string
	selectUsageNamespaces, selectRightsizingStats, selectUnitPrices          string
	selectRunningContainers, selectBacktest                                  string
	insertRecommendations, countRecommendations, selectRecommendations       string
	insertNamespaces, selectNamespaceLabels                                  string
	insertBillLines, insertBillImports, selectBillImports, selectBillCosts   string
	insertVolumes, insertPodClaims, insertVolumeAllocations                  string
	selectVolumeHours, selectClaimPods, countVolumeAllocations               string
	selectVolumeCostRows, selectVolumeAllocations                            string

	names []string // every query loaded, so a test can check no file of sql/queries goes unused
}

func loadQueries() (queries, error) {
	var q queries
	var errs []error
	load := func(dst *string, name string) {
		s, err := tallysql.Query(name)
		errs = append(errs, err)
		*dst = s
		q.names = append(q.names, name)
	}
	load(&q.serverVersion, "select_server_version")
	load(&q.selectMigrations, "select_schema_migrations")
	load(&q.insertMigrations, "insert_schema_migrations")
	load(&q.insertNodes, "insert_nodes")
	load(&q.insertContainers, "insert_containers")
	load(&q.insertUsageSamples, "insert_usage_samples")
	load(&q.insertContainerEvents, "insert_container_events")
	load(&q.insertNodePrices, "insert_node_prices")
	load(&q.insertCostAllocations, "insert_cost_allocations")
	load(&q.insertWatermarks, "insert_watermarks")
	load(&q.insertBillLines, "insert_bill_lines")
	load(&q.insertBillImports, "insert_bill_imports")
	load(&q.selectBillImports, "select_bill_imports")
	load(&q.selectBillCosts, "select_bill_costs")
	load(&q.selectNodes, "select_nodes")
	load(&q.selectContainers, "select_containers")
	load(&q.selectUsageSamples, "select_usage_samples")
	load(&q.selectContainerEvents, "select_container_events")
	load(&q.selectNodePrices, "select_node_prices")
	load(&q.selectCostAllocations, "select_cost_allocations")
	load(&q.selectWatermarks, "select_watermarks")
	load(&q.selectUsageHourly, "select_usage_hourly")
	load(&q.selectUsageDaily, "select_usage_daily")
	load(&q.selectCostDaily, "select_cost_daily")
	load(&q.countUsageSamples, "count_usage_samples")
	load(&q.selectUsageWritten, "select_usage_written")
	load(&q.selectNodeHours, "select_node_hours")
	load(&q.selectPartitions, "select_partitions")
	load(&q.dropPartition, "drop_partition")
	load(&q.insertAutoscalers, "insert_autoscalers")
	load(&q.selectAutoscalers, "select_autoscalers")
	load(&q.selectContainerHours, "select_container_hours")
	load(&q.countCostAllocations, "count_cost_allocations")
	load(&q.selectCostRows, "select_cost_rows")
	load(&q.selectUsageNamespaces, "select_usage_namespaces")
	load(&q.selectRightsizingStats, "select_rightsizing_stats")
	load(&q.selectUnitPrices, "select_unit_prices")
	load(&q.selectRunningContainers, "select_running_containers")
	load(&q.selectBacktest, "select_backtest")
	load(&q.insertRecommendations, "insert_recommendations")
	load(&q.countRecommendations, "count_recommendations")
	load(&q.selectRecommendations, "select_recommendations")
	load(&q.insertNamespaces, "insert_namespaces")
	load(&q.selectNamespaceLabels, "select_namespace_labels")
	load(&q.insertVolumes, "insert_volumes")
	load(&q.insertPodClaims, "insert_pod_claims")
	load(&q.insertVolumeAllocations, "insert_volume_allocations")
	load(&q.selectVolumeHours, "select_volume_hours")
	load(&q.selectClaimPods, "select_claim_pods")
	load(&q.countVolumeAllocations, "count_volume_allocations")
	load(&q.selectVolumeCostRows, "select_volume_cost_rows")
	load(&q.selectVolumeAllocations, "select_volume_allocations")
	return q, errors.Join(errs...)
}
