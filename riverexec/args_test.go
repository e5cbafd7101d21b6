package riverexec

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/execkit/execkit"
)

// blobLen returns the length of its argument, which GobCodec encodes as
// its bytes: a []byte of n bytes is a payload of n bytes.
var blobLen = execkit.Register("riverexec_test.blobLen", func(_ context.Context, b []byte) (int, error) { return len(b), nil })

// tooLarge reports whether err is the error of an argument of size bytes
// over limit: it wraps execkit.ErrPayload and says both numbers.
func tooLarge(err error, size, limit int) bool {
	return errors.Is(err, execkit.ErrPayload) && strings.HasPrefix(err.Error(), "riverexec: ") &&
		strings.Contains(err.Error(), strconv.Itoa(size)) && strings.Contains(err.Error(), strconv.Itoa(limit))
}

// TestArgumentLimit: an argument that encodes to more than the default
// limit (1 MiB) is refused before anything is inserted, by every entry
// that inserts jobs: Enqueue and EnqueueTx return an error wrapping
// execkit.ErrPayload that gives the size and the limit (the transaction
// stays usable), a Func's Go fails its Future with it, and Func.Map
// returns it, its other items cancelled (never inserted, or revoked). One
// of exactly the limit is accepted. Before, every one was inserted (a 32
// MiB argument took 50s on SQLite while River's fetches timed out).
func TestArgumentLimit(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		queue := "args"
		ex := newExecutor(t, db, Queue(queue))
		const limit = 1 << 20
		huge := make([]byte, limit+1)

		id, err := ex.Enqueue(ctx, blobLen.Task(make([]byte, limit)))
		if err != nil {
			t.Fatalf("Enqueue(an argument of the limit, %d bytes) = %v; want it accepted", limit, err)
		}
		if j := waitDone(t, ex, id); j.State != StateSuccess {
			t.Errorf("the job of an argument of the limit ended %s (%v); want SUCCESS", j.State, j.Err)
		}
		jobs := db.count(t, "river_job", "")

		if id, err := ex.Enqueue(ctx, blobLen.Task(huge)); !tooLarge(err, limit+1, limit) {
			t.Errorf("Enqueue(%d bytes) = %d, %v; want an error wrapping ErrPayload giving %d and %d", limit+1, id, err, limit+1, limit)
		}

		tx, commit, _ := db.begin(t)
		if id, err := ex.EnqueueTx(ctx, tx, blobLen.Task(huge)); !tooLarge(err, limit+1, limit) {
			t.Errorf("EnqueueTx(%d bytes) = %d, %v; want an error wrapping ErrPayload giving %d and %d", limit+1, id, err, limit+1, limit)
		}
		small, err := ex.EnqueueTx(ctx, tx, blobLen.Task([]byte("after")))
		if err != nil {
			t.Fatalf("EnqueueTx in the transaction after the refusal: %v", err)
		}
		if err := commit(); err != nil {
			t.Fatalf("committing the transaction after the refusal: %v", err)
		}
		if j := waitDone(t, ex, small); j.State != StateSuccess {
			t.Errorf("the job enqueued in the transaction after the refusal ended %s (%v); want SUCCESS", j.State, j.Err)
		}
		jobs++

		if n, err := blobLen.Go(ctx, ex, huge).Wait(ctx); !tooLarge(err, limit+1, limit) {
			t.Errorf("Go(%d bytes).Wait = %d, %v; want an error wrapping ErrPayload giving %d and %d", limit+1, n, err, limit+1, limit)
		}

		items := [][]byte{[]byte("a"), []byte("b"), huge, []byte("d")}
		if res, err := blobLen.Map(ctx, ex, items); !tooLarge(err, limit+1, limit) {
			t.Errorf("Map(an item of %d bytes) = %v, %v; want an error wrapping ErrPayload giving %d and %d", limit+1, res, err, limit+1, limit)
		}
		for _, j := range finalJobs(t, ex, queue) {
			var a callArgs
			if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
				t.Fatalf("job %d: %v", j.ID, err)
			}
			if len(a.Payload) > limit {
				t.Errorf("job %d (%s) has an argument of %d bytes; want none over the limit inserted", j.ID, j.State, len(a.Payload))
			}
		}
		if n := db.count(t, "river_job", ""); n > jobs+len(items)-1 {
			t.Errorf("%d jobs; want at most %d (those before, and Map's other items)", n, jobs+len(items)-1)
		}

		// Nothing already accepted was lost: the executor works on.
		if n, err := blobLen.Go(ctx, ex, []byte("still")).Wait(ctx); err != nil || n != 5 {
			t.Errorf("Go after the refusals = %d, %v; want 5, nil", n, err)
		}
		if s := ex.Stats(); s.Queued != 0 || s.Running != 0 {
			t.Errorf("Stats = %+v; want nothing queued or running", s)
		}
	})
}

