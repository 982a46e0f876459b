package app

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzCredential: whatever the Authorization and X-API-Key headers hold, the
// credential is the Bearer token (or, without Authorization, the API key),
// trimmed, and nothing from another scheme.
func FuzzCredential(f *testing.F) {
	for _, s := range [][2]string{
		{"Bearer sa_abc_def", ""},
		{"bearer   sa_abc_def  ", "sa_x_y"},
		{"Basic dXNlcjpwYXNz", "sa_x_y"},
		{"Bearer", "sa_x_y"},
		{"", " sa_x_y "},
		{"Bearer eyJhbGciOiJub25lIn0.e30.", ""},
		{"BEARER\tsa_abc", ""},
		{"Bearer  Bearer sa_abc", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, authorization, apiKey string) {
		r := httptest.NewRequest("POST", "/graphql", nil)
		if authorization != "" {
			r.Header["Authorization"] = []string{authorization}
		}
		if apiKey != "" {
			r.Header["X-Api-Key"] = []string{apiKey}
		}
		got := credential(r)
		if got != strings.TrimSpace(got) {
			t.Fatalf("untrimmed %q", got)
		}
		switch {
		case authorization != "":
			scheme, token, ok := strings.Cut(authorization, " ")
			if got != "" && (!ok || !strings.EqualFold(scheme, "Bearer") || got != strings.TrimSpace(token)) {
				t.Fatalf("Authorization %q gave %q", authorization, got)
			}
		case got != strings.TrimSpace(apiKey):
			t.Fatalf("X-API-Key %q gave %q", apiKey, got)
		}
	})
}
