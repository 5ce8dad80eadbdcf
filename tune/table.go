package tune

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/trnsim/trnsim/kernels"
)

// TableVersion is the version of the tuned-file format Table reads and
// writes.
const TableVersion = 1

// Entry is one tuned configuration: on Target, the workload Shape (its
// tunable parameters at their defaults, as `variant=best` runs it) runs as
// Tuned.
type Entry struct {
	Target string `json:"target"`
	Shape  string `json:"shape"`
	Tuned  string `json:"tuned"`
	// TimeUs and DefaultTimeUs are the tuned and default plans' simulated
	// times when the file was written (information; never read back into
	// a result).
	TimeUs        float64 `json:"time_us"`
	DefaultTimeUs float64 `json:"default_time_us"`
}

// file is the JSON form of a Table.
type file struct {
	Version int     `json:"trnsim_tuned"`
	Entries []Entry `json:"entries"`
}

// Table holds tuned configurations by target and shape. The zero value
// (and nil) holds none.
type Table struct {
	entries []Entry
	tuned   map[string]kernels.Params // target + "\x00" + shape
}

// ShapeOf returns the key a workload is found under: its canonical spec
// with every tunable parameter at its default.
func ShapeOf(p kernels.Params) (string, error) {
	q := p
	for _, d := range p.Kernel.Tunables() {
		var err error
		if q, err = q.With(d.Name, d.Default); err != nil {
			return "", err
		}
	}
	return q.String(), nil
}

// atDefaults reports whether every tunable parameter of p is at its
// default: only such a workload (what `variant=best` names) is replaced
// by its tuned configuration; one that names its tiles runs as named.
func atDefaults(p kernels.Params) bool {
	for _, d := range p.Kernel.Tunables() {
		if p.Str(d.Name) != d.Default {
			return false
		}
	}
	return true
}

// Add records that workload shape (any tunable values) runs as tuned on
// target, replacing an earlier entry for the same target and shape.
func (t *Table) Add(target string, tuned kernels.Params, timeUs, defaultUs float64) error {
	shape, err := ShapeOf(tuned)
	if err != nil {
		return err
	}
	e := Entry{Target: target, Shape: shape, Tuned: tuned.String(), TimeUs: timeUs, DefaultTimeUs: defaultUs}
	if t.tuned == nil {
		t.tuned = map[string]kernels.Params{}
	}
	key := target + "\x00" + shape
	if _, ok := t.tuned[key]; ok {
		i := slices.IndexFunc(t.entries, func(x Entry) bool { return x.Target == target && x.Shape == shape })
		t.entries[i] = e
	} else {
		t.entries = append(t.entries, e)
	}
	t.tuned[key] = tuned
	return nil
}

// Len is the number of entries.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.entries)
}

// Lookup returns the tuned configuration of workload p on target, when p
// leaves its tunables at their defaults and the table holds its shape.
func (t *Table) Lookup(target string, p kernels.Params) (kernels.Params, bool) {
	if t == nil || len(t.tuned) == 0 || p.Kernel == nil || len(p.Kernel.Tunables()) == 0 || !atDefaults(p) {
		return kernels.Params{}, false
	}
	q, ok := t.tuned[target+"\x00"+p.String()]
	return q, ok
}

// Write writes the table as indented JSON, entries sorted by target and
// shape.
func (t *Table) Write(w io.Writer) error {
	f := file{Version: TableVersion, Entries: slices.Clone(t.entries)}
	slices.SortFunc(f.Entries, func(a, b Entry) int {
		if c := strings.Compare(a.Target, b.Target); c != 0 {
			return c
		}
		return strings.Compare(a.Shape, b.Shape)
	})
	if f.Entries == nil {
		f.Entries = []Entry{}
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// TableError is a tuned file that cannot be used: what is wrong and, for
// an entry, its index (from 0; -1 for the file as a whole).
type TableError struct {
	Entry int
	Msg   string
}

func (e *TableError) Error() string {
	if e.Entry < 0 {
		return "tuned file: " + e.Msg
	}
	return fmt.Sprintf("tuned file: entry %d: %s", e.Entry, e.Msg)
}

// ReadTable reads a tuned file written by Write, against the kernels of
// reg. It refuses (a *TableError) unknown fields, another version, a
// workload that does not parse, a tuned configuration of another kernel or
// shape than its entry's, a shape whose tunables are not at their
// defaults, and two entries for one target and shape. Target names are
// not checked here (the caller knows its targets).
func ReadTable(r io.Reader, reg *kernels.Registry) (*Table, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, &TableError{-1, fmt.Sprintf("not a tuned file: %v", err)}
	}
	if dec.More() {
		return nil, &TableError{-1, "trailing data after the JSON object"}
	}
	if f.Version != TableVersion {
		return nil, &TableError{-1, fmt.Sprintf("trnsim_tuned version %d, want %d", f.Version, TableVersion)}
	}
	t := &Table{}
	for i, e := range f.Entries {
		if e.Target == "" {
			return nil, &TableError{i, "empty target"}
		}
		shape, err := reg.Parse(e.Shape)
		if err != nil {
			return nil, &TableError{i, fmt.Sprintf("shape: %v", err)}
		}
		tuned, err := reg.Parse(e.Tuned)
		if err != nil {
			return nil, &TableError{i, fmt.Sprintf("tuned: %v", err)}
		}
		if !atDefaults(shape) || len(shape.Kernel.Tunables()) == 0 {
			return nil, &TableError{i, fmt.Sprintf("shape %s: want a kernel with tunables, each at its default", e.Shape)}
		}
		got, err := ShapeOf(tuned)
		if err != nil {
			return nil, &TableError{i, fmt.Sprintf("tuned: %v", err)}
		}
		if got != shape.String() {
			return nil, &TableError{i, fmt.Sprintf("tuned %s is not a configuration of shape %s", e.Tuned, e.Shape)}
		}
		if _, dup := t.tuned[e.Target+"\x00"+shape.String()]; dup {
			return nil, &TableError{i, fmt.Sprintf("second entry for target %s and shape %s", e.Target, e.Shape)}
		}
		if err := t.Add(e.Target, tuned, e.TimeUs, e.DefaultTimeUs); err != nil {
			return nil, &TableError{i, err.Error()}
		}
	}
	return t, nil
}

// Targets returns the distinct targets the table names, sorted.
func (t *Table) Targets() []string {
	var ts []string
	if t == nil {
		return nil
	}
	for _, e := range t.entries {
		if !slices.Contains(ts, e.Target) {
			ts = append(ts, e.Target)
		}
	}
	slices.Sort(ts)
	return ts
}
