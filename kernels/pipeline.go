package kernels

import "github.com/trnsim/trnsim/isa"

// swPipe emits a loop body software-pipelined across iterations, the way
// an NKI author skews a loop by hand so that in-order engines never wait
// on each other within an iteration.
//
// Each engine of a NeuronCore runs its instructions in program order; a
// cross-engine dependency makes the consumer engine wait (docs/hardware.md A
// §1.3), and even a dependency on the same engine's previous instruction
// costs its access latency plus a semaphore wait (A §3.2 "+100 engine
// cycles ... back-to-back dependent instrs"). If an iteration's body is a
// chain QK (TensorE) → max (VectorE) → exp (ScalarE) → transpose (TensorE)
// → …, emitting iterations one after the other makes every engine wait for
// the chain, so the iteration time is the sum of the stages. swPipe instead
// runs stage s of iteration j at step j + lags[s]: dependencies between
// stages with different lags point to an earlier step, so each engine's
// queue holds only work whose inputs are already on their way, and the
// iteration time becomes the busiest engine's share. Within a step stages
// are emitted in the given order, which separates dependent instructions
// that share an engine and lag (a row max and the running-max update that
// reads it) by other work.
//
// The price is buffering: a tile written at lag a and read at lag b needs
// b−a+1 rotating buffers.
type swPipe struct {
	lags, order []int
	last        int // largest lag
	steps       int // steps emitted
	next        int // index the next pushed iteration gets
	window      []pipeIter
}

type pipeIter struct {
	idx, start int
	it         stager
}

// stager is one iteration of a pipelined loop: run emits its stage s.
type stager interface{ run(stage int) }

// stageFunc is an iteration written as a closure.
type stageFunc func(stage int)

func (f stageFunc) run(stage int) { f(stage) }

func newPipe(lags, order []int) *swPipe {
	p := &swPipe{lags: lags, order: order}
	for _, l := range lags {
		p.last = max(p.last, l)
	}
	return p
}

// attnSchedule is the stage schedule of the attention and decode loop
// bodies: 0 QK (TensorE), 1 row max and 2 running max (VectorE), 3 α and
// exp (ScalarE), 4 Pᵀ (TensorE), 5 Pᵀ to SBUF (ScalarE/VectorE), 6 PV
// (TensorE), 7 O and row-sum update (GpSimdE/VectorE). The row max leads a
// step's VectorE work and the running max that reads it closes it, so the
// O update and the Pᵀ copy run in between.
func attnSchedule() (lags, order []int) {
	return []int{0, 1, 1, 2, 3, 4, 5, 6}, []int{1, 7, 5, 6, 4, 3, 0, 2}
}

// nextIdx is the index the next pushed iteration will get.
func (p *swPipe) nextIdx() int { return p.next }

// depth is the most iterations pending at once: each push emits one
// step, and an iteration is done the step it runs its last lag. So an
// iteration pushed depth pushes ago is done, and a kernel that keeps its
// iterations in a ring of depth entries reuses them without allocating.
func (p *swPipe) depth() int { return p.last + 1 }

// push adds an iteration and emits one step. It returns the iteration's
// index.
func (p *swPipe) push(run func(stage int)) int { return p.pushIter(stageFunc(run)) }

// pushIter is push for an iteration that is a value with a run method
// (no closure to allocate per iteration).
func (p *swPipe) pushIter(it stager) int {
	i := p.next
	p.next++
	p.window = append(p.window, pipeIter{idx: i, start: p.steps, it: it})
	p.step()
	return i
}

// step emits, in stage order, every stage due at this step, oldest
// iteration first, and drops finished iterations.
func (p *swPipe) step() {
	k := p.steps
	p.steps++
	for _, s := range p.order {
		for _, it := range p.window {
			if k-it.start == p.lags[s] {
				it.it.run(s)
			}
		}
	}
	keep := p.window[:0]
	for _, it := range p.window {
		if k-it.start < p.last {
			keep = append(keep, it)
		}
	}
	p.window = keep
}

// flush emits every pending stage.
func (p *swPipe) flush() {
	for len(p.window) > 0 {
		p.step()
	}
}

// pending reports whether iteration idx still has stages to emit.
func (p *swPipe) pending(idx int) bool {
	for _, it := range p.window {
		if it.idx == idx {
			return true
		}
	}
	return false
}

// loopState is a key of the pipeline's pending work for
// isa.Builder.LoopWithState: how many iterations are pending and, for
// each, how many steps ago it started and how many pushes ago it was
// pushed (relative, so equal states one loop period apart key alike).
func (p *swPipe) loopState() uint64 {
	v := make([]int, 0, 1+2*len(p.window))
	v = append(v, len(p.window))
	for _, it := range p.window {
		v = append(v, p.steps-it.start, p.next-it.idx)
	}
	return isa.LoopKey(v...)
}

// loopRing remembers, for the work a software pipeline still holds, which
// isa.Builder.Loop iteration each piece belongs to, so that its pending
// stages compute their HBM offsets from it. It is indexed by a count the
// pipeline keeps (its pushes), which a Loop skip does not advance: when
// Loop goes on at iteration j after a skip, the pending pieces stand for
// the iterations just before j, and resume moves their numbers on by the
// iterations skipped.
type loopRing struct {
	its  []int
	prev int // the iteration last resumed at; -1: none yet
}

func newLoopRing(n int) *loopRing { return &loopRing{its: make([]int, n), prev: -1} }

// put records that the piece at count k belongs to iteration j and returns
// where the number is kept (resume may move it on).
func (r *loopRing) put(k, j int) *int {
	p := &r.its[k%len(r.its)]
	*p = j
	return p
}

// resume says Loop goes on at iteration j (the loop's length: the final
// flush).
func (r *loopRing) resume(j int) {
	if r.prev >= 0 && j != r.prev+1 {
		for x := range r.its {
			r.its[x] += j - r.prev - 1
		}
	}
	r.prev = j
}
