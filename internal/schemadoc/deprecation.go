package schemadoc

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// removalPattern finds the removal date a deprecation reason promises. The
// schema check (scripts/schemacheck/changelog.js) reads the same form.
var removalPattern = regexp.MustCompile(`\bRemoval: (\d{4}-\d{2}-\d{2})\b`)

// minReason is the shortest text a deprecation reason needs beside its
// removal date to say what replaces the element, or why nothing does.
const minReason = 12

// RemovalDate is the date reason promises the deprecated element leaves
// ("Removal: 2027-03-01"), false when it names none or an impossible date.
func RemovalDate(reason string) (time.Time, bool) {
	m := removalPattern.FindStringSubmatch(reason)
	if m == nil {
		return time.Time{}, false
	}
	d, err := time.Parse(time.DateOnly, m[1])
	return d, err == nil
}

// DeprecationProblems lists, sorted, every @deprecated of s's public types
// whose reason does not say what clients use instead (or why nothing
// replaces it) and when the element leaves, in the form "Removal:
// YYYY-MM-DD". How far away that date must be is the schema check's rule
// (make schema-check), which knows when the deprecation was released.
func DeprecationProblems(s *ast.Schema) []string {
	var out []string
	check := func(name string, ds ast.DirectiveList) {
		d := ds.ForName("deprecated")
		if d == nil {
			return
		}
		arg := d.Arguments.ForName("reason")
		if arg == nil || arg.Value == nil {
			out = append(out, name+": @deprecated without a reason: say what to use instead and end with \"Removal: YYYY-MM-DD\"")
			return
		}
		reason := arg.Value.Raw
		if _, ok := RemovalDate(reason); !ok {
			out = append(out, fmt.Sprintf("%s: @deprecated(reason: %q) names no removal date: end it with \"Removal: YYYY-MM-DD\"", name, reason))
		}
		if text := strings.TrimSpace(removalPattern.ReplaceAllString(reason, "")); len(text) < minReason || strings.EqualFold(strings.TrimSuffix(text, "."), "No longer supported") {
			out = append(out, fmt.Sprintf("%s: @deprecated(reason: %q) does not say what to use instead, or why nothing replaces it", name, reason))
		}
	}
	for _, def := range s.Types {
		if !public(def) {
			continue
		}
		for _, f := range def.Fields {
			check(def.Name+"."+f.Name, f.Directives)
			for _, a := range f.Arguments {
				check(def.Name+"."+f.Name+"("+a.Name+")", a.Directives)
			}
		}
		for _, v := range def.EnumValues {
			check(def.Name+"."+v.Name, v.Directives)
		}
	}
	slices.Sort(out)
	return out
}
