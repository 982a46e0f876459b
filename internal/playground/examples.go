package playground

import (
	"bytes"
	_ "embed" // examples.json
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Example is one of the README's example queries, opened as a playground tab.
type Example struct {
	// Query is the GraphQL document, as the README shows it.
	Query string `json:"query"`
	// Variables is the JSON of its variables ("" when it has none).
	Variables string `json:"variables,omitempty"`
}

// ExamplesSection is the README heading whose graphql blocks are the tabs.
const ExamplesSection = "### Example queries"

// examples.json is generated from the README by ExamplesFromMarkdown: see
// TestExamplesAreTheREADMEs (go test ./internal/playground -update).
//
//go:embed examples.json
var examplesJSON []byte

// Examples returns the tabs the playground opens with: the README's
// example queries (ExamplesSection), in order.
func Examples() ([]Example, error) {
	var ex []Example
	if err := json.Unmarshal(examplesJSON, &ex); err != nil {
		return nil, fmt.Errorf("playground: examples.json: %w", err)
	}
	return ex, nil
}

var (
	fenceRe     = regexp.MustCompile("(?ms)^```graphql\\n(.*?)^```\\n")
	variablesRe = regexp.MustCompile("\\(variables: `([^`]*)`\\)")
)

// ExamplesFromMarkdown returns the graphql blocks of md's ExamplesSection
// (up to the next heading of its level or above), each with the variables
// the prose after it gives as "(variables: `{…}`)", before the next block.
func ExamplesFromMarkdown(md []byte) ([]Example, error) {
	text := "\n" + string(bytes.ReplaceAll(md, []byte("\r\n"), []byte("\n")))
	start := strings.Index(text, "\n"+ExamplesSection)
	if start < 0 {
		return nil, fmt.Errorf("playground: no %q section", ExamplesSection)
	}
	section := text[start+1:]
	if nl := strings.IndexByte(section, '\n'); nl >= 0 {
		section = section[nl+1:]
	}
	if end := regexp.MustCompile(`(?m)^#{1,3} `).FindStringIndex(section); end != nil {
		section = section[:end[0]]
	}
	blocks := fenceRe.FindAllStringSubmatchIndex(section, -1)
	if len(blocks) == 0 {
		return nil, errors.New("playground: the examples section has no graphql block")
	}
	out := make([]Example, 0, len(blocks))
	for i, b := range blocks {
		ex := Example{Query: section[b[2]:b[3]]}
		after := section[b[1]:]
		if i+1 < len(blocks) {
			after = section[b[1]:blocks[i+1][0]]
		}
		if m := variablesRe.FindStringSubmatch(after); m != nil {
			if !json.Valid([]byte(m[1])) {
				return nil, fmt.Errorf("playground: the variables of example %d are not JSON: %s", i+1, m[1])
			}
			ex.Variables = m[1]
		}
		out = append(out, ex)
	}
	return out, nil
}
