package leaderboard

import (
	"math/rand/v2"
	"testing"
)

// FuzzCommands interprets the input as a seed and stream shape, runs the
// command stream on a board and the model, and requires agreement.
func FuzzCommands(f *testing.F) {
	f.Add(uint64(1), uint16(200), uint8(5), false)
	f.Add(uint64(2), uint16(2000), uint8(40), true)
	f.Add(uint64(3), uint16(500), uint8(1), false)
	f.Fuzz(func(t *testing.T, seed uint64, steps uint16, pool uint8, arrival bool) {
		r := rand.New(rand.NewPCG(seed, uint64(steps)))
		runStream(t, r, arrival, int(steps)%3000, int(pool)+1)
	})
}

// FuzzBytes drives a board with a raw byte stream: every 4 bytes are one
// command (op, member, score index, flags), checked against the model.
func FuzzBytes(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03\x01\x01\x05\x00\x02\x01\x00\x00\x0a\x01\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := New()
		m := &model{}
		var dst []Entry
		for i := 0; i+4 <= len(data) && i < 4*5000; i += 4 {
			op, mem, sc, fl := data[i], string(rune('a'+data[i+1]%8)), testScores[int(data[i+2])%len(testScores)], AddFlag(data[i+3])
			switch op % 4 {
			case 0:
				got, gerr := b.Add(mem, sc, fl)
				want, werr := m.add(mem, sc, fl)
				if got != want || (gerr == nil) != (werr == nil) {
					t.Fatalf("Add(%q, %v, %b) = %v, %v; model %v, %v", mem, sc, fl, got, gerr, want, werr)
				}
			case 1:
				d := testDeltas[int(data[i+2])%len(testDeltas)]
				got, gerr := b.Incr(mem, d)
				want, werr := m.incr(mem, d)
				if (gerr == nil) != (werr == nil) || werr == nil && !sameScore(got, want) {
					t.Fatalf("Incr(%q, %v) = %v, %v; model %v, %v", mem, d, got, gerr, want, werr)
				}
			case 2:
				if i := m.find(mem); i >= 0 {
					m.items = append(m.items[:i], m.items[i+1:]...)
				}
				b.Remove(mem)
			default:
				start, stop := int(int8(data[i+2])), int(int8(data[i+3]))
				dst = b.Range(start, stop, dst[:0])
				if err := sameEntries(dst, m.rangeRanks(start, stop)); err != nil {
					t.Fatalf("Range(%d, %d): %v", start, stop, err)
				}
			}
		}
		if err := compareAll(b, m); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzBatches runs random streams of AddBatch, IncrBatch and Remove on a
// batch-driven board, a board given the same updates one call at a time,
// and the model, and requires all three to agree.
func FuzzBatches(f *testing.F) {
	f.Add(uint64(1), uint16(100), uint8(5), false)
	f.Add(uint64(2), uint16(300), uint8(40), true)
	f.Add(uint64(3), uint16(200), uint8(1), false)
	f.Fuzz(func(t *testing.T, seed uint64, steps uint16, pool uint8, arrival bool) {
		if seed%2 == 0 {
			warmSmall(t)
		}
		r := rand.New(rand.NewPCG(seed, uint64(steps)))
		runBatchStream(t, r, arrival, int(steps)%500, int(pool)+1)
	})
}
