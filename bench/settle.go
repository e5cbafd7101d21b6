package bench

import (
	"bufio"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"
)

// Settling: after a sample of a [Strategy] with Residue, wait until the
// whole machine has been quiet (busy less than settleBusy of its CPU time
// over one settleWindow) for at most settleMax; where the machine's CPU
// time cannot be read (no /proc/stat), wait settleWindow once.
const (
	settleWindow = 50 * time.Millisecond
	settleBusy   = 0.10
	settleMax    = 2 * time.Second
)

// settle waits for the machine to go quiet: see the constants above. It
// returns early when ctx ends.
func settle(ctx context.Context) {
	deadline := time.Now().Add(settleMax)
	prev, err := readCPUTimes("/proc/stat")
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(settleWindow):
		}
		if err != nil {
			return // one window, unmeasured
		}
		cur, cerr := readCPUTimes("/proc/stat")
		if cerr != nil {
			return
		}
		if cur.busySince(prev) < settleBusy {
			return
		}
		prev = cur
	}
}

// cpuTimes are the machine's CPU times from /proc/stat's "cpu" line, in
// clock ticks: all of them, and those spent idle or waiting for I/O.
type cpuTimes struct{ total, idle uint64 }

// busySince returns the fraction of the CPU time since prev that was not
// idle (0 when no time passed).
func (c cpuTimes) busySince(prev cpuTimes) float64 {
	total := c.total - prev.total
	if total == 0 || c.total < prev.total || c.idle < prev.idle {
		return 0
	}
	return 1 - float64(c.idle-prev.idle)/float64(total)
}

func readCPUTimes(path string) (cpuTimes, error) {
	f, err := os.Open(path)
	if err != nil {
		return cpuTimes{}, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return cpuTimes{}, err
	}
	return parseCPUTimes(line)
}

// parseCPUTimes parses /proc/stat's aggregate line: "cpu" and then user,
// nice, system, idle, iowait, irq, softirq, steal, ... ticks (guest times,
// the ninth and tenth, are counted in user and nice already).
func parseCPUTimes(line string) (cpuTimes, error) {
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return cpuTimes{}, errors.New("bench: not /proc/stat's cpu line")
	}
	var t cpuTimes
	for i, s := range f[1:] {
		if i >= 8 {
			break
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return cpuTimes{}, errors.New("bench: /proc/stat: " + err.Error())
		}
		t.total += v
		if i == 3 || i == 4 { // idle, iowait
			t.idle += v
		}
	}
	return t, nil
}
