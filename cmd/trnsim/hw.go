package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/trnsim/trnsim/bench"
)

// cmdHW is `trnsim hw show TARGET [-hw FILE]`: the target's hardware
// configuration as the JSON object -hw accepts (every field, the preset's
// values, or the preset overridden by FILE), so a user can copy it, edit
// the fields they want to change and pass it back with -hw.
func cmdHW(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "show" {
		return usagef("hw: want `trnsim hw show TARGET [-hw FILE]` (targets: %s)", strings.Join(bench.AllTargets(), ", "))
	}
	fs := newFlags("hw show")
	hw := fs.String("hw", "", "show the configuration with this JSON file's overrides applied")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("hw show: want one TARGET (%s), got %d arguments", strings.Join(bench.AllTargets(), ", "), len(pos))
	}
	t, err := bench.TargetByName(pos[0], *hw)
	if err != nil {
		flag := "hw show"
		if *hw != "" {
			flag = "-hw"
		}
		return usagef("%s: %v", flag, err)
	}
	b, err := hwJSON(t)
	if err != nil {
		return err
	}
	_, err = stdout.Write(b)
	return err
}

// hwJSON returns t's configuration as indented JSON with a final newline.
func hwJSON(t bench.Target) ([]byte, error) {
	var cfg any
	switch t := t.(type) {
	case *bench.NeuronTarget:
		cfg = t.Config()
	case *bench.GPUTarget:
		cfg = t.Config()
	case *bench.ChipTarget:
		cfg = t.Core().Config() // -hw on a chip target overrides each of its cores
	default:
		return nil, fmt.Errorf("hw show: target %s has no JSON configuration", t.Name())
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("hw show %s: %w", t.Name(), err)
	}
	return append(b, '\n'), nil
}
