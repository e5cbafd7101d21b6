package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/execkit/execkit/bench"
	"github.com/execkit/execkit/subprocess"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	subprocess.Main() // worker processes of the execkit-subprocess row
	bench.ChildMain()
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
	)
}

func TestBadUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
		{[]string{"-rounds", "x"}, `invalid value "x" for flag -rounds`},
		{[]string{"-rounds", "-1"}, "-rounds -1: want a positive count"},
		{[]string{"-mintime", "-1s"}, "-mintime -1s: want a positive duration"},
		{[]string{"-run", "("}, `-run "(": error parsing regexp`},
		{[]string{"-run", "workload=nothing"}, "selects no cell"},
		{[]string{"-out", ""}, "-out is empty"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := run(tt.args, &out, &errOut)
		if code != 2 {
			t.Errorf("run(%q): got exit %d; want 2", tt.args, code)
		}
		if !strings.Contains(errOut.String(), tt.want) || !strings.Contains(errOut.String(), "usage: go run ./cmd/compare") {
			t.Errorf("run(%q): got stderr %q; want %q and the usage", tt.args, errOut.String(), tt.want)
		}
		if out.Len() != 0 {
			t.Errorf("run(%q): got stdout %q; want none", tt.args, out.String())
		}
	}
}

func TestHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-h"}, &out, &errOut); code != 0 {
		t.Errorf("got exit %d; want 0", code)
	}
	if !strings.Contains(errOut.String(), "-full") {
		t.Errorf("got %q; want the flags listed", errOut.String())
	}
}

func TestList(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-list", "-run", "workload=noop/strategy=(raw-go|ants)$"}, &out, &errOut); code != 0 {
		t.Fatalf("got exit %d (%s); want 0", code, errOut.String())
	}
	if got, want := out.String(), "workload=noop/strategy=raw-go\nworkload=noop/strategy=ants\n"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

// TestSmallRun runs one tiny slice of the matrix end to end: tables on
// stdout, results.json, report.md and charts in -out.
func TestSmallRun(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run([]string{"-run", "workload=cpu100us/strategy=(raw-go|ants)$", "-rounds", "1", "-mintime", "1ms", "-python", "", "-out", dir}, &out, &errOut)
	if code != 0 {
		t.Fatalf("got exit %d (%s); want 0", code, errOut.String())
	}
	for _, want := range []string{"## workload=cpu100us", "| raw-go | goroutine |", "| ants | pool |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if !strings.Contains(errOut.String(), "wrote results.json, report.md and 2 charts") {
		t.Errorf("got stderr %q; want the files written", errOut.String())
	}
}

// TestOutNotWritable: an -out that cannot be a directory is refused before
// anything is measured (it was found only after the whole run, which was
// lost). The cell is tiny, so that a regression costs a second, not the
// matrix.
func TestOutNotWritable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{file, filepath.Join(file, "sub")} {
		var stdout, stderr bytes.Buffer
		code := run([]string{"-run", "workload=noop/strategy=raw-go$", "-rounds", "1", "-mintime", "1ms", "-python", "", "-out", out}, &stdout, &stderr)
		if code != 2 {
			t.Errorf("-out %s: got exit %d; want 2", out, code)
		}
		if want := fmt.Sprintf("-out %q", out); !strings.Contains(stderr.String(), want) || strings.Contains(stderr.String(), "round 1/1") {
			t.Errorf("-out %s: got stderr %q; want %q, before any round", out, stderr.String(), want)
		}
		if stdout.Len() != 0 {
			t.Errorf("-out %s: got %d bytes on stdout; want none", out, stdout.Len())
		}
	}
}

// TestNothingMeasured: when every cell selected is skipped (Python rows
// without an interpreter), the run fails and says why, and leaves -out as
// it was (it wrote an empty report over the last one and exited 0).
func TestNothingMeasured(t *testing.T) {
	dir := t.TempDir()
	results := filepath.Join(dir, "results.json")
	if err := os.WriteFile(results, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"-run", "workload=noop/strategy=py-thread$", "-python", "/nonexistent/python3", "-out", dir}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("got exit %d; want 1", code)
	}
	if !strings.Contains(stderr.String(), "nothing measured") || !strings.Contains(stderr.String(), "not found on PATH") {
		t.Errorf("got stderr %q; want nothing measured, and why", stderr.String())
	}
	if b, err := os.ReadFile(results); err != nil || string(b) != "{}\n" {
		t.Errorf("results.json is now %d bytes (%v); want it untouched", len(b), err)
	}
	if stdout.Len() != 0 {
		t.Errorf("got %d bytes on stdout; want none", stdout.Len())
	}
}
