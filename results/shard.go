package results

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// ShardVersion is the version of the shard sidecar format.
const ShardVersion = 1

// ShardInfo is the sidecar `trnsim sweep -shard` writes beside each shard
// file (ShardSidecar names it): which shard the file is (Index of Count),
// the sweep's identity (suite, targets, schema version) and, for each row
// of the file in order, its item index in the unsharded sweep, so that
// MergeShards can restore the unsharded row order and name missing shards.
type ShardInfo struct {
	Version int      `json:"trnsim_shard"`
	Index   int      `json:"index"`
	Count   int      `json:"count"`
	Suite   string   `json:"suite"`
	Targets []string `json:"targets"`
	Schema  int      `json:"schema"`
	// Options names run options that change numbers (-tuned, -hw), so
	// shards of differently configured sweeps do not merge; "" for none.
	Options string `json:"options"`
	Items   []int  `json:"items"`
}

// ShardSidecar returns the sidecar path of the shard file csvPath.
func ShardSidecar(csvPath string) string { return csvPath + ".shard.json" }

// identity is what must agree between shards of one sweep.
func (s ShardInfo) identity() string {
	return fmt.Sprintf("suite %s, targets %s, schema %d, %d shards, options %q", s.Suite, strings.Join(s.Targets, ","), s.Schema, s.Count, s.Options)
}

// WriteShardInfo writes s as JSON.
func WriteShardInfo(w io.Writer, s ShardInfo) error {
	s.Version = ShardVersion
	if s.Items == nil {
		s.Items = []int{}
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadShardInfo reads a sidecar; name is what errors call it. It refuses
// unknown fields, another version, and an index or items out of range.
func ReadShardInfo(r io.Reader, name string) (ShardInfo, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var s ShardInfo
	if err := dec.Decode(&s); err != nil {
		return ShardInfo{}, fmt.Errorf("%s: not a shard sidecar: %v", name, err)
	}
	if dec.More() {
		return ShardInfo{}, fmt.Errorf("%s: trailing data after the JSON object", name)
	}
	if s.Version != ShardVersion {
		return ShardInfo{}, fmt.Errorf("%s: trnsim_shard version %d, want %d", name, s.Version, ShardVersion)
	}
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return ShardInfo{}, fmt.Errorf("%s: shard %d/%d: want 0 ≤ index < count", name, s.Index, s.Count)
	}
	for j, k := range s.Items {
		if k < 0 || k%s.Count != s.Index || (j > 0 && k <= s.Items[j-1]) {
			return ShardInfo{}, fmt.Errorf("%s: item %d (%d) is not an increasing item of shard %d/%d", name, j, k, s.Index, s.Count)
		}
	}
	return s, nil
}

// MergeShards joins the shard files of one sweep, each with its sidecar,
// into the rows of the unsharded sweep in its row order, whatever order
// the files are given in. It refuses files of different sweeps (naming
// the identity that differs), a shard given twice, a file whose row count
// differs from its sidecar's, and an incomplete set, naming the missing
// shards.
func MergeShards(srcs []Source, infos []ShardInfo) ([]Row, error) {
	if len(srcs) != len(infos) || len(srcs) == 0 {
		return nil, fmt.Errorf("merge: want one sidecar per shard file")
	}
	first := infos[0]
	byIndex := map[int]string{}
	type placed struct {
		item int
		row  Row
	}
	var all []placed
	for i, s := range infos {
		if id := s.identity(); id != first.identity() {
			return nil, fmt.Errorf("%s is shard %d/%d of another sweep (%s) than %s (%s)", srcs[i].Name, s.Index, s.Count, id, srcs[0].Name, first.identity())
		}
		if prev, dup := byIndex[s.Index]; dup {
			return nil, fmt.Errorf("shard %d/%d given twice: %s and %s", s.Index, s.Count, prev, srcs[i].Name)
		}
		byIndex[s.Index] = srcs[i].Name
		if len(s.Items) != len(srcs[i].Rows) {
			return nil, fmt.Errorf("%s: %d rows, its sidecar lists %d", srcs[i].Name, len(srcs[i].Rows), len(s.Items))
		}
		for j, r := range srcs[i].Rows {
			all = append(all, placed{s.Items[j], r})
		}
	}
	var missing []string
	for i := range first.Count {
		if _, ok := byIndex[i]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", i, first.Count))
		}
	}
	if len(missing) > 0 {
		var have []int
		for i := range byIndex {
			have = append(have, i)
		}
		slices.Sort(have)
		return nil, fmt.Errorf("incomplete set of shards of the sweep (%s): missing %s (given %d of %d)", first.identity(), strings.Join(missing, ", "), len(have), first.Count)
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].item < all[b].item })
	rows := make([]Row, len(all))
	for i, p := range all {
		rows[i] = p.row
	}
	// Item indices are distinct across shards by construction (k mod n);
	// Merge still checks (spec, target) keys.
	return Merge(Source{Name: "merged shards", Rows: rows})
}