// TestMaxArgSize: MaxArgSize sets the limit, which the error gives.
func TestMaxArgSize(t *testing.T) {
	db := newDB(t, "sqlite")
	ctx := context.Background()
	ex := newExecutor(t, db, MaxArgSize(10))
	if _, err := ex.Enqueue(ctx, blobLen.Task(make([]byte, 10))); err != nil {
		t.Errorf("Enqueue(10 bytes) under MaxArgSize(10) = %v; want it accepted", err)
	}
	if _, err := ex.Enqueue(ctx, blobLen.Task(make([]byte, 11))); !tooLarge(err, 11, 10) {
		t.Errorf("Enqueue(11 bytes) under MaxArgSize(10) = %v; want an error wrapping ErrPayload giving 11 and 10", err)
	}
	if n, err := blobLen.Go(ctx, ex, make([]byte, 11)).Wait(ctx); !tooLarge(err, 11, 10) {
		t.Errorf("Go(11 bytes).Wait under MaxArgSize(10) = %d, %v; want an error wrapping ErrPayload giving 11 and 10", n, err)
	}
	if n := db.count(t, "river_job", ""); n != 1 {
		t.Errorf("%d jobs; want 1 (the argument of 10 bytes)", n)
	}
	big, err := db.New(MaxArgSize(16<<20), SubmitOnly())
	if err != nil {
		t.Fatalf("New(MaxArgSize(16 MiB)) = %v; want it accepted", err)
	}
	if err := big.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestBatchBytes: the inserter's batches hold at most maxBatchBytes of
// arguments (a call larger than that goes alone), so that one InsertMany,
// a single transaction holding SQLite's write lock, ends well within
// insertTimeout; before, a batch took up to maxBatch calls whatever their
// size (a thousand arguments of 1 MiB in one transaction).
func TestBatchBytes(t *testing.T) {
	e := &Executor{}
	queue := func(sizes ...int) {
		for _, n := range sizes {
			e.queue = append(e.queue, &call{args: callArgs{Payload: make([]byte, n)}})
		}
	}
	const mib = 1 << 20
	queue(mib, mib, mib, mib, mib, 5*mib, 1, maxBatchBytes, 1)
	var got [][]int
	for {
		batch := e.takeBatch()
		if len(batch) == 0 {
			break
		}
		var sizes []int
		for _, c := range batch {
			sizes = append(sizes, len(c.args.Payload))
		}
		got = append(got, sizes)
	}
	want := [][]int{{mib, mib, mib, mib}, {mib}, {5 * mib}, {1}, {maxBatchBytes}, {1}}
	if len(got) != len(want) {
		t.Fatalf("batches of sizes %v; want %v", got, want)
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("batches of sizes %v; want %v", got, want)
		}
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("batches of sizes %v; want %v", got, want)
			}
		}
	}

	queue(make([]int, maxBatch+1)...) // small calls: maxBatch per batch
	if n := len(e.takeBatch()); n != maxBatch {
		t.Errorf("a batch of small calls holds %d; want %d", n, maxBatch)
	}
	if n := len(e.takeBatch()); n != 1 {
		t.Errorf("the batch after holds %d; want 1", n)
	}
}

// TestResultTooLarge: a result larger than River records on a row (32 MB
// of JSON) fails its job for good with an error wrapping
// execkit.ErrPayload, as an argument over the limit does (and as
// subprocess's result over its frame limit does); before, the error
// matched no sentinel.
func TestResultTooLarge(t *testing.T) {
	db := newDB(t, "sqlite")
	ctx := context.Background()
	ex := newExecutor(t, db, Retries(2, time.Millisecond))
	_, err := blobMake.Go(ctx, ex, 25<<20).Wait(ctx)
	var je *JobError
	if !errors.Is(err, execkit.ErrPayload) || !errors.As(err, &je) || je.Attempts != 1 || !strings.Contains(err.Error(), "26214400") {
		t.Errorf("Go(a 25 MiB result).Wait = %v; want a JobError after 1 attempt wrapping ErrPayload, giving the size", err)
	}
}

// blobMake returns n bytes.
var blobMake = execkit.Register("riverexec_test.blobMake", func(_ context.Context, n int) ([]byte, error) { return make([]byte, n), nil })
