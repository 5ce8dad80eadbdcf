package isa

// UncachedChecker returns a function that checks instruction i of p
// against a with every rule and no shape cache, for the external tests
// that compare it with Validate on kernels' programs.
func UncachedChecker(p *Program, a Arch) func(i int) error {
	c := new(instrChecker)
	c.init(p, a)
	return func(i int) error {
		c.i, c.in = i, &p.Instrs[i]
		if e := c.checkFull(); e != nil {
			return e
		}
		return nil
	}
}
