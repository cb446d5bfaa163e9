package api

import (
	"cmp"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path"
	"regexp"
	"slices"
	"time"

	"github.com/gorilla/mux"

	"github.com/tally-finops/tally/internal/weekly"
)

// The reports directory holds one directory per ISO week, named as weekly.ParseWeek reads
// it, with the week's CSV files in it. Nothing else in it is listed or served.
var (
	weekDirPattern    = regexp.MustCompile(`^[0-9]{4}-W[0-9]{2}$`)
	reportFilePattern = regexp.MustCompile(`^[a-z0-9_-][a-z0-9_.-]*\.csv$`)
)

// reportFile is one entry of /api/v1/reports.
type reportFile struct {
	Week     string    `json:"week"`
	Name     string    `json:"name"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
	URL      string    `json:"url"`
}

// reports lists the weekly report files, the latest week first, its files by name.
func (a *api) reports(w http.ResponseWriter, r *http.Request) *httpError {
	if _, he := parseParams(r); he != nil {
		return he
	}
	files, err := listReports(a.opts.ReportsDir)
	if err != nil {
		a.log.Error("list the weekly reports", "dir", a.opts.ReportsDir, "err", err)
		return &httpError{status: http.StatusInternalServerError, msg: "cannot read the reports directory"}
	}
	body, err := json.MarshalIndent(files, "", "  ")
	if err != nil {
		return &httpError{status: http.StatusInternalServerError, msg: "encode the report list"}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(body, '\n'))
	return nil
}

func listReports(dir string) ([]reportFile, error) {
	files := []reportFile{}
	if dir == "" {
		return files, nil
	}
	weeks, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return files, nil // nothing written yet
	}
	if err != nil {
		return nil, err
	}
	for _, wk := range weeks {
		if !wk.IsDir() || !isWeek(wk.Name()) { // a symlink is not a directory here
			continue
		}
		entries, err := os.ReadDir(path.Join(dir, wk.Name()))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || !reportFilePattern.MatchString(e.Name()) {
				continue
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // replaced meanwhile
			}
			if err != nil {
				return nil, err
			}
			files = append(files, reportFile{Week: wk.Name(), Name: e.Name(), Size: info.Size(),
				Modified: info.ModTime().UTC().Truncate(time.Second), URL: routeReports + "/" + wk.Name() + "/" + e.Name()})
		}
	}
	slices.SortFunc(files, func(a, b reportFile) int {
		return cmp.Or(cmp.Compare(b.Week, a.Week), cmp.Compare(a.Name, b.Name))
	})
	return files, nil
}

// isWeek reports whether name is a week directory's: 2026-W47, a week that exists.
func isWeek(name string) bool {
	if !weekDirPattern.MatchString(name) {
		return false
	}
	_, _, err := weekly.ParseWeek(name)
	return err == nil
}

// report serves one weekly report file. Its week and name must match the patterns of the
// files the schedule writes, and it is opened through an os.Root of the reports directory,
// so no name reaches outside it, symbolic links included.
func (a *api) report(w http.ResponseWriter, r *http.Request) *httpError {
	if _, he := parseParams(r); he != nil {
		return he
	}
	vars := mux.Vars(r)
	week, name := vars["week"], vars["name"]
	notFound := &httpError{status: http.StatusNotFound, msg: "no such report"}
	if !isWeek(week) || !reportFilePattern.MatchString(name) || a.opts.ReportsDir == "" {
		return notFound
	}
	root, err := os.OpenRoot(a.opts.ReportsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return notFound
	}
	if err != nil {
		a.log.Error("open the reports directory", "dir", a.opts.ReportsDir, "err", err)
		return &httpError{status: http.StatusInternalServerError, msg: "cannot read the reports directory"}
	}
	defer root.Close()
	f, err := root.Open(week + "/" + name)
	if err != nil {
		return notFound
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return notFound
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+week+"_"+name+`"`)
	http.ServeContent(w, r, name, info.ModTime(), f)
	return nil
}
