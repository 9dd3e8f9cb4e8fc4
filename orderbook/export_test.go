package orderbook

// NewTreeOnly returns a book that keeps every level in the B-tree (no
// direct-indexed window), for measuring the two level indexes against each
// other in the external benchmarks.
func NewTreeOnly(cfg Config) *Book {
	c, err := cfg.validate()
	if err != nil {
		panic(err)
	}
	c.Window = 0
	return newBook(c)
}
