package bench

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// Env records where a report was measured.
type Env struct {
	Machine       Machine           `json:"machine"`
	Go            string            `json:"go"`
	Python        *PyInfo           `json:"python"`                   // null when Python's rows were skipped
	PythonSkipped string            `json:"python_skipped,omitempty"` // why
	Modules       map[string]string `json:"modules"`                  // module path -> version, from the build info
}

// Machine describes the computer.
type Machine struct {
	Hostname    string `json:"hostname"`
	CPU         string `json:"cpu"`
	Cores       int    `json:"cores"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	MemoryBytes int64  `json:"memory_bytes"`
	OS          string `json:"os"`
	Arch        string `json:"arch"`
	Kernel      string `json:"kernel,omitempty"`
}

// CurrentEnv describes this machine and this binary (Python is filled in
// by the caller once it ran).
func CurrentEnv() Env {
	host, _ := os.Hostname()
	m := Machine{
		Hostname: host, CPU: cpuModel(), Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		MemoryBytes: memTotal(), OS: runtime.GOOS, Arch: runtime.GOARCH,
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return Env{Machine: m, Go: runtime.Version(), Modules: moduleVersions()}
}

// moduleVersions returns the version of every module linked into this
// binary, as runtime/debug.ReadBuildInfo reports it; a replaced module
// shows its replacement ("../" for execkit itself: "(devel)").
func moduleVersions() map[string]string {
	out := map[string]string{}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return out
	}
	for _, d := range bi.Deps {
		v := d.Version
		if d.Replace != nil {
			if d.Replace.Version != "" {
				v = d.Replace.Version
			} else {
				v = "(devel, " + d.Replace.Path + ")"
			}
		}
		out[d.Path] = v
	}
	return out
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
