// Command image writes a container image holding one static binary as a docker-archive tarball
// (the format of `docker save`), which `ctr images import` loads without a registry. The local
// test cluster (hack/cluster) builds its images with it.
//
//	image -binary PATH -tag NAME:TAG -o OUT.tar [-entrypoint /name] [-cmd ARG]...
//
// The image has one layer: the binary at /<basename> (or -entrypoint) plus empty /etc and /tmp.
// Every timestamp is the Unix epoch, so the same binary always gives the same image ID.
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// spec says what goes into the image.
type spec struct {
	Binary     []byte
	Tag        string   // e.g. tally.local/workload:dev
	Entrypoint string   // absolute path of the binary in the image
	Cmd        []string // default arguments
	Arch       string   // GOARCH naming, as the image config uses
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	binary := fs.String("binary", "", "static binary to put into the image (required)")
	tag := fs.String("tag", "", "image reference, NAME:TAG (required)")
	out := fs.String("o", "", "tarball to write (required)")
	entrypoint := fs.String("entrypoint", "", "path of the binary in the image (default /<basename of -binary>)")
	var cmd stringList
	fs.Var(&cmd, "cmd", "a default argument (repeat for several)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *binary == "" || *tag == "" || *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("-binary, -tag and -o are required, and nothing else")
	}
	bin, err := os.ReadFile(*binary)
	if err != nil {
		return fmt.Errorf("read binary: %w", err)
	}
	s := spec{Binary: bin, Tag: *tag, Entrypoint: *entrypoint, Cmd: cmd, Arch: runtime.GOARCH}
	if s.Entrypoint == "" {
		s.Entrypoint = "/" + filepath.Base(*binary)
	}
	var buf bytes.Buffer
	if err := writeArchive(&buf, s); err != nil {
		return err
	}
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	return os.Rename(tmp, *out)
}

// The image config, as far as containerd needs it (docker image spec v1.2 / OCI image config).
type imageConfig struct {
	Architecture string         `json:"architecture"`
	OS           string         `json:"os"`
	Created      time.Time      `json:"created"`
	Config       containerSpec  `json:"config"`
	RootFS       rootFS         `json:"rootfs"`
	History      []historyEntry `json:"history"`
}

type containerSpec struct {
	Env        []string `json:"Env"`
	Entrypoint []string `json:"Entrypoint"`
	Cmd        []string `json:"Cmd,omitempty"`
	WorkingDir string   `json:"WorkingDir"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

type historyEntry struct {
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
}

// manifestEntry is one element of a docker-archive manifest.json.
type manifestEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// writeArchive writes the docker-archive: manifest.json, <config digest>.json and
// <layer digest>/layer.tar.
func writeArchive(w io.Writer, s spec) error {
	if !path.IsAbs(s.Entrypoint) || path.Clean(s.Entrypoint) == "/" {
		return fmt.Errorf("entrypoint %q is not an absolute file path", s.Entrypoint)
	}
	if !strings.Contains(path.Base(s.Tag), ":") {
		return fmt.Errorf("tag %q has no :TAG", s.Tag)
	}
	layer, err := layerTar(s.Binary, strings.TrimPrefix(path.Clean(s.Entrypoint), "/"))
	if err != nil {
		return err
	}
	layerDigest := sha256Hex(layer)
	epoch := time.Unix(0, 0).UTC()
	cfg, err := json.Marshal(imageConfig{
		Architecture: s.Arch,
		OS:           "linux",
		Created:      epoch,
		Config: containerSpec{
			Env:        []string{"PATH=/"},
			Entrypoint: []string{path.Clean(s.Entrypoint)},
			Cmd:        s.Cmd,
			WorkingDir: "/",
		},
		RootFS:  rootFS{Type: "layers", DiffIDs: []string{"sha256:" + layerDigest}},
		History: []historyEntry{{Created: epoch, CreatedBy: "hack/image"}},
	})
	if err != nil {
		return fmt.Errorf("encode image config: %w", err)
	}
	cfgName := sha256Hex(cfg) + ".json"
	layerName := layerDigest + "/layer.tar"
	manifest, err := json.Marshal([]manifestEntry{{Config: cfgName, RepoTags: []string{s.Tag}, Layers: []string{layerName}}})
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}

	tw := tar.NewWriter(w)
	if err := addDir(tw, layerDigest+"/"); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{layerName, layer}, {cfgName, cfg}, {"manifest.json", manifest}} {
		if err := addFile(tw, f.name, f.data, 0o644); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("finish archive: %w", err)
	}
	return nil
}

// layerTar is the image's only layer: etc/, tmp/ and the binary at name.
func layerTar(binary []byte, name string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, dir := range []string{"etc/", "tmp/"} {
		if err := addDir(tw, dir); err != nil {
			return nil, err
		}
	}
	if dir := path.Dir(name); dir != "." {
		if err := addDir(tw, dir+"/"); err != nil {
			return nil, err
		}
	}
	if err := addFile(tw, name, binary, 0o755); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("finish layer: %w", err)
	}
	return buf.Bytes(), nil
}

func addDir(tw *tar.Writer, name string) error {
	mode := int64(0o755)
	if name == "tmp/" {
		mode = 0o1777
	}
	hdr := &tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	return nil
}

func addFile(tw *tar.Writer, name string, data []byte, mode int64) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	return nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
