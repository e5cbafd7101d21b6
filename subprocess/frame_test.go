package subprocess

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// frames encodes a sequence of frames as the two sides write them.
func frames(t testing.TB) []byte {
	t.Helper()
	var b []byte
	add := func(typ byte, id uint64, body func([]byte) []byte) {
		var err error
		if b, err = appendFrame(b, typ, id, body); err != nil {
			t.Fatal(err)
		}
	}
	add(frameHello, 0, hello{version: protocolVersion, pid: 1234, hash: "0123456789abcdef"}.append)
	add(frameInit, 0, request{name: "init", args: [][]byte{[]byte("arg")}}.append)
	add(frameCall, 1, request{name: "double", args: [][]byte{{3, 4, 0, 2}}}.append)
	add(frameCall, 2, request{name: "chunk", args: [][]byte{{1}, {}, {2, 2}}}.append)
	add(frameCall, 3, request{name: "limited", deadline: 1_700_000_000_123_456_789, limit: int64(250 * time.Millisecond), args: [][]byte{{7}}}.append)
	add(frameBatch, 4, request{name: "chunk", args: [][]byte{{2, 3, 1, 2, 3}}}.append)
	add(frameCancel, 2, nil)
	add(frameExpire, 3, nil)
	add(frameRevoke, 3, nil)
	add(frameRevoked, 3, nil)
	add(frameKept, 3, nil)
	add(frameResult, 1, func(b []byte) []byte {
		return appendOutcomes(b, []outcome{{kind: kindOK, data: []byte{9}}}, policyCounts{retries: 2, timeouts: 1})
	})
	add(frameMore, 5, func(b []byte) []byte { return append(b, 1, 0, 3) })
	add(frameResult, 2, func(b []byte) []byte {
		return appendOutcomes(b, []outcome{
			{kind: kindError, data: []byte("no luck")},
			{kind: kindPanic, data: []byte("boom"), stack: []byte("goroutine 1 [running]:")},
			{kind: kindCanceled, data: []byte("context canceled")},
		}, policyCounts{})
	})
	return b
}

func TestFrameRoundTrip(t *testing.T) {
	fr := newFrameReader(bytes.NewReader(frames(t)))
	want := []struct {
		typ byte
		id  uint64
		msg any
	}{
		{frameHello, 0, hello{version: protocolVersion, pid: 1234, hash: "0123456789abcdef"}},
		{frameInit, 0, request{name: "init", args: [][]byte{[]byte("arg")}}},
		{frameCall, 1, request{name: "double", args: [][]byte{{3, 4, 0, 2}}}},
		{frameCall, 2, request{name: "chunk", args: [][]byte{{1}, {}, {2, 2}}}},
		{frameCall, 3, request{name: "limited", deadline: 1_700_000_000_123_456_789, limit: int64(250 * time.Millisecond), args: [][]byte{{7}}}},
		{frameBatch, 4, request{name: "chunk", args: [][]byte{{2, 3, 1, 2, 3}}}},
		{frameCancel, 2, nil},
		{frameExpire, 3, nil},
		{frameRevoke, 3, nil},
		{frameRevoked, 3, nil},
		{frameKept, 3, nil},
		{frameResult, 1, resultWithCounts{[]outcome{{kind: kindOK, data: []byte{9}}}, policyCounts{retries: 2, timeouts: 1}}},
		{frameMore, 5, []byte{1, 0, 3}},
		{frameResult, 2, []outcome{
			{kind: kindError, data: []byte("no luck")},
			{kind: kindPanic, data: []byte("boom"), stack: []byte("goroutine 1 [running]:")},
			{kind: kindCanceled, data: []byte("context canceled")},
		}},
	}
	for i, w := range want {
		typ, id, payload, err := fr.read()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		msg, err := decodeFrame(typ, payload)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if typ != w.typ || id != w.id || !reflect.DeepEqual(msg, w.msg) {
			t.Errorf("frame %d: got %d %d %#v; want %d %d %#v", i, typ, id, msg, w.typ, w.id, w.msg)
		}
	}
	if _, _, _, err := fr.read(); err != io.EOF {
		t.Errorf("after the last frame: got %v; want io.EOF", err)
	}
}

func TestFrameErrors(t *testing.T) {
	valid := frames(t)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"truncated header", valid[:5], "truncated frame header"},
		{"truncated payload", valid[:20], "truncated frame"},
		{"too long", []byte{0x40, 0, 0, 0, frameCall, 0, 0, 0, 0, 0, 0, 0, 1}, "frame length 1073741824 out of range"},
		{"too short", []byte{0, 0, 0, 3, frameCall, 0, 0, 0, 0, 0, 0, 0, 0}, "frame length 3 out of range"},
		{"unknown type", []byte{0, 0, 0, 9, 77, 0, 0, 0, 0, 0, 0, 0, 1}, "unknown frame type 77"},
		{"zero type", []byte{0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "unknown frame type 0"},
		{"past the last type", []byte{0, 0, 0, 9, frameLast + 1, 0, 0, 0, 0, 0, 0, 0, 1}, fmt.Sprintf("unknown frame type %d", frameLast+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := newFrameReader(bytes.NewReader(tt.in)).read()
			if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want ErrProtocol: %q", err, tt.want)
			}
		})
	}
}

