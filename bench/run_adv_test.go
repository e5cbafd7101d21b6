package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fakePython writes a script that stands for the interpreter: it reads the
// plan and answers as body says (a shell snippet; $plan holds the plan).
func fakePython(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "python3")
	script := "#!/bin/sh\n" + pythonProbeAnswer("3.99") + "plan=$(cat)\necho '{\"type\":\"info\",\"python\":\"3.99\"}'\n" + body + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// pythonProbeAnswer is the shell line with which a fake interpreter
// answers FindPython's version probe (python3 -c ...) as version.
func pythonProbeAnswer(version string) string {
	return `if [ "$1" = "-c" ]; then echo ` + version + `; exit 0; fi` + "\n"
}

// TestFindPythonNotPython3: an interpreter that is not Python 3 (a Python
// 2, something else that exits or prints anything) is refused by
// FindPython with the reason, so its rows are skipped with a note, rather
// than every Python cell failing on its own error after its run.
func TestFindPythonNotPython3(t *testing.T) {
	fake := func(body string) string {
		path := filepath.Join(t.TempDir(), "python")
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, tt := range []struct {
		name, python, want string
	}{
		{"false", "false", "does not run as Python"},
		{"echo", "echo", "is not Python 3"},
		{"python 2", fake(pythonProbeAnswer("2.7")), "is Python 2.7, not Python 3"},
	} {
		py, err := FindPython(tt.python)
		if err == nil {
			py.Close()
			t.Errorf("%s: FindPython(%q) accepted it; want an error saying %q", tt.name, tt.python, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "bench: ") || !strings.Contains(err.Error(), "Python rows skipped") {
			t.Errorf("%s: FindPython(%q): %v; want bench: ... %q ... Python rows skipped", tt.name, tt.python, err, tt.want)
		}
	}
	if _, err := exec.LookPath("python3"); err == nil {
		py, err := FindPython("python3")
		if err != nil {
			t.Fatalf("FindPython(python3): %v", err)
		}
		py.Close()
	}
}

// The Python cells' error paths after each sample got an interpreter of
// its own: python missing, the interpreter failing, a case failing. Each
// Python cell reports its own error; no Go cell runs (the filter).
func TestAdvComparePythonErrors(t *testing.T) {
	filter := regexp.MustCompile(`workload=(noop|sleep1e5)[^/]*/strategy=py-thread(pool)?$`)
	cfg := Config{Rounds: 1, PyRounds: 1, MemRounds: 1, Filter: filter}
	tests := []struct {
		name, python, want string
	}{
		{"missing", "/nonexistent/python3", "not found on PATH"},
		{"interpreter fails", fakePython(t, "echo 'Traceback: boom' >&2; exit 3"), "exit status 3"},
		{"case fails", fakePython(t, `w=$(echo "$plan" | sed 's/.*"workload":"\([^"]*\)".*/\1/'); s=$(echo "$plan" | sed 's/.*"strategy":"\([^"]*\)".*/\1/'); echo "{\"type\":\"result\",\"workload\":\"$w\",\"strategy\":\"$s\",\"detail\":\"d\",\"error\":\"case exploded\"}"`), "case exploded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := cfg
			cfg.Python = tt.python
			rep, err := Compare(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "missing" {
				if !strings.Contains(rep.Env.PythonSkipped, tt.want) || len(rep.Results) != 0 {
					t.Errorf("PythonSkipped %q, %d results; want %q and none", rep.Env.PythonSkipped, len(rep.Results), tt.want)
				}
				return
			}
			if len(rep.Results) == 0 {
				t.Fatal("no cells")
			}
			for _, r := range rep.Results {
				t.Logf("%s/%s (%s): %q, detail %q", r.Workload, r.Strategy, r.Kind, r.Error, r.Detail)
				if tt.name == "case fails" && r.Detail != "d" {
					t.Errorf("%s/%s: detail %q; want bench.py's (\"d\"), as before each case had an interpreter of its own", r.Workload, r.Strategy, r.Detail)
				}
				if !strings.Contains(r.Error, tt.want) || len(r.Samples) != 0 {
					t.Errorf("%s/%s: error %q, %d samples; want an error saying %q", r.Workload, r.Strategy, r.Error, len(r.Samples), tt.want)
				}
			}
		})
	}
}
