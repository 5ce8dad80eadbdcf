package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// A citation names a section of hardware.md or systems.md: "HARDWARE.md A
// §3.3", "docs/hardware.md Part B §1.5", "HARDWARE.md Part A §3 and §5",
// "HARDWARE.md Part C", bare "A §2.2" / "B §1.4" (the prefix said once
// earlier in the file), "SYSTEMS.md D2.2", "docs/systems.md §D4", bare
// "§D4". Both prefixes are accepted: HARDWARE.md and SYSTEMS.md are the
// names the code has used, docs/hardware.md and docs/systems.md the paths.
var (
	hwCited      = regexp.MustCompile("(?:HARDWARE|docs/hardware)\\.md`?(?:'s)?\\s+(?:Part\\s+)?([ABC])\\b((?:\\s*(?:,|and|or)?\\s*§\\s*\\d+(?:\\.\\d+)*)*)")
	hwBare       = regexp.MustCompile(`(?:^|[^\w.§/])([AB]) §\s*(\d+(?:\.\d+)*)`)
	sysCited     = regexp.MustCompile("(?:SYSTEMS|docs/systems)\\.md`?(?:'s)?\\s+((?:(?:\\s*(?:,|and|or)\\s*)?§?\\s*D\\d+(?:\\.\\d+)*)+)")
	sysBare      = regexp.MustCompile(`§\s*(D\d+(?:\.\d+)*)`)
	sectionNum   = regexp.MustCompile(`§\s*(\d+(?:\.\d+)*)`)
	sysNum       = regexp.MustCompile(`D\d+(?:\.\d+)*`)
	hwPart       = regexp.MustCompile(`^# Part ([A-Z])\b`)
	hwSection    = regexp.MustCompile(`^##\s+(\d+)\.\s`)
	hwSubsection = regexp.MustCompile(`^###\s+(\d+\.\d+)\s`)
	sysSection   = regexp.MustCompile(`^##\s+(D\d+)\.\s`)
	sysSubsect   = regexp.MustCompile(`^###\s+(D\d+\.\d+)\s`)
)

// citation is one cited section: the document ("hardware" or "systems"),
// the section ("A", "A §3.3", "D2.2") and where it is cited.
type citation struct {
	doc, section string
	file         string
	line         int
}

// hardwareSections returns the sections hardware.md has: each part ("A")
// and each numbered section and subsection in it ("A §3", "A §3.3").
func hardwareSections(md string) map[string]bool {
	out := map[string]bool{}
	part := ""
	for _, l := range strings.Split(md, "\n") {
		if m := hwPart.FindStringSubmatch(l); m != nil {
			part = m[1]
			out[part] = true
		} else if m := hwSection.FindStringSubmatch(l); m != nil && part != "" {
			out[part+" §"+m[1]] = true
		} else if m := hwSubsection.FindStringSubmatch(l); m != nil && part != "" {
			out[part+" §"+m[1]] = true
		}
	}
	return out
}

// systemsSections returns the sections systems.md has ("D1", "D2.2").
func systemsSections(md string) map[string]bool {
	out := map[string]bool{}
	for _, l := range strings.Split(md, "\n") {
		if m := sysSection.FindStringSubmatch(l); m != nil {
			out[m[1]] = true
		} else if m := sysSubsect.FindStringSubmatch(l); m != nil {
			out[m[1]] = true
		}
	}
	return out
}

// citations returns the citations in a file's text. Go comment markers
// are removed and lines joined, so a citation may wrap.
func citations(file, text string) []citation {
	if !strings.Contains(text, "§") && !strings.Contains(text, "ARDWARE.md") && !strings.Contains(text, "hardware.md") {
		return nil // nothing to cite a section or a part (quick under -race)
	}
	lines := strings.Split(text, "\n")
	starts := make([]int, len(lines))
	var b strings.Builder
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if strings.HasSuffix(file, ".go") {
			l = strings.TrimSpace(strings.TrimPrefix(l, "//"))
		}
		starts[i] = b.Len()
		b.WriteString(l)
		b.WriteByte(' ')
	}
	joined := b.String()
	lineOf := func(off int) int { return sort.Search(len(starts), func(i int) bool { return starts[i] > off }) }
	seen := map[citation]bool{}
	var out []citation
	add := func(doc, section string, off int) {
		c := citation{doc, section, file, lineOf(off)}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, m := range hwCited.FindAllStringSubmatchIndex(joined, -1) {
		part := joined[m[2]:m[3]]
		secs := sectionNum.FindAllStringSubmatch(joined[m[4]:m[5]], -1)
		if len(secs) == 0 {
			add("hardware", part, m[0])
		}
		for _, s := range secs {
			add("hardware", part+" §"+s[1], m[0])
		}
	}
	for _, m := range hwBare.FindAllStringSubmatchIndex(joined, -1) {
		add("hardware", joined[m[2]:m[3]]+" §"+joined[m[4]:m[5]], m[2])
	}
	for _, m := range sysCited.FindAllStringSubmatchIndex(joined, -1) {
		for _, s := range sysNum.FindAllString(joined[m[2]:m[3]], -1) {
			add("systems", s, m[0])
		}
	}
	for _, m := range sysBare.FindAllStringSubmatchIndex(joined, -1) {
		add("systems", joined[m[2]:m[3]], m[0])
	}
	return out
}

