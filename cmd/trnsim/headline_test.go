package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestREADMEHeadline: the README's first screen is `trnsim bench
// -headline`'s output, byte for byte (regenerate it with that command when
// a model or a price changes).
func TestREADMEHeadline(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const open, end = "<!-- headline: trnsim bench -headline -->\n```\n", "```\n<!-- end headline -->"
	s := string(b)
	i, j := strings.Index(s, open), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("README.md has no headline block")
	}
	got := s[i+len(open) : j]
	var want bytes.Buffer
	if err := printHeadline(&want); err != nil {
		t.Fatal(err)
	}
	if got != want.String() {
		t.Errorf("README.md's headline differs from `trnsim bench -headline`:\n--- README\n%s\n--- tool\n%s", got, want.String())
	}
	for _, w := range []string{"trn2-chip", "h100", "trn2.48xlarge", "p5.48xlarge", "capacity-block", "break-even", "answer:"} {
		if !strings.Contains(got, w) {
			t.Errorf("headline does not mention %q", w)
		}
	}
}
