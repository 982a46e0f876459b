package upload

import (
	"encoding/json"
	"testing"
)

func TestSetPath(t *testing.T) {
	vars := func() map[string]any {
		var v map[string]any
		_ = json.Unmarshal([]byte(`{"file":null,"kind":"LABEL","files":[{"file":null},{"file":"x"}],"deep":{"list":[null]}}`), &v)
		return v
	}
	st := newStream()
	for _, c := range []struct {
		path string
		ok   bool
	}{
		{"variables.file", true},
		{"variables.files.0.file", true},
		{"variables.deep.list.0", true},
		{"variables.kind", false},         // not null
		{"variables.files.1.file", false}, // not null
		{"variables.files.2.file", false}, // out of range
		{"variables.files.-1.file", false},
		{"variables.files.x.file", false},
		{"variables.missing", false},
		{"variables.missing.deeper", false},
		{"variables.kind.x", false}, // inside a string
		{"variables", false},
		{"query", false},
		{"", false},
	} {
		v := vars()
		err := setPath(v, c.path, st.add("k"))
		if (err == nil) != c.ok {
			t.Errorf("setPath(%q) = %v, want ok=%v", c.path, err, c.ok)
		}
	}
}

func TestUnmarshalUpload(t *testing.T) {
	if _, err := UnmarshalUpload("JVBERi0="); err == nil {
		t.Error("an inline string was accepted as an Upload")
	}
	u := newStream().add("0")
	if got, err := UnmarshalUpload(u); err != nil || got.Key() != "0" {
		t.Errorf("UnmarshalUpload(Upload) = %v, %v", got, err)
	}
}
