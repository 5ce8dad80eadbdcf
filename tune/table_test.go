package tune

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/kernels"
)

func TestTableRoundTripAndLookup(t *testing.T) {
	tuned := parse(t, "matmul:M=8,N=28672,K=4096,variant=block_free,tiles_m=1,tiles_n=8")
	var tab Table
	if err := tab.Add("trn2", tuned, 673.3, 761.6); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tab.Write(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := ReadTable(bytes.NewReader(buf.Bytes()), kernels.Builtin())
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	var again bytes.Buffer
	if err := got.Write(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Errorf("round trip changed the file:\n%s\n%s", buf.String(), again.String())
	}
	for _, tc := range []struct {
		target, spec string
		hit          bool
	}{
		{"trn2", "matmul:M=8,N=28672,K=4096", true},
		{"trn2", "matmul:M=8,N=28672,K=4096,variant=best", true},
		{"trn1", "matmul:M=8,N=28672,K=4096", false},               // another target
		{"trn2", "matmul:M=8,N=28672,K=4096,variant=tiled", false}, // names its variant
		{"trn2", "matmul:M=8,N=28672,K=4096,tiles_m=2", false},     // names a tile
		{"trn2", "matmul:M=16,N=28672,K=4096", false},              // another shape
		{"trn2", "matmul:M=8,N=28672,K=4096,dtype=fp8e4m3", false}, // another dtype
		{"trn2", "rmsnorm:tokens=8,hidden=4096", false},            // no tunables
	} {
		q, ok := got.Lookup(tc.target, parse(t, tc.spec))
		if ok != tc.hit {
			t.Errorf("%s on %s: hit %v, want %v", tc.spec, tc.target, ok, tc.hit)
		}
		if ok && q.String() != tuned.String() {
			t.Errorf("%s: got %s, want %s", tc.spec, q, tuned)
		}
	}
	var nilTab *Table
	if _, ok := nilTab.Lookup("trn2", tuned); ok || nilTab.Len() != 0 {
		t.Error("nil table holds something")
	}
}

func TestReadTableRefuses(t *testing.T) {
	shape := "matmul:M=8,N=4096,K=4096,batch=1,dtype=bf16,variant=best,tiles_m=0,tiles_n=0,tiles_k=0"
	entry := func(target, shape, tuned string) string {
		return `{"target":"` + target + `","shape":"` + shape + `","tuned":"` + tuned + `","time_us":1,"default_time_us":2}`
	}
	good := entry("trn2", shape, "matmul:M=8,N=4096,K=4096,variant=block_free,tiles_m=1,tiles_n=4")
	for _, tc := range []struct{ name, in, want string }{
		{"empty", ``, "not a tuned file"},
		{"not json", `hello`, "not a tuned file"},
		{"version", `{"trnsim_tuned":2,"entries":[]}`, "version 2"},
		{"unknown field", `{"trnsim_tuned":1,"entries":[],"x":1}`, "unknown field"},
		{"trailing", `{"trnsim_tuned":1,"entries":[]} {}`, "trailing"},
		{"bad shape", `{"trnsim_tuned":1,"entries":[` + entry("trn2", "matmul:M=-1", "matmul") + `]}`, "entry 0: shape"},
		{"bad tuned", `{"trnsim_tuned":1,"entries":[` + entry("trn2", shape, "nosuch:M=1") + `]}`, "entry 0: tuned"},
		{"other shape", `{"trnsim_tuned":1,"entries":[` + entry("trn2", shape, "matmul:M=16,N=4096,K=4096") + `]}`, "not a configuration"},
		{"shape not default", `{"trnsim_tuned":1,"entries":[` + entry("trn2", "matmul:M=8,N=4096,K=4096,tiles_m=2", "matmul:M=8,N=4096,K=4096") + `]}`, "each at its default"},
		{"no tunables", `{"trnsim_tuned":1,"entries":[` + entry("trn2", "rmsnorm", "rmsnorm") + `]}`, "want a kernel with tunables"},
		{"empty target", `{"trnsim_tuned":1,"entries":[` + entry("", shape, shape) + `]}`, "empty target"},
		{"duplicate", `{"trnsim_tuned":1,"entries":[` + good + `,` + good + `]}`, "entry 1: second entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadTable(strings.NewReader(tc.in), kernels.Builtin())
			var te *TableError
			if !errors.As(err, &te) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want a *TableError containing %q", err, tc.want)
			}
		})
	}
	if _, err := ReadTable(strings.NewReader(`{"trnsim_tuned":1,"entries":[`+good+`]}`), kernels.Builtin()); err != nil {
		t.Errorf("good file refused: %v", err)
	}
}

func FuzzReadTable(f *testing.F) {
	f.Add(`{"trnsim_tuned":1,"entries":[{"target":"trn2","shape":"matmul:M=8","tuned":"matmul:M=8,variant=tiled"}]}`)
	f.Add(`{"trnsim_tuned":1,"entries":[]}`)
	f.Add(`{`)
	reg := kernels.Builtin()
	f.Fuzz(func(t *testing.T, in string) {
		tab, err := ReadTable(strings.NewReader(in), reg)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := tab.Write(&buf); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadTable(&buf, reg); err != nil {
			t.Fatalf("a table read back fails: %v", err)
		}
	})
}