func TestCitations(t *testing.T) {
	tests := []struct {
		file, text string
		want       []string // doc:section@line
	}{
		{"a.go", "// a constant (HARDWARE.md A §3.3: 16 queues)", []string{"hardware:A §3.3@1"}},
		{"a.go", "x := 1 // docs/hardware.md Part B §1.5", []string{"hardware:B §1.5@1"}},
		{"a.go", "// The model (HARDWARE.md Part A §3 and §5):", []string{"hardware:A §3@1", "hardware:A §5@1"}},
		{"a.go", "// the connectivity rules (HARDWARE.md\n// A §1.3): TensorE", []string{"hardware:A §1.3@1", "hardware:A §1.3@2"}},
		{"a.md", "Prices come from HARDWARE.md Part C:", []string{"hardware:C@1"}},
		{"a.go", "// HARDWARE.md's row; (A = Part A, C = Part C)", nil},
		{"a.go", `Source: "A §2.2 nc_matmul",` + "\n" + `"B §1.4's launch"`, []string{"hardware:A §2.2@1", "hardware:B §1.4@2"}},
		{"a.go", "// FA4 §2.2, App.C.2, KILN §3.2", nil},
		{"a.go", "// SYSTEMS.md D2.2 and docs/systems.md §D4.1", []string{"systems:D2.2@1", "systems:D4.1@1"}},
		{"a.md", "see `docs/systems.md` §D4, which", []string{"systems:D4@1"}},
		{"a.md", "the trn2 rows (§D4.3)", []string{"systems:D4.3@1"}},
	}
	for _, tc := range tests {
		var got []string
		for _, c := range citations(tc.file, tc.text) {
			got = append(got, c.doc+":"+c.section+"@"+strconv.Itoa(c.line))
		}
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%q: citations %q, want %q", tc.text, got, want)
		}
	}
}

func TestSections(t *testing.T) {
	hw := hardwareSections("# Part A — x\n## 1. Hardware\n### 1.1 Per-core\n### Sources\n# Part B — y\n## 1. GPUs\n### 1.5 Clocks\n# Part C — z\n")
	want := []string{"A", "A §1", "A §1.1", "B", "B §1", "B §1.5", "C"}
	var got []string
	for k := range hw {
		got = append(got, k)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("hardware sections %q, want %q", got, want)
	}
	sys := systemsSections("## Source keys\n## D1. Chips\n### D2.2 Collectives\n")
	if len(sys) != 2 || !sys["D1"] || !sys["D2.2"] {
		t.Errorf("systems sections %v, want D1 and D2.2", sys)
	}
}

// TestCitationsResolve scans every .go and .md file of the repository for
// citations of hardware.md and systems.md and fails on each that names a
// part or section the document lacks.
func TestCitationsResolve(t *testing.T) {
	docs := map[string]map[string]bool{}
	for doc, parse := range map[string]func(string) map[string]bool{"hardware": hardwareSections, "systems": systemsSections} {
		data, err := os.ReadFile(doc + ".md")
		if err != nil {
			t.Fatal(err)
		}
		docs[doc] = parse(string(data))
	}
	// The documents' own numbering, so a broken heading fails here.
	for _, s := range []string{"A §1.1", "A §1.4", "A §2.2", "A §3", "A §3.1", "A §3.2", "A §3.3", "A §3.4", "A §4.1", "A §5", "B §1.1", "B §1.5", "C"} {
		if !docs["hardware"][s] {
			t.Errorf("hardware.md has no section %s", s)
		}
	}
	for _, s := range []string{"D1", "D2.2", "D3.4", "D4.2", "D6"} {
		if !docs["systems"][s] {
			t.Errorf("systems.md has no section %s", s)
		}
	}
	root := ".."
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		// This file's examples are made up.
		if !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".md")) || d.Name() == "citations_test.go" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, c := range citations(path, string(data)) {
			n++
			if !docs[c.doc][c.section] {
				t.Errorf("%s:%d: cites %s.md %s, which docs/%s.md does not have", c.file, c.line, strings.ToUpper(c.doc), c.section, c.doc)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Errorf("found %d citations in the repository, want the code's many (is the scan broken?)", n)
	}
	t.Logf("%d citations checked", n)
}
