package faults

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// chServer is a ClickHouse server of the suite's own (hack/stack/clickhouse-server.sh), so
// that hanging, stopping and restarting it disturbs no other test.
type chServer struct {
	dir               string
	tcpPort, httpPort int
	cmd               *exec.Cmd
	exited            chan struct{}
}

// freePort returns a TCP port nothing listens on at the moment.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startClickHouse(t *testing.T) *chServer {
	t.Helper()
	ch := &chServer{dir: t.TempDir(), tcpPort: freePort(t), httpPort: freePort(t)}
	if err := ch.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if ch.cmd != nil {
			_ = ch.cmd.Process.Signal(syscall.SIGCONT)
			_ = ch.cmd.Process.Kill()
			<-ch.exited
		}
	})
	return ch
}

func (ch *chServer) dsn(db string) string {
	return fmt.Sprintf("clickhouse://default@127.0.0.1:%d/%s", ch.tcpPort, db)
}

// start runs the server on its data directory and waits until it answers.
func (ch *chServer) start() error {
	f, err := os.OpenFile(filepath.Join(ch.dir, "stdout.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command("../../hack/stack/clickhouse-server.sh", filepath.Join(ch.dir, "server"))
	cmd.Env = append(os.Environ(), fmt.Sprintf("TALLY_CH_TCP_PORT=%d", ch.tcpPort), fmt.Sprintf("TALLY_CH_HTTP_PORT=%d", ch.httpPort))
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return err
	}
	ch.cmd, ch.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); close(ch.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/ping", ch.httpPort))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ch.exited:
			return fmt.Errorf("the suite's ClickHouse exited while starting; see %s", f.Name())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the suite's ClickHouse does not answer on :%d after 60 s", ch.httpPort)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// hang stops the server's process (SIGSTOP) for d: connections stay open, nothing answers.
func (ch *chServer) hang(d time.Duration) error {
	if err := ch.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	time.Sleep(d)
	return ch.cmd.Process.Signal(syscall.SIGCONT)
}

// restart stops the server as an operator would (SIGTERM, waiting for it to exit), leaves it
// down for down, and starts it again on the same data.
func (ch *chServer) restart(down time.Duration) error {
	_ = ch.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-ch.exited:
	case <-time.After(60 * time.Second):
		_ = ch.cmd.Process.Kill()
		<-ch.exited
	}
	time.Sleep(down)
	return ch.start()
}

// run runs a command of the suite with a deadline.
func run(ctx context.Context, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	return exec.CommandContext(ctx, name, args...).CombinedOutput()
}
