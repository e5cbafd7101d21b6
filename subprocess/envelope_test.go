package subprocess

import (
	"bytes"
	"encoding/gob"
	"testing"
)

// BenchmarkEnvelope justifies the hand-rolled envelope: one call's frames
// both ways (request encoded and decoded, result encoded and decoded), as
// the pool does them (codec=binary), and with one persistent gob encoder
// and decoder per direction, the other design considered (codec=gob).
func BenchmarkEnvelope(b *testing.B) {
	arg, res := []byte{3, 4, 0, 84}, []byte{3, 4, 0, 168}
	b.Run("codec=binary", func(b *testing.B) {
		req := request{name: "test.double", args: [][]byte{arg}}
		outs := []outcome{{kind: kindOK, data: res}}
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = appendFrame(buf[:0], frameCall, 1, req.append)
			if _, err := decodeRequest(buf[frameHeader:]); err != nil {
				b.Fatal(err)
			}
			buf, _ = appendFrame(buf[:0], frameResult, 1, func(b []byte) []byte { return appendOutcomes(b, outs, policyCounts{}) })
			if _, _, err := decodeOutcomes(buf[frameHeader:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("codec=gob", func(b *testing.B) {
		type gobRequest struct {
			Name string
			Args [][]byte
		}
		type gobOutcome struct {
			Kind        byte
			Data, Stack []byte
		}
		var reqs, results bytes.Buffer
		reqEnc, reqDec := gob.NewEncoder(&reqs), gob.NewDecoder(&reqs)
		resEnc, resDec := gob.NewEncoder(&results), gob.NewDecoder(&results)
		b.ReportAllocs()
		for b.Loop() {
			if err := reqEnc.Encode(gobRequest{Name: "test.double", Args: [][]byte{arg}}); err != nil {
				b.Fatal(err)
			}
			var r gobRequest
			if err := reqDec.Decode(&r); err != nil {
				b.Fatal(err)
			}
			if err := resEnc.Encode([]gobOutcome{{Data: res}}); err != nil {
				b.Fatal(err)
			}
			var o []gobOutcome
			if err := resDec.Decode(&o); err != nil {
				b.Fatal(err)
			}
		}
	})
}