func TestPayloadErrors(t *testing.T) {
	tests := []struct {
		name    string
		typ     byte
		payload []byte
		want    string
	}{
		{"hello varint", frameHello, []byte{0x80}, "bad varint"},
		{"hello trailing", frameHello, []byte{1, 2, 0, 7}, "trailing bytes"},
		{"request length", frameCall, []byte{5, 'a'}, "bad length"},
		{"request count", frameCall, []byte{1, 'a', 0, 0, 100, 0}, "bad count"},
		{"huge count", frameCall, []byte{1, 'a', 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "bad count"},
		{"outcome kind", frameResult, []byte{1, 99, 0}, "outcome kind 99"},
		{"outcome missing", frameResult, []byte{2, 0, 0}, "bad byte"},
		{"policy counts missing", frameResult, []byte{1, 0, 0}, "bad varint"},
		{"policy counts huge", frameResult, []byte{1, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 32, 0}, "bad policy counts 1099511627776, 0"},
		{"cancel payload", frameCancel, []byte{1}, "trailing bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeFrame(tt.typ, tt.payload)
			if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want ErrProtocol: %q", err, tt.want)
			}
		})
	}
}

func TestFrameTooLarge(t *testing.T) {
	big := make([]byte, maxFrame)
	b, err := appendFrame([]byte("keep"), frameCall, 1, request{name: "f", args: [][]byte{big}}.append)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "exceeds the 64 MiB (67108864-byte) frame limit") {
		t.Errorf("got %v; want the frame limit", err)
	}
	if string(b) != "keep" {
		t.Errorf("got %d bytes; want the buffer unchanged", len(b))
	}
}

func TestTail(t *testing.T) {
	tl := &tail{max: 8}
	for _, s := range []string{"abc", "defgh", "ijklmnopqrstuvwxyz", "12", "345678901"} {
		tl.Write([]byte(s))
	}
	if got := string(tl.bytes()); got != "45678901" {
		t.Errorf("got %q; want the last 8 bytes %q", got, "45678901")
	}
	if len(tl.buf) > 2*tl.max {
		t.Errorf("holds %d bytes; want at most %d", len(tl.buf), 2*tl.max)
	}
}

// decodeFrame decodes a payload by frame type, the way the two sides do.
func decodeFrame(typ byte, payload []byte) (any, error) {
	switch typ {
	case frameHello:
		return decodeHello(payload)
	case frameInit, frameCall, frameBatch:
		return decodeRequest(payload)
	case frameCancel, frameExpire, frameRevoke, frameRevoked, frameKept:
		d := decoder{p: payload}
		return nil, d.finish("cancel")
	case frameResult:
		outs, counts, err := decodeOutcomes(payload)
		if counts != (policyCounts{}) {
			return resultWithCounts{outs, counts}, err
		}
		return outs, err
	case frameMore:
		return payload, nil
	}
	return nil, errors.New("no such frame type")
}

// FuzzReadFrames feeds arbitrary bytes to the frame reader and the payload
// decoders: they must return frames or errors (io.EOF, ErrProtocol), never
// panic, and whatever decodes must encode back to the same message.
func FuzzReadFrames(f *testing.F) {
	f.Add(frames(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := newFrameReader(bytes.NewReader(data))
		for {
			typ, id, payload, err := fr.read()
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrProtocol) {
					t.Fatalf("got %v; want io.EOF or ErrProtocol", err)
				}
				return
			}
			if len(payload) > maxFrame {
				t.Fatalf("got a payload of %d bytes; want at most %d", len(payload), maxFrame)
			}
			msg, err := decodeFrame(typ, payload)
			if err != nil {
				if !errors.Is(err, ErrProtocol) {
					t.Fatalf("got %v; want ErrProtocol", err)
				}
				continue
			}
			var body func([]byte) []byte
			switch m := msg.(type) {
			case hello:
				body = m.append
			case request:
				body = m.append
			case []outcome:
				body = func(b []byte) []byte { return appendOutcomes(b, m, policyCounts{}) }
			case resultWithCounts:
				body = func(b []byte) []byte { return appendOutcomes(b, m.outs, m.counts) }
			case []byte:
				body = func(b []byte) []byte { return append(b, m...) }
			}
			again, err := appendFrame(nil, typ, id, body)
			if err != nil {
				t.Fatal(err)
			}
			_, _, payload2, err := newFrameReader(bytes.NewReader(again)).read()
			if err != nil {
				t.Fatal(err)
			}
			msg2, err := decodeFrame(typ, payload2)
			if err != nil || !reflect.DeepEqual(msg, msg2) {
				t.Fatalf("re-encoded %#v decodes to %#v, %v", msg, msg2, err)
			}
		}
	})
}

// resultWithCounts is a decoded RESULT whose policy counts are not zero.
type resultWithCounts struct {
	outs   []outcome
	counts policyCounts
}
