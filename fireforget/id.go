package fireforget

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
)

// ErrMalformedID is wrapped by the error of [ParseID] (and so makes
// [Registry.Handler] answer 400) for a string that is not 32 lowercase hex
// digits.
var ErrMalformedID = errors.New("fireforget: malformed job id")

// An ID names a job of a [Registry]: 128 bits from crypto/rand, so an id
// cannot be guessed from another one, and a Registry never issues one twice
// (it draws again on the astronomically rare clash with a live job; a clash
// with an evicted one is as likely as guessing). Its text form is 32
// lowercase hex digits. The zero ID is never issued.
type ID [16]byte

// newID draws a random ID. crypto/rand.Read never fails on the platforms Go
// supports (it crashes the program if the kernel refuses).
func newID() ID {
	var id ID
	for id == (ID{}) {
		_, _ = rand.Read(id[:])
	}
	return id
}

// String returns the 32 lowercase hex digits of id.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// MarshalText returns the text form, for encoding/json and friends.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses the text form; see [ParseID].
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// ParseID parses the text form of an ID: exactly 32 lowercase hex digits.
// Anything else (including the all-zero ID, never issued) is an error
// wrapping [ErrMalformedID].
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*len(id) {
		return ID{}, fmt.Errorf("%w %.40q: want 32 hex digits", ErrMalformedID, s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return ID{}, fmt.Errorf("%w %q: want lowercase hex digits", ErrMalformedID, s)
		}
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil || id == (ID{}) {
		return ID{}, fmt.Errorf("%w %q", ErrMalformedID, s)
	}
	return id, nil
}
