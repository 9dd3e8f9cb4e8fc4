package orderbook

// idmap maps order IDs to order slots: open addressing with linear probing
// and backward-shift deletion, so there are no tombstones, lookups stay
// short under churn and deletes never allocate. Key and value share a cell,
// so a lookup in a large book costs one cache miss, not two. Key 0 marks an
// empty cell (0 is never a valid order ID). It grows when half full; growth
// is the only allocation and stops once the book reaches its largest size.
type idmap struct {
	cells []idcell
	shift uint // 64 - log2(len(cells))
	n     int
}

type idcell struct {
	key uint64
	val int32
}

const idmapMinBits = 6

func newIDMap() idmap {
	return idmap{cells: make([]idcell, 1<<idmapMinBits), shift: 64 - idmapMinBits}
}

// home is the preferred cell of k (Fibonacci hashing: sequential IDs spread).
func (m *idmap) home(k uint64) int {
	return int((k * 0x9E3779B97F4A7C15) >> m.shift)
}

func (m *idmap) get(k uint64) int32 {
	mask := len(m.cells) - 1
	for i := m.home(k); ; i = (i + 1) & mask {
		switch c := &m.cells[i]; c.key {
		case k:
			return c.val
		case 0:
			return 0
		}
	}
}

// put inserts k, which must not be present.
func (m *idmap) put(k uint64, v int32) {
	if 2*(m.n+1) > len(m.cells) {
		m.grow()
	}
	mask := len(m.cells) - 1
	i := m.home(k)
	for m.cells[i].key != 0 {
		i = (i + 1) & mask
	}
	m.cells[i] = idcell{k, v}
	m.n++
}

// del removes k, which must be present.
func (m *idmap) del(k uint64) {
	mask := len(m.cells) - 1
	i := m.home(k)
	for m.cells[i].key != k {
		i = (i + 1) & mask
	}
	// Shift back every later key of the probe run whose home does not lie
	// cyclically in (i, j], so that no lookup finds a hole before its key.
	for j := (i + 1) & mask; m.cells[j].key != 0; j = (j + 1) & mask {
		h := m.home(m.cells[j].key)
		if (i <= j && (h <= i || h > j)) || (i > j && h <= i && h > j) {
			m.cells[i] = m.cells[j]
			i = j
		}
	}
	m.cells[i] = idcell{}
	m.n--
}

func (m *idmap) grow() {
	old := m.cells
	m.cells = make([]idcell, 2*len(old))
	m.shift--
	m.n = 0
	for _, c := range old {
		if c.key != 0 {
			m.put(c.key, c.val)
		}
	}
}
