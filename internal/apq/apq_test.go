package apq_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/graph/generated"
	"github.com/shipmentapp/shipmentapp/internal/apq"
)

func TestParseManifest(t *testing.T) {
	q := `query A { shipments { totalCount } }`
	apollo := func(ops ...map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"format": "apollo-persisted-query-manifest", "version": 1, "operations": ops})
		return b
	}
	cases := []struct {
		name  string
		data  []byte
		count int // 0: refused
	}{
		{"apollo", apollo(map[string]any{"id": apq.Hash(q), "name": "A", "type": "query", "body": q}), 1},
		{"relay", []byte(`{"abc123": "query A { shipments { totalCount } }", "def456": "query B { customers { totalCount } }"}`), 2},
		{"apollo id is not the hash", apollo(map[string]any{"id": "nope", "name": "A", "body": q}), 0},
		{"apollo unknown format", []byte(`{"format": "other", "version": 1, "operations": []}`), 0},
		{"apollo version 2", []byte(`{"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}`), 0},
		{"apollo no operations", apollo(), 0},
		{"relay value not a string", []byte(`{"abc": 3}`), 0},
		{"relay empty document", []byte(`{"abc": "  "}`), 0},
		{"relay id too long", []byte(`{"` + strings.Repeat("x", 129) + `": "query A { x }"}`), 0},
		{"empty object", []byte(`{}`), 0},
		{"not JSON", []byte(`query A { x }`), 0},
		{"a list", []byte(`["query A { x }"]`), 0},
		{"apollo duplicate", apollo(map[string]any{"id": apq.Hash(q), "body": q}, map[string]any{"id": apq.Hash(q), "body": q}), 0},
	}
	for _, c := range cases {
		docs, err := apq.ParseManifest(c.data)
		if c.count == 0 {
			if err == nil || !errors.Is(err, apq.ErrManifest) {
				t.Errorf("%s: accepted (%v)", c.name, err)
			}
			continue
		}
		if err != nil || len(docs) != c.count {
			t.Errorf("%s: %d docs, %v", c.name, len(docs), err)
		}
	}
}

func TestValidate(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	good := []apq.Document{{ID: "a", Body: `query A { shipments { totalCount } }`}}
	if err := apq.Validate(schema, good); err != nil {
		t.Fatal(err)
	}
	bad := append(good, apq.Document{ID: "b", Body: `query B { nope }`})
	if err := apq.Validate(schema, bad); err == nil || !strings.Contains(err.Error(), "b:") {
		t.Errorf("an invalid document was accepted: %v", err)
	}
}

// FuzzParseManifest: any file is a list of documents or ErrManifest, never a panic.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"abc": "query A { x }"}`))
	f.Add([]byte(`{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": "x", "body": "y"}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := apq.ParseManifest(data)
		if err != nil && !errors.Is(err, apq.ErrManifest) {
			t.Fatalf("error %v is not ErrManifest", err)
		}
		if err == nil && len(docs) == 0 {
			t.Fatal("no error and no documents")
		}
	})
}
