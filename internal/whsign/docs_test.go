package whsign_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsShowTestedExamples checks that docs/WEBHOOKS-VERIFY.md shows the
// two receivers exactly as the tests run them, each as a whole fenced block.
func TestDocsShowTestedExamples(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "WEBHOOKS-VERIFY.md"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ file, fence string }{
		{filepath.Join("testdata", "receiver", "main.go"), "```go\n"},
		{filepath.Join("testdata", "verifier", "receiver.mjs"), "```js\n"},
	}
	for _, tt := range tests {
		code, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(doc), tt.fence+string(code)+"```\n") {
			t.Errorf("docs/WEBHOOKS-VERIFY.md does not show %s as it is: copy the file into its %q block", tt.file, strings.TrimSpace(tt.fence))
		}
	}
}
