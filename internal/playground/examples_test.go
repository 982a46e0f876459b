package playground_test

import (
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/playground"
)

var update = flag.Bool("update", false, "rewrite examples.json from the README")

// TestExamplesAreTheREADMEs: the playground's tabs are the README's example
// queries, one source of truth. After editing them in the README, run
// go test ./internal/playground -run TestExamplesAreTheREADMEs -update.
func TestExamplesAreTheREADMEs(t *testing.T) {
	md, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := playground.ExamplesFromMarkdown(md)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(want); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("examples.json", []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("examples.json rewritten: rebuild to embed it")
		return
	}
	got, err := playground.Examples()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the playground's tabs are not the README's example queries: run go test ./internal/playground -run TestExamplesAreTheREADMEs -update\nembedded: %+v\nREADME:   %+v", got, want)
	}
	if len(got) < 3 {
		t.Errorf("%d example tabs, want the README's (at least 3)", len(got))
	}
}

func TestExamplesFromMarkdown(t *testing.T) {
	const fence = "```"
	for _, tc := range []struct {
		name    string
		md      string
		want    []playground.Example
		wantErr string
	}{
		{
			name: "blocks and variables, up to the next heading",
			md: "# T\n\n" + playground.ExamplesSection + " (paste them)\n\nOne:\n\n" + fence + "graphql\nquery A { a }\n" + fence + "\n\n" +
				"Two:\n\n" + fence + "graphql\nquery B($id: ID!) {\n  b(id: $id)\n}\n" + fence + "\n\n(variables: `{\"id\": \"x\"}`). More.\n\n" +
				"### Files\n\n" + fence + "graphql\nquery C { c }\n" + fence + "\n",
			want: []playground.Example{
				{Query: "query A { a }\n"},
				{Query: "query B($id: ID!) {\n  b(id: $id)\n}\n", Variables: `{"id": "x"}`},
			},
		},
		{
			name: "other languages are not tabs",
			md:   playground.ExamplesSection + "\n\n" + fence + "sh\ncurl x\n" + fence + "\n" + fence + "graphql\n{ a }\n" + fence + "\n",
			want: []playground.Example{{Query: "{ a }\n"}},
		},
		{
			name:    "no section",
			md:      "# T\n\n" + fence + "graphql\n{ a }\n" + fence + "\n",
			wantErr: "no \"### Example queries\" section",
		},
		{
			name:    "no block",
			md:      playground.ExamplesSection + "\n\nnothing\n\n### Next\n\n" + fence + "graphql\n{ a }\n" + fence + "\n",
			wantErr: "no graphql block",
		},
		{
			name:    "variables that are not JSON",
			md:      playground.ExamplesSection + "\n\n" + fence + "graphql\n{ a }\n" + fence + "\n(variables: `{id: 1}`)\n",
			wantErr: "not JSON",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := playground.ExamplesFromMarkdown([]byte(tc.md))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
