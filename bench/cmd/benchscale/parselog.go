package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// entryRE is the start of a server log entry with the usual prefixes
// (Debian's log_line_prefix '%m [%p] %q%u@%d '): time, [pid], then the rest
// up to the severity.
var entryRE = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[(\d+)\] (.*?)(LOG|DETAIL|ERROR|STATEMENT|WARNING|HINT|CONTEXT|FATAL|NOTICE):  (.*)$`)

// durationRE is what log_min_duration_statement logs: an executed
// statement (extended protocol: "execute <name>") or a simple query.
var durationRE = regexp.MustCompile(`(?s)^duration: [0-9.]+ ms  (?:execute [^:]*|statement): (.*)$`)

type entry struct {
	pid, prefix, severity, msg string
}

// parseLog returns the distinct statements that who (ROLE@DB, as %u@%d
// shows them) executed, in first-seen order, with the parameters of their
// first execution (the DETAIL entry that follows in the same process).
func parseLog(r io.Reader, who string) ([]*Statement, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var entries []*entry
	var last *entry
	for sc.Scan() {
		line := sc.Text()
		if m := entryRE.FindStringSubmatch(line); m != nil {
			last = &entry{pid: m[1], prefix: m[2], severity: m[3], msg: m[4]}
			entries = append(entries, last)
			continue
		}
		if last != nil && strings.HasPrefix(line, "\t") {
			last.msg += "\n" + line[1:]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var out []*Statement
	byText := map[string]*Statement{}
	pending := map[string]*Statement{} // pid -> statement awaiting its parameters
	for _, e := range entries {
		if !strings.Contains(" "+e.prefix, " "+who+" ") {
			continue
		}
		switch e.severity {
		case "LOG":
			delete(pending, e.pid)
			m := durationRE.FindStringSubmatch(e.msg)
			if m == nil {
				continue
			}
			text := strings.TrimSpace(m[1])
			if st := byText[text]; st != nil {
				st.Executions++
				continue
			}
			st := &Statement{SQL: text, Executions: 1}
			byText[text] = st
			out = append(out, st)
			pending[e.pid] = st
		case "DETAIL":
			st := pending[e.pid]
			delete(pending, e.pid)
			if st == nil || !strings.HasPrefix(e.msg, "parameters: ") {
				continue
			}
			params, err := parseParams(strings.TrimPrefix(e.msg, "parameters: "))
			if err != nil {
				return nil, fmt.Errorf("%w in %q", err, short(e.msg, 200))
			}
			st.Params = params
		}
	}
	return out, nil
}

// parseParams parses "$1 = 'a', $2 = NULL, $3 = 'it”s'".
func parseParams(s string) ([]*string, error) {
	var out []*string
	for i := 1; s != ""; i++ {
		head := fmt.Sprintf("$%d = ", i)
		if !strings.HasPrefix(s, head) {
			return nil, fmt.Errorf("parameters: want %q", head)
		}
		s = s[len(head):]
		if rest, ok := strings.CutPrefix(s, "NULL"); ok {
			out = append(out, nil)
			s = rest
		} else if strings.HasPrefix(s, "'") {
			var sb strings.Builder
			j := 1
			for ; j < len(s); j++ {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						sb.WriteByte('\'')
						j++
						continue
					}
					break
				}
				sb.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("parameters: unterminated $%d", i)
			}
			v := sb.String()
			out = append(out, &v)
			s = s[j+1:]
		} else {
			return nil, fmt.Errorf("parameters: $%d is neither NULL nor quoted", i)
		}
		s = strings.TrimPrefix(s, ", ")
	}
	return out, nil
}
