package live

import (
	"fmt"
	"strconv"
	"strings"

	"entgo.io/contrib/entgql"
)

// cursorPrefix marks the cursors of the event stream, so a cursor of another
// connection (ordered by something else) is refused rather than misread.
const cursorPrefix = "seq:"

// Cursor is the cursor of an event in the stream: its ID and its seq.
func Cursor(ev *Event) entgql.Cursor[int] {
	return entgql.Cursor[int]{ID: ev.row.ID, Value: cursorPrefix + strconv.FormatInt(ev.Seq, 10)}
}

// ParseCursor returns the seq of a cursor made by Cursor.
func ParseCursor(c entgql.Cursor[int]) (int64, error) {
	s, ok := c.Value.(string)
	if !ok || !strings.HasPrefix(s, cursorPrefix) {
		return 0, fmt.Errorf("not a cursor of shipmentEvents: use the cursor of the last edge it sent")
	}
	seq, err := strconv.ParseInt(s[len(cursorPrefix):], 10, 64)
	if err != nil || seq < 0 {
		return 0, fmt.Errorf("not a cursor of shipmentEvents: use the cursor of the last edge it sent")
	}
	return seq, nil
}
