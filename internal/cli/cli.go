// Package cli holds what tally's commands share: flag sets whose flags can also be set
// through TALLY_* environment variables, usage text that names those variables, and the
// logger every command builds from its flags. Commands pass the environment in; this
// package never reads it itself.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// EnvName is the environment variable that backs a flag: "clickhouse-dsn" → "TALLY_CLICKHOUSE_DSN".
func EnvName(flagName string) string {
	return "TALLY_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse parses args into fs, then sets every flag not given on the command line from its
// TALLY_* variable, when lookup finds one. A flag on the command line wins over the
// environment. An invalid value from the environment is an error that names the variable.
func Parse(fs *flag.FlagSet, args []string, lookup func(string) (string, bool)) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || lookup == nil {
			return
		}
		if v, ok := lookup(EnvName(f.Name)); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("invalid value for %s: %w", EnvName(f.Name), err))
			}
		}
	})
	return errors.Join(errs...)
}

// Usage returns a flag.FlagSet Usage function that prints a synopsis, then every flag with
// its default and its environment variable.
func Usage(fs *flag.FlagSet, synopsis string) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintln(w, strings.TrimSpace(synopsis))
		fmt.Fprintln(w, "\nFlags (each may also be set by the environment variable shown):")
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(w, "  --%s", f.Name)
			if name != "" {
				fmt.Fprintf(w, " %s", name)
			}
			fmt.Fprintf(w, "\n      %s", usage)
			if f.DefValue != "" && f.DefValue != "false" {
				fmt.Fprintf(w, " (default %s)", f.DefValue)
			}
			if f.Name != "help" && f.Name != "version" {
				fmt.Fprintf(w, " [%s]", EnvName(f.Name))
			}
			fmt.Fprintln(w)
		})
	}
}

// NewLogger builds the structured logger of a command: level debug|info|warn|error, format
// text|json, writing to w.
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("invalid log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("invalid log format %q: want text or json", format)
	}
}
