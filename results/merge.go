package results

import "fmt"

// Source is a set of rows and the name errors call it (a file name).
type Source struct {
	Name string
	Rows []Row
}

// Merge joins sources — typically the shards of one sweep — into one
// set of rows: the rows of each source in order, sources in the order
// given. All sources hold SchemaVersion rows (ReadCSV reads no other). A
// key (spec, target) present twice, in one source or two, is an error
// naming both places: shards of one sweep never overlap, so a duplicate
// means a shard was given twice or two different sweeps are being mixed.
func Merge(srcs ...Source) ([]Row, error) {
	type place struct {
		src  string
		line int
	}
	n := 0
	for _, s := range srcs {
		n += len(s.Rows)
	}
	seen := make(map[Key]place, n)
	out := make([]Row, 0, n)
	for _, s := range srcs {
		for i := range s.Rows {
			k := KeyOf(&s.Rows[i])
			if p, dup := seen[k]; dup {
				return nil, fmt.Errorf("%s:%d: duplicate row %s (first at %s:%d)", s.Name, rowLine(i), k, p.src, p.line)
			}
			seen[k] = place{s.Name, rowLine(i)}
			out = append(out, s.Rows[i])
		}
	}
	return out, nil
}

// rowLine is the line of the i-th (0-based) row of a CSV file written by
// WriteCSV: one header line, one line per row (cells never hold newlines).
func rowLine(i int) int { return i + 2 }
