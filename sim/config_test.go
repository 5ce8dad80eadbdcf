package sim

import (
	"errors"
	"math"
	"strings"
	"testing"
)

type inner struct {
	A float64 `json:"a"`
	B int     `json:"b"`
}

type testConfig struct {
	Name  string  `json:"name"`
	Clock float64 `json:"clock_ghz"`
	Count int     `json:"count"`
	On    bool    `json:"on"`
	Rates inner   `json:"rates"`
	Off   int     `json:"-"`
}

func TestDecodeConfig(t *testing.T) {
	base := testConfig{Name: "x", Clock: 1.5, Count: 4, Rates: inner{A: 1, B: 2}}
	tests := []struct {
		name, doc string
		field     string // for errors: the field named; "-" = success
		rule      string
		check     func(c testConfig) bool
	}{
		{"empty object keeps base", `{}`, "-", "", func(c testConfig) bool { return c == base }},
		{"override", ` {"clock_ghz": 2, "on": true} `, "-", "", func(c testConfig) bool {
			return c.Clock == 2 && c.On && c.Count == 4
		}},
		{"nested keeps the rest", `{"rates": {"b": 7}}`, "-", "", func(c testConfig) bool {
			return c.Rates == inner{A: 1, B: 7}
		}},
		{"null document", `null`, "", "want a JSON object {...}, got null", nil},
		{"array document", `[]`, "", "got [", nil},
		{"number document", `3`, "", "got a number", nil},
		{"empty", ``, "", "unexpected end", nil},
		{"blank", "  \n", "", "unexpected end", nil},
		{"truncated", `{"count": 3`, "", "unexpected end", nil},
		{"trailing brace", `{}}`, "", `trailing data after the JSON object: "}"`, nil},
		{"two objects", `{} {}`, "", "trailing data", nil},
		{"wrong case", `{"Clock_GHz": 2}`, "Clock_GHz", "unknown field (names are exact and lower-case; allowed: name, clock_ghz, count, on, rates)", nil},
		{"untagged", `{"Off": 1}`, "Off", "unknown field", nil},
		{"unknown nested", `{"rates": {"c": 1}}`, "rates.c", "unknown field", nil},
		{"null value", `{"count": null}`, "count", "null is not a value", nil},
		{"null nested", `{"rates": {"a": null}}`, "rates.a", "null is not a value", nil},
		{"twice", `{"count": 1, "count": 2}`, "count", "given twice", nil},
		{"wrong type", `{"count": "three"}`, "count", "want a whole number that fits int, got JSON string", nil},
		{"fraction", `{"count": 2.5}`, "count", "want a whole number", nil},
		{"int overflow", `{"count": 9223372036854775808}`, "count", "want a whole number", nil},
		{"float overflow", `{"clock_ghz": 1e400}`, "clock_ghz", "number 1e400 is out of range", nil},
		{"object for number", `{"clock_ghz": {"x": 1}}`, "clock_ghz", "want a number", nil},
		{"bad bool", `{"on": 1}`, "on", "want a boolean (true or false), got JSON number", nil},
		{"bad syntax", `{"count": 1,}`, "", "invalid character", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			err := DecodeConfig([]byte(tc.doc), &c)
			if tc.field == "-" {
				if err != nil {
					t.Fatal(err)
				}
				if !tc.check(c) {
					t.Errorf("config %+v", c)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(fe.Rule, tc.rule) {
				t.Errorf("error %v, want a FieldError for %q containing %q", err, tc.field, tc.rule)
			}
		})
	}
	if err := DecodeConfig([]byte(`{}`), base); err == nil {
		t.Error("DecodeConfig into a non-pointer succeeded")
	}
	big := "{" + strings.Repeat(" ", MaxConfigBytes) + "}"
	if err := DecodeConfig([]byte(big), &testConfig{}); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("oversized document: %v", err)
	}
}

func TestCheckBounds(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	tests := []struct {
		b    Bound
		want string // "" = in range
	}{
		{Bound{Field: "f", Value: 1, Lo: 1, Hi: 2}, ""},
		{Bound{Field: "f", Value: 2, Lo: 1, Hi: 2}, ""},
		{Bound{Field: "f", Value: 0.5, Lo: 1, Hi: 2, Unit: "GHz"}, "f: 0.5 is outside the plausible range [1, 2] GHz"},
		{Bound{Field: "f", Value: 1e-300, Lo: 0.01, Hi: 1e5, Unit: "bytes/ns"}, "1e-300 is outside"},
		{Bound{Field: "f", Value: 9.223372036854776e18, Lo: 0, Hi: 1e6}, "9.223372036854776e+18 is outside"},
		{Bound{Field: "f", Value: inf, Lo: 0, Hi: inf}, "+Inf is outside"},
		{Bound{Field: "f", Value: nan, Lo: 0, Hi: 1}, "NaN is outside"},
		{IntBound("cycles", math.MaxInt64, 0, 1e6, "cycles"), "cycles: 9223372036854775807 is outside the plausible range [0, 1e+06] cycles"},
		{IntBound("sms", 132, 1, 4096, "SMs"), ""},
	}
	for _, tc := range tests {
		err := CheckBounds([]Bound{{Field: "ok", Value: 1, Lo: 0, Hi: 1}, tc.b})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.b, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.b, err, tc.want)
		}
	}
}

// FuzzDecodeConfig: any document decodes or is a FieldError; it never
// panics, and what decodes round-trips the fields it named.
func FuzzDecodeConfig(f *testing.F) {
	for _, s := range []string{`{}`, `{"count": 3}`, `{"rates": {"a": 1.5}}`, `null`, `{}}`, `{"COUNT": 1}`,
		`{"count": 1, "count": 2}`, `{"rates": null}`, `[{"a": 1}]`, `{"clock_ghz": 1e999}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var c testConfig
		err := DecodeConfig([]byte(s), &c)
		if err == nil {
			return
		}
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("error %v is not a FieldError", err)
		}
	})
}
