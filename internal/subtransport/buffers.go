package subtransport

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
)

// connBufferSize is the read and the write buffer of a websocket. net/http
// hands a hijacked connection over with 4 KiB buffers, 8 KiB that an idle
// connection would hold for its whole life; GraphQL messages are mostly a few
// hundred bytes, and larger ones simply take more than one read or write.
const connBufferSize = 1024

// smallBuffers hijacks like the ResponseWriter it wraps, with smaller buffers.
type smallBuffers struct {
	http.ResponseWriter
}

func (s smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(s.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("flush the handshake: %w", err)
	}
	br := bufio.NewReaderSize(conn, connBufferSize)
	if n := brw.Reader.Buffered(); n > 0 { // the client did not wait for the 101
		early, _ := brw.Reader.Peek(n)
		// Into the new buffer, where the websocket library looks for them
		// (it reads the rest from conn directly).
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn), max(connBufferSize, n))
		if _, err := br.Peek(n); err != nil {
			_ = conn.Close()
			return nil, nil, fmt.Errorf("keep the bytes sent early: %w", err)
		}
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, connBufferSize)), nil
}
