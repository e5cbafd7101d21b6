// Package shutdown holds the wait at the end of every execkit executor's
// Shutdown: for the executor to finish, or for the caller's ctx to end.
package shutdown

import "context"

// Wait blocks until done is closed or ctx ends. It returns nil when done is
// closed, also when ctx has ended by then; otherwise it calls giveUp (when
// not nil: it cancels the tasks' contexts) and returns ctx.Err().
func Wait(ctx context.Context, done <-chan struct{}, giveUp func()) error {
	select {
	case <-done:
		return nil
	default:
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	select {
	case <-done: // finished as ctx ended
		return nil
	default:
		if giveUp != nil {
			giveUp()
		}
		return ctx.Err()
	}
}
