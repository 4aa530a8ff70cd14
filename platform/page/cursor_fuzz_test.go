package page

import (
	"testing"
	"time"
)

// A cursor from a client is decoded without panicking, and one that decodes
// names the same position when encoded again.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(Encode(time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), "0b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11"))
	for _, s := range []string{"", "bogus", "fA", "MjAyNi0wMS0wMlQwMzowNDowNVp8", "||||", "=====", "%00", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		at, id, ok := Decode(c)
		if !ok {
			return
		}
		at2, id2, ok2 := Decode(Encode(at, id))
		if !ok2 || !at2.Equal(at) || id2 != id {
			t.Fatalf("cursor %q decodes to (%v, %s) but re-encodes to (%v, %s, %v)", c, at, id, at2, id2, ok2)
		}
	})
}
