package collector

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/kube"
)

// TestMain removes the synthetic cluster's objects from the shared API server after the
// tests, so that they do not show up in another cluster's inventory (the demo's, say).
func TestMain(m *testing.M) {
	code := m.Run()
	if e2eSyn != nil && e2eClients != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := kube.Unload(ctx, e2eClients, e2eSyn.Objects()); err != nil {
			fmt.Fprintln(os.Stderr, "remove the synthetic objects:", err)
			if code == 0 {
				code = 1
			}
		}
		cancel()
	}
	os.Exit(code)
}
