// Command swiglu registers the example SwiGLU MLP kernel, checks it
// against its float64 reference and times it on trn2 and h100:
//
//	go run ./examples/swiglu/cmd/swiglu [-trace t.json] [-profile p.pb.gz]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/trnsim/trnsim/examples/swiglu"
)

func main() {
	var opts swiglu.Options
	flag.StringVar(&opts.Trace, "trace", "", "write a Chrome/Perfetto trace of the trn2 run to this file")
	flag.StringVar(&opts.Profile, "profile", "", "write a pprof profile of the trn2 run to this file")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "swiglu: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	if err := swiglu.Main(os.Stdout, opts); err != nil {
		fmt.Fprintln(os.Stderr, "swiglu:", err)
		os.Exit(1)
	}
}
