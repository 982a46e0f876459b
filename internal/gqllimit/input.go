package gqllimit

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// CodeBadUserInput is the code of an input over the input limits: the
// arguments are the client's to fix.
const CodeBadUserInput = "BAD_USER_INPUT"

// Input limits that fit every argument of this schema with room to spare
// (no stored string is longer than 500 characters, no list argument takes
// more than 100 items) and keep hostile inputs away from the databases:
// SQLite refuses expressions nested over 1,000 levels (an "or" of 1,000
// filters is one: Ent chains them) and LIKE patterns over 50,000 bytes,
// PostgreSQL text with NUL characters, and every driver statements with tens
// of thousands of placeholders. With 500 items a list and 10,000 values in
// all, the longest chain of and/or a filter can build is about 520. Without them a filter
// nested 5,000 levels deep, a 100,000-item list or a 10 MiB search string
// reached SQL and came back INTERNAL.
const (
	DefaultMaxInputDepth  = 32
	DefaultMaxListItems   = 500
	DefaultMaxInputValues = 10000
	DefaultMaxStringBytes = 16 << 10
)

// InputLimits bound the argument values of an operation, from its variables
// and the literals of its document; a zero limit is no limit.
type InputLimits struct {
	// MaxDepth bounds the nesting of input objects and lists.
	MaxDepth int
	// MaxListItems bounds the items of any one list.
	MaxListItems int
	// MaxValues bounds the scalar values of all arguments together.
	MaxValues int
	// MaxStringBytes bounds any one string.
	MaxStringBytes int
	// NoNUL refuses strings with a NUL character (which PostgreSQL cannot
	// store or compare, and no field of this API holds).
	NoNUL bool
}

// DefaultInputLimits are the limits the server applies.
var DefaultInputLimits = InputLimits{
	MaxDepth: DefaultMaxInputDepth, MaxListItems: DefaultMaxListItems, MaxValues: DefaultMaxInputValues,
	MaxStringBytes: DefaultMaxStringBytes, NoNUL: true,
}

// inputCheck walks input values, counting them against the limits.
type inputCheck struct {
	l      InputLimits
	values int
}

// CheckInputs refuses an operation whose variables or literal arguments are
// over l, with BAD_USER_INPUT naming the variable or argument.
func (l InputLimits) CheckInputs(oc *graphql.OperationContext) *gqlerror.Error {
	c := inputCheck{l: l}
	names := make([]string, 0, len(oc.Variables))
	for name := range oc.Variables {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if problem := c.value(oc.Variables[name], 0); problem != "" {
			return inputError("variable $%s %s", name, problem)
		}
	}
	if oc.Doc == nil {
		return nil
	}
	// Every selection set of the document once: fragments are walked as
	// definitions, not at each spread.
	var problem, where string
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			if problem != "" {
				return
			}
			switch sel := sel.(type) {
			case *ast.Field:
				for _, arg := range sel.Arguments {
					if problem = c.literal(arg.Value, 0); problem != "" {
						where = fmt.Sprintf("argument %s of %s", arg.Name, sel.Name)
						return
					}
				}
				walk(sel.SelectionSet)
			case *ast.InlineFragment:
				walk(sel.SelectionSet)
			}
		}
	}
	for _, op := range oc.Doc.Operations {
		walk(op.SelectionSet)
	}
	for _, f := range oc.Doc.Fragments {
		walk(f.SelectionSet)
	}
	if problem != "" {
		return inputError("%s %s", where, problem)
	}
	return nil
}

func inputError(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": CodeBadUserInput}
	return err
}

func (c *inputCheck) container(depth, items int) string {
	switch {
	case c.l.MaxDepth > 0 && depth >= c.l.MaxDepth:
		return fmt.Sprintf("is nested more than %d levels deep", c.l.MaxDepth)
	case c.l.MaxListItems > 0 && items > c.l.MaxListItems:
		return fmt.Sprintf("has a list of %d items; the limit is %d", items, c.l.MaxListItems)
	}
	return ""
}

func (c *inputCheck) scalar(s string, isString bool) string {
	c.values++
	switch {
	case c.l.MaxValues > 0 && c.values > c.l.MaxValues:
		return fmt.Sprintf("takes the arguments over %d values", c.l.MaxValues)
	case !isString:
		return ""
	case c.l.MaxStringBytes > 0 && len(s) > c.l.MaxStringBytes:
		return fmt.Sprintf("has a string of %d bytes; the limit is %d", len(s), c.l.MaxStringBytes)
	case c.l.NoNUL && strings.IndexByte(s, 0) >= 0:
		return "has a string with a NUL character"
	}
	return ""
}

// value checks a coerced variable value (JSON-shaped: maps, slices, scalars).
func (c *inputCheck) value(v any, depth int) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return c.scalar(v, true)
	case map[string]any:
		if p := c.container(depth, 0); p != "" {
			return p
		}
		for _, x := range v {
			if p := c.value(x, depth+1); p != "" {
				return p
			}
		}
		return ""
	case []any:
		if p := c.container(depth, len(v)); p != "" {
			return p
		}
		for _, x := range v {
			if p := c.value(x, depth+1); p != "" {
				return p
			}
		}
		return ""
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if p := c.container(depth, rv.Len()); p != "" {
			return p
		}
		for i := range rv.Len() {
			if p := c.value(rv.Index(i).Interface(), depth+1); p != "" {
				return p
			}
		}
		return ""
	case reflect.Map:
		if p := c.container(depth, 0); p != "" {
			return p
		}
		for it := rv.MapRange(); it.Next(); {
			if p := c.value(it.Value().Interface(), depth+1); p != "" {
				return p
			}
		}
		return ""
	case reflect.String:
		return c.scalar(rv.String(), true)
	}
	return c.scalar("", false)
}

// literal checks a value written in the document; variables in it are
// checked with the variables.
func (c *inputCheck) literal(v *ast.Value, depth int) string {
	if v == nil {
		return ""
	}
	switch v.Kind {
	case ast.Variable, ast.NullValue:
		return ""
	case ast.ListValue, ast.ObjectValue:
		items := 0
		if v.Kind == ast.ListValue {
			items = len(v.Children)
		}
		if p := c.container(depth, items); p != "" {
			return p
		}
		for _, child := range v.Children {
			if p := c.literal(child.Value, depth+1); p != "" {
				return p
			}
		}
		return ""
	case ast.StringValue, ast.BlockValue:
		return c.scalar(v.Raw, true)
	}
	return c.scalar("", false)
}
