// Package dashboards holds tally's Grafana dashboards for the grafana-clickhouse-datasource
// plugin (the JSON files of this directory; provisioning/ has the files that load them into
// Grafana). They are embedded so that the tests read exactly the files Grafana provisions:
// every dashboard is checked against Grafana's dashboard schema, and every panel query is
// executed, its macros expanded, on ClickHouse 18.16 and on a modern engine (chDB).
package dashboards

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
)

//go:embed *.json
var files embed.FS

// Names lists the dashboard files ("tally-cost-overview.json", ...) in name order.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".") // embedded; cannot fail
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// File returns the JSON of the named dashboard file.
func File(name string) ([]byte, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("dashboard %q: %w", name, err)
	}
	return b, nil
}
