package main

import (
	"fmt"
	"slices"
	"strings"
)

// A Problem is one thing wrong in the deploy tree, printed as one line:
// "file: object: message" (the object is omitted for whole-file problems).
type Problem struct {
	File    string // path of the file, relative to the repository root
	Object  string // e.g. "Deployment shipmentapp/shipmentapp", or a compose service
	Message string
	// Via names the kustomizations whose build had the problem when the file
	// is not theirs (a base's manifest patched by an overlay).
	Via string
}

func (p Problem) String() string {
	msg := oneLine(p.Message)
	if p.Via != "" {
		msg += " (as built by " + p.Via + ")"
	}
	if p.Object == "" {
		return fmt.Sprintf("%s: %s", p.File, msg)
	}
	return fmt.Sprintf("%s: %s: %s", p.File, p.Object, msg)
}

// oneLine joins the lines of a multi-line error (YAML's, kustomize's) with
// "; ", so that each problem stays one line.
func oneLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, strings.TrimSuffix(l, ":"))
		}
	}
	return strings.Join(out, "; ")
}

// problems collects Problems in one place for a file.
type problems struct {
	list []Problem
}

func (ps *problems) add(file, object, format string, args ...any) {
	ps.list = append(ps.list, Problem{File: file, Object: object, Message: fmt.Sprintf(format, args...)})
}

// sortedUnique orders problems by file, object and message and merges
// duplicates: a base's problem is found again in every overlay's build, and
// is then reported once, without Via; a problem only some overlays have is
// reported once with all of them in Via.
func sortedUnique(ps []Problem) []Problem {
	type key struct{ file, object, msg string }
	direct := map[key]bool{}
	via := map[key][]string{}
	for _, p := range ps {
		k := key{p.File, p.Object, p.Message}
		if p.Via == "" {
			direct[k] = true
		} else {
			via[k] = append(via[k], p.Via)
		}
	}
	var out []Problem
	for _, p := range ps {
		k := key{p.File, p.Object, p.Message}
		switch {
		case p.Via == "":
		case direct[k]:
			continue
		default:
			vs := via[k]
			slices.Sort(vs)
			p.Via = strings.Join(slices.Compact(vs), ", ")
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Problem) int {
		return strings.Compare(a.String(), b.String())
	})
	return slices.Compact(out)
}
