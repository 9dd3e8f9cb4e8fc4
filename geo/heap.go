package geo

import "slices"

// topK keeps the k best results (smallest Distance, then ID) as a max-heap in rs, so the worst
// kept result is rs[0] and is replaced in O(log k).
type topK struct {
	rs []Result
	k  int
}

func (t *topK) full() bool { return len(t.rs) == t.k }

// worst is the distance a candidate must not exceed to enter a full heap.
func (t *topK) worst() float64 { return t.rs[0].Distance }

func (t *topK) offer(r Result) {
	if len(t.rs) < t.k {
		t.rs = append(t.rs, r)
		for i := len(t.rs) - 1; i > 0; {
			p := (i - 1) / 2
			if compareResults(t.rs[p], t.rs[i]) >= 0 {
				break
			}
			t.rs[p], t.rs[i] = t.rs[i], t.rs[p]
			i = p
		}
		return
	}
	if compareResults(r, t.rs[0]) >= 0 {
		return
	}
	t.rs[0] = r
	for i, n := 0, len(t.rs); ; {
		big, l, rr := i, 2*i+1, 2*i+2
		if l < n && compareResults(t.rs[l], t.rs[big]) > 0 {
			big = l
		}
		if rr < n && compareResults(t.rs[rr], t.rs[big]) > 0 {
			big = rr
		}
		if big == i {
			return
		}
		t.rs[i], t.rs[big] = t.rs[big], t.rs[i]
		i = big
	}
}

// sorted returns the kept results in ascending order.
func (t *topK) sorted() []Result {
	slices.SortFunc(t.rs, compareResults)
	return t.rs
}

// queued is a search-frontier entry: a node or cell and a lower bound on the distance from the
// query centre to anything inside it.
type queued[T any] struct {
	lb float64
	v  T
}

// frontier is a min-heap of queued entries by lower bound.
type frontier[T any] []queued[T]

func (f *frontier[T]) push(lb float64, v T) {
	*f = append(*f, queued[T]{lb, v})
	q := *f
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if q[p].lb <= q[i].lb {
			break
		}
		q[p], q[i] = q[i], q[p]
		i = p
	}
}

func (f *frontier[T]) pop() queued[T] {
	q := *f
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	var zero queued[T]
	q[last] = zero
	q = q[:last]
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < len(q) && q[l].lb < q[small].lb {
			small = l
		}
		if r < len(q) && q[r].lb < q[small].lb {
			small = r
		}
		if small == i {
			break
		}
		q[i], q[small] = q[small], q[i]
		i = small
	}
	*f = q
	return top
}
