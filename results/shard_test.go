package results

import (
	"bytes"
	"strings"
	"testing"
)

func shardRows(specs ...string) []Row {
	var rows []Row
	for _, s := range specs {
		rows = append(rows, Row{Kernel: "matmul", Target: "trn2", Spec: s})
	}
	return rows
}

func info(i, n int, items ...int) ShardInfo {
	return ShardInfo{Version: ShardVersion, Index: i, Count: n, Suite: "s", Targets: []string{"trn2"}, Schema: SchemaVersion, Items: items}
}

func TestMergeShards(t *testing.T) {
	// Items 0..4 over 2 shards: shard 0 holds 0, 2, 4; shard 1 holds 1, 3.
	s0 := Source{Name: "s0.csv", Rows: shardRows("a", "c", "e")}
	s1 := Source{Name: "s1.csv", Rows: shardRows("b", "d")}
	i0, i1 := info(0, 2, 0, 2, 4), info(1, 2, 1, 3)
	for _, order := range [][2]int{{0, 1}, {1, 0}} {
		srcs := []Source{s0, s1}
		infos := []ShardInfo{i0, i1}
		srcs[0], srcs[1] = srcs[order[0]], srcs[order[1]]
		infos[0], infos[1] = infos[order[0]], infos[order[1]]
		rows, err := MergeShards(srcs, infos)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, r.Spec)
		}
		if strings.Join(got, "") != "abcde" {
			t.Errorf("order %v: merged %v, want a b c d e", order, got)
		}
	}
	other := i1
	other.Targets = []string{"trn2", "h100"}
	opts := i1
	opts.Options = "tuned=t.json"
	for _, tc := range []struct {
		name  string
		srcs  []Source
		infos []ShardInfo
		want  string
	}{
		{"missing", []Source{s0}, []ShardInfo{i0}, "missing 1/2 (given 1 of 2)"},
		{"missing several", []Source{s0}, []ShardInfo{info(0, 4, 0, 4, 8)}, "missing 1/4, 2/4, 3/4"},
		{"twice", []Source{s0, s0}, []ShardInfo{i0, i0}, "shard 0/2 given twice: s0.csv and s0.csv"},
		{"other sweep", []Source{s0, s1}, []ShardInfo{i0, other}, "of another sweep"},
		{"other options", []Source{s0, s1}, []ShardInfo{i0, opts}, "tuned=t.json"},
		{"row count", []Source{s0, s1}, []ShardInfo{info(0, 2, 0, 2), i1}, "s0.csv: 3 rows, its sidecar lists 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := MergeShards(tc.srcs, tc.infos); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func TestShardInfoRoundTripAndRefusals(t *testing.T) {
	var buf bytes.Buffer
	in := info(1, 3, 1, 4, 7)
	in.Options = "hw=x.json"
	if err := WriteShardInfo(&buf, in); err != nil {
		t.Fatal(err)
	}
	got, err := ReadShardInfo(&buf, "x.shard.json")
	if err != nil || got.identity() != in.identity() || len(got.Items) != 3 {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, tc := range []struct{ in, want string }{
		{`{`, "not a shard sidecar"},
		{`{"trnsim_shard":2,"index":0,"count":1}`, "version 2"},
		{`{"trnsim_shard":1,"index":2,"count":2}`, "shard 2/2"},
		{`{"trnsim_shard":1,"index":0,"count":2,"items":[0,1]}`, "not an increasing item of shard 0/2"},
		{`{"trnsim_shard":1,"index":0,"count":2,"items":[2,0]}`, "not an increasing item"},
		{`{"trnsim_shard":1,"index":0,"count":1,"extra":1}`, "unknown field"},
		{`{"trnsim_shard":1,"index":0,"count":1} x`, "trailing data"},
	} {
		if _, err := ReadShardInfo(strings.NewReader(tc.in), "f"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.in, err, tc.want)
		}
	}
}

func FuzzReadShardInfo(f *testing.F) {
	f.Add(`{"trnsim_shard":1,"index":0,"count":2,"suite":"s","targets":["trn2"],"schema":1,"options":"","items":[0,2]}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ReadShardInfo(strings.NewReader(in), "f")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteShardInfo(&buf, s); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadShardInfo(&buf, "f"); err != nil {
			t.Fatalf("written sidecar does not read back: %v", err)
		}
	})
}
