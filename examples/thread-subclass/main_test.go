package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/execkit/execkit/examples/internal/extest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const image = "not really a PNG, but bytes all the same\n"

// serve returns the URL of a local server that answers image at /img.png.
func serve(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/img.png" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, image)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/img.png"
}

func TestExample(t *testing.T) {
	url := serve(t)
	for _, v := range extest.Versions() {
		t.Run(v.Name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "img.png")
			cmd := v.Command(t)
			out := extest.Run(t, nil, cmd[0], append(cmd[1:], "--delay", "0.05", url, dst)...)
			want := fmt.Sprintf("started download\nsaved %d bytes to %s\n", len(image), dst)
			if out != want {
				t.Errorf("output: got %q; want %q", out, want)
			}
			got, err := os.ReadFile(dst)
			if err != nil || string(got) != image {
				t.Errorf("saved file: got %q, %v; want %q", got, err, image)
			}
		})
	}
}

func TestGoReportsTheError(t *testing.T) {
	url := serve(t) + ".missing"
	bin := extest.BuildGo(t)
	dst := filepath.Join(t.TempDir(), "img.png")
	out, err := runFails(bin, "-delay", "0", url, dst)
	if err == nil {
		t.Fatalf("a failed download exited 0; want 1 (output %q)", out)
	}
	if want := "thread-subclass: download " + url + ": 404 Not Found\n"; out != want {
		t.Errorf("stderr: got %q; want %q", out, want)
	}
}

// runFails runs bin and returns its standard error and exit error.
func runFails(bin string, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	err := cmd.Run()
	return stderr.String(), err
}
