package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// report is what a command prints: text for people, or, with -o json, the
// value itself encoded as one JSON document. Its json tags are the
// command's stable machine-readable interface.
type report interface {
	writeText(w io.Writer) error
}

func writeReport(w io.Writer, r report, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(r)
	}
	return r.writeText(w)
}

// table writes aligned columns with text/tabwriter. Errors are sticky and
// reported by flush, so row code stays linear.
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(anySlice(header)...)
	}
	return t
}

func (t *table) row(cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = cell(c)
	}
	fmt.Fprintln(t.tw, strings.Join(parts, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// cell formats a table value: "-" for missing ones.
func cell(v any) string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return "-"
		}
		// A tab or newline inside a value would break the table's columns
		// or rows.
		return strings.NewReplacer("\t", " ", "\n", " ").Replace(x)
	case *int64:
		if x == nil {
			return "-"
		}
		return strconv.FormatInt(*x, 10)
	case []int32:
		return joinIDs(x)
	default:
		return fmt.Sprint(v)
	}
}

func joinIDs(ids []int32) string {
	if len(ids) == 0 {
		return "-"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}

// fields writes "Name:  value" lines aligned like a table.
func fields(w io.Writer, kv ...any) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(tw, "%v:\t%s\n", kv[i], cell(kv[i+1]))
	}
	return tw.Flush()
}

func int64p(v int64) *int64 { return &v }
