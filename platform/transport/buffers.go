package transport

import (
	"io"
	"sync"
)

// buffers hold the bodies being decoded, a request's on the server and an
// answer's on the client: the decoder copies out what it keeps, so one
// buffer serves call after call instead of a new one (and its growth)
// each.
var buffers = sync.Pool{New: func() any { return new(buffer) }}

type buffer struct{ b []byte }

// maxPooled is the largest buffer put back: a rare large body should not
// keep its memory for the small ones.
const maxPooled = 64 << 10

func getBuffer() *buffer { return buffers.Get().(*buffer) }

func putBuffer(b *buffer) {
	if cap(b.b) <= maxPooled {
		b.b = b.b[:0]
		buffers.Put(b)
	}
}

// readFrom reads r into b until EOF, or until limit bytes (limit < 0: no
// limit). A known size (a Content-Length up to MaxBodyBytes) is made room
// for at once, so a large body is not copied again and again as the
// buffer grows.
func (b *buffer) readFrom(r io.Reader, size, limit int64) error {
	var err error
	b.b, err = appendRead(b.b[:0], r, size, limit)
	return err
}

func appendRead(buf []byte, r io.Reader, size, limit int64) ([]byte, error) {
	if size > 0 && size <= MaxBodyBytes && int(size) >= cap(buf) {
		buf = make([]byte, 0, size+1) // +1: reaching EOF needs no growth
	}
	for limit < 0 || int64(len(buf)) < limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow, as append does
		}
		end := cap(buf)
		if limit >= 0 {
			end = int(min(int64(end), limit))
		}
		n, err := r.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}
