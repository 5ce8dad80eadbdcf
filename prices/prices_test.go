package prices

import (
	"strings"
	"testing"
)

// TestBuiltin: the embedded file parses, every row has its basis, date and
// a docs/systems.md source, and no (instance, basis) pair repeats.
func TestBuiltin(t *testing.T) {
	rows, err := Parse(pricesCSV)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 10 {
		t.Fatalf("%d rows", len(rows))
	}
	seen := map[[2]string]bool{}
	for _, r := range rows {
		if !strings.HasPrefix(r.Source, "docs/systems.md D4") {
			t.Errorf("%s %s: source %q does not cite docs/systems.md D4", r.Instance, r.Basis, r.Source)
		}
		k := [2]string{r.Instance, r.Basis}
		if seen[k] {
			t.Errorf("%s %s twice", r.Instance, r.Basis)
		}
		seen[k] = true
	}
	for _, tt := range []struct {
		instance, basis string
		want            float64
	}{
		{"trn1.32xlarge", "", 21.50},
		{"p5.48xlarge", "capacity-block", 39.33},
		{"trn2.48xlarge", "", 35.76},
	} {
		if r, ok := Find(tt.instance, tt.basis); !ok || r.USDPerHour != tt.want {
			t.Errorf("Find(%s, %q) = %+v, %v; want %v", tt.instance, tt.basis, r, ok, tt.want)
		}
	}
	if _, ok := Find("p5.48xlarge", "spot"); ok {
		t.Error("p5.48xlarge spot found; the file has none")
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "bad header"},
		{"a,b\n", "bad header"},
		{Header + "\nx,on-demand,-1,2026,r,s\n", "want a positive number"},
		{Header + "\nx,on-demand,NaN,2026,r,s\n", "want a positive number"},
		{Header + "\nx,,1,2026,r,s\n", "required"},
		{Header + "\nx,on-demand,1\n", "wrong number of fields"},
	} {
		if _, err := Parse(tt.in); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q): %v, want %q", tt.in, err, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(pricesCSV)
	f.Add(Header + "\nx,on-demand,1,2026,r,s\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := Parse(in)
		if err != nil {
			return
		}
		for _, r := range rows {
			if !(r.USDPerHour > 0) {
				t.Fatalf("row %+v accepted", r)
			}
		}
	})
}
