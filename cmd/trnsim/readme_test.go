package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readmeShort maps a README command's heavy part to what it becomes under
// -short (make test); make readme runs the commands as written.
var readmeShort = []struct{ full, short string }{
	{"-suite llm", "-suite baseline"},
	{"attention:seqlen=2048,heads=1 -target trn2 -check", "attention:seqlen=512,heads=1 -target trn2 -check"},
}

// readmeBlocks returns the lines of the ```sh blocks in the README
// sections titled section, without comments, and the text of the first
// plain ``` block under the section "What it says".
func readmeBlocks(t *testing.T, path string, sections ...string) (cmds []string, excerpt string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sec, block string // current section title; current block's fence info ("" outside)
	inBlock := false
	var ex strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			sec = strings.TrimPrefix(line, "## ")
		case strings.HasPrefix(line, "```"):
			inBlock, block = !inBlock, strings.TrimPrefix(line, "```")
		case inBlock && block == "sh" && contains(sections, sec):
			if i := strings.Index(line, " # "); i >= 0 {
				line = line[:i]
			}
			if line = strings.TrimSpace(line); line != "" {
				cmds = append(cmds, line)
			}
		case inBlock && block == "" && sec == "What it says" && excerpt == "":
			ex.WriteString(line + "\n")
		}
		if !inBlock && ex.Len() > 0 && excerpt == "" {
			excerpt = ex.String()
		}
	}
	return cmds, excerpt
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestREADMECommands runs every command of the README's set-up and
// command-line blocks, as written, in a temporary directory with the
// built binary at ./trnsim and the repository's results/ inputs, and
// checks that each exits 0 — the README cannot rot (`run -asm a.s
// -target trn1,trn2 -trace a.json` used to fail twice). `make X` lines are
// expanded with make -n (running make test here would recurse; .ci/run
// runs them). Under -short the heavy commands run smaller (readmeShort)
// and `go test` lines are left to make readme, which .ci/run runs.
func TestREADMECommands(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("go not on PATH: %v", err)
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmds, excerpt := readmeBlocks(t, filepath.Join(repo, "README.md"), "Set-up", "Command line")
	if len(cmds) < 15 || excerpt == "" {
		t.Fatalf("README: %d commands, excerpt %q: the sections moved?", len(cmds), excerpt)
	}
	dir := t.TempDir()
	for _, f := range []string{"results/baseline.csv", "results/measured/gpu_measured.csv", "results/measured/trainium_measured.csv"} {
		copyFile(t, filepath.Join(repo, f), filepath.Join(dir, f))
	}
	built := false
	run := func(cmd *exec.Cmd, line string) {
		t.Helper()
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		err := cmd.Run()
		t.Logf("%.1fs  %s", time.Since(start).Seconds(), line)
		if err != nil {
			t.Errorf("README command failed: %s\n%v\n%s", line, err, tail(out.String(), 2000))
		}
	}
	for _, line := range cmds {
		if testing.Short() {
			for _, s := range readmeShort {
				line = strings.ReplaceAll(line, s.full, s.short)
			}
		}
		f := strings.Fields(line)
		switch {
		case f[0] == "make":
			cmd := exec.Command("make", "-n", f[1])
			cmd.Dir = repo
			run(cmd, "make -n "+f[1])
		case len(f) >= 2 && f[0] == "go" && f[1] == "build":
			// The build line as written, its output moved to the
			// temporary directory.
			args := append([]string(nil), f[1:]...)
			for i := range args {
				if args[i] == "-o" && i+1 < len(args) {
					args[i+1] = filepath.Join(dir, args[i+1])
				}
			}
			cmd := exec.Command("go", args...)
			cmd.Dir = repo
			run(cmd, line)
			built = true
		case len(f) >= 2 && f[0] == "go" && f[1] == "test":
			if testing.Short() {
				t.Logf("left to make readme under -short: %s", line)
				continue
			}
			cmd := exec.Command("sh", "-c", line)
			cmd.Dir = repo
			run(cmd, line)
		default:
			if !built {
				t.Fatalf("README runs %q before building ./trnsim", line)
			}
			cmd := exec.Command("sh", "-c", line)
			cmd.Dir = dir
			run(cmd, line)
		}
	}

	// The bench excerpt is the tool's output.
	var out bytes.Buffer
	cmd := exec.Command(filepath.Join(dir, "trnsim"), "bench", "-excerpt")
	cmd.Stdout, cmd.Stderr = &out, io.Discard
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench -excerpt: %v", err)
	}
	if out.String() != excerpt {
		t.Errorf("README excerpt differs from trnsim bench -excerpt; paste this:\n%s\nREADME has:\n%s", out.String(), excerpt)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
