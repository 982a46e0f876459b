package files

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/storage"
)

// chunky returns its data in reads of chunk bytes.
type chunky struct {
	data  []byte
	chunk int
}

func (c *chunky) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.chunk, len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// TestMeterLimitIsSticky: a body over the limit whose last read fills the
// store's buffer exactly (io.ReadFull then drops the read's error) is still
// refused, and nothing is stored.
func TestMeterLimitIsSticky(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int{256 << 10, 4096, 1} {
		data := bytes.Repeat([]byte{'x'}, 2*256<<10)
		body := &meter{r: &chunky{data: data, chunk: chunk}, max: 300_000}
		err = st.Put(context.Background(), "files/x", body, storage.Meta{})
		if !errors.Is(err, errTooLarge) {
			t.Fatalf("chunk %d: put of %d bytes with a limit of 300000: %v", chunk, len(data), err)
		}
		if _, _, err := st.Get(context.Background(), "files/x"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("chunk %d: the object was kept: %v", chunk, err)
		}
	}
}
