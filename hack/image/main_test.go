package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

// readTar returns the regular files of a tarball by name.
func readTar(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		if hdr.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatalf("read %s: %v", hdr.Name, err)
			}
			files[hdr.Name] = data
		}
	}
}

func TestWriteArchive(t *testing.T) {
	s := spec{Binary: []byte("#!binary"), Tag: "tally.local/workload:dev", Entrypoint: "/workload", Cmd: []string{"pause"}, Arch: "amd64"}
	var buf bytes.Buffer
	if err := writeArchive(&buf, s); err != nil {
		t.Fatal(err)
	}
	files := readTar(t, buf.Bytes())

	var manifest []manifestEntry
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(manifest) != 1 || len(manifest[0].Layers) != 1 || manifest[0].RepoTags[0] != s.Tag {
		t.Fatalf("manifest = %+v", manifest)
	}
	cfgBytes, ok := files[manifest[0].Config]
	if !ok {
		t.Fatalf("config %s missing", manifest[0].Config)
	}
	if got := sha256Hex(cfgBytes) + ".json"; got != manifest[0].Config {
		t.Errorf("config named %s but its digest is %s", manifest[0].Config, got)
	}
	layer, ok := files[manifest[0].Layers[0]]
	if !ok {
		t.Fatalf("layer %s missing", manifest[0].Layers[0])
	}
	var cfg imageConfig
	if err := json.Unmarshal(cfgBytes, &cfg); err != nil {
		t.Fatal(err)
	}
	if want := "sha256:" + sha256Hex(layer); len(cfg.RootFS.DiffIDs) != 1 || cfg.RootFS.DiffIDs[0] != want {
		t.Errorf("diff_ids = %v, want [%s]", cfg.RootFS.DiffIDs, want)
	}
	if cfg.OS != "linux" || cfg.Architecture != "amd64" || cfg.Config.Entrypoint[0] != "/workload" || cfg.Config.Cmd[0] != "pause" {
		t.Errorf("config = %+v", cfg)
	}
	if got := readTar(t, layer)["workload"]; !bytes.Equal(got, s.Binary) {
		t.Errorf("layer holds %q at workload, want the binary", got)
	}

	var again bytes.Buffer
	if err := writeArchive(&again, s); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two archives of the same binary differ")
	}
}

func TestWriteArchiveRejects(t *testing.T) {
	for name, s := range map[string]spec{
		"relative entrypoint": {Binary: []byte("x"), Tag: "a/b:c", Entrypoint: "workload"},
		"root entrypoint":     {Binary: []byte("x"), Tag: "a/b:c", Entrypoint: "/"},
		"no tag":              {Binary: []byte("x"), Tag: "localhost:5000/b", Entrypoint: "/w"},
	} {
		if err := writeArchive(io.Discard, s); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
