// Package geo answers "what is near here?": three proximity indexes over points on the Earth,
// a geohash index, an adaptive quadtree and an S2 cell index, behind one interface (Index)
// and giving identical, exact answers.
//
// # What
//
// Each index stores points (Point, in degrees) under uint64 IDs and supports insert-or-move
// (Set), Remove, Get, Len and three queries:
//
//   - Radius: every point within a distance of a centre, sorted by distance then ID;
//   - Nearest: the k nearest points, same order;
//   - Box: the points inside a latitude/longitude box, sorted by ID.
//
// Distance is the haversine great-circle distance on a sphere of radius EarthRadius
// (6,371,008.8 m). It is the only definition of distance used: a point belongs to a Radius
// answer exactly when Distance(center, point) <= meters, so a point exactly on the circle is
// always included, and Nearest orders by the same function. Answers are therefore exact, not
// approximations, including at geohash and quadtree cell boundaries, across the antimeridian
// (±180°, where -180 and 180 name the same meridian), at the poles (where every longitude
// meets), for radius 0 and for radii of half the circumference or more (everything).
//
// Box takes the south-west corner min and the north-east corner max, edges inclusive. When
// min.Lng > max.Lng the box crosses the antimeridian and covers longitudes [min.Lng, 180] and
// [-180, max.Lng]. Membership is decided on the stored coordinates (a point at a pole is in a
// box only if its stored longitude is), with -180 and 180 treated as equal.
//
// Bad input (NaN, ±Inf, latitude outside [-90, 90], longitude outside [-180, 180], a
// negative or non-finite radius, k <= 0, a box with min.Lat > max.Lat) returns an error
// wrapping ErrInvalidPoint, ErrInvalidRadius, ErrInvalidK or ErrInvalidBox and changes nothing.
//
// # Where it comes from
//
// System Design Interview Volume 2, chapter 1 (proximity service: geohash, quadtree, S2;
// "businesses within 500 m / 1 km / 5 km"; the geohash boundary problem; a Redis geohash
// cache) and chapter 2 (nearby friends: frequent location updates, "friends within 5 miles").
// See /work/shared/seeds/system-design-vol2-synopsis.md.
//
// # How each index works
//
//   - GeohashIndex keeps points in a B-tree ordered by 64-bit geohash
//     (github.com/mmcloughlin/geohash), so a geohash cell of any precision is one key range.
//     Radius picks the finest precision at which the query's padded bounding box touches at
//     most GeohashConfig.MaxCells cells (9 by default: the cell and its neighbours), scans
//     those ranges and filters by Distance. The cell keys are exposed (Key, Cells, CellIDs)
//     for a Redis-style "geohash -> IDs" cache.
//   - Quadtree splits a leaf into four quadrants when it holds more than LeafSize points (100
//     by default) and merges a subtree back when it falls to LeafSize/2; the root is the whole
//     latitude/longitude plane.
//   - S2Index keeps points in a B-tree ordered by leaf s2.CellID (Hilbert-curve order).
//     Radius covers the query cap with an s2.RegionCoverer and scans the covering's ranges.
//
// All pre-filters (cells, node rectangles, coverings) are conservative: they are computed for
// the radius plus 1 m (and a relative 1e-9), far above the haversine's worst rounding error,
// and the exact Distance test decides. Nearest is a best-first search (quadtree nodes, geohash
// bit prefixes or S2 cells) ordered by a true spherical lower bound of the distance to each
// cell, padded by 1 m: for latitude/longitude cells the haversine of the smallest latitude gap,
// the smallest longitude gap and the smallest cosine of latitude in the cell (each term of the
// haversine sum is monotone, so no point of the cell is closer); for S2 cells s2.Cell.Distance.
// Never planar degrees, which order wrongly at high latitudes.
//
// # When to choose which index
//
//   - Quadtree: the default. It adapts to density (small cells in cities, large ones in the
//     ocean), has the fastest moves and the fastest small-radius queries in our benchmarks,
//     and needs no cell-level tuning. Choose it for in-memory search with frequent updates
//     (nearby friends) or skewed data.
//   - GeohashIndex: choose it when the cell keys themselves matter: sharing or caching by
//     geohash string (Redis keys, database prefix columns), or interoperating with systems
//     that already speak geohash. Queries cost a fixed number of B-tree seeks, whatever the
//     density. Its cells degenerate near the poles, where a small radius spans many
//     longitudes and a query falls back to coarse cells.
//   - S2Index: choose it when the keys must be S2 cell IDs (interoperating with S2-based
//     systems, sharding by S2 cell) or for uniform-area cells everywhere including the poles.
//     Its coverings are the tightest, but computing one costs more than the other indexes'
//     pre-filters, so its small-radius queries are the slowest of the three here.
//
// # Complexity
//
// With n points: Set and Remove cost O(log n) (B-tree) or O(depth + LeafSize) (quadtree);
// Get and Len O(1). Radius costs the cells or nodes visited plus the points inside them;
// Nearest roughly O((k + depth) log n). Memory per point is measured by BenchmarkBuild
// (MiB/Mpoints).
//
// # Concurrency
//
// Every index is safe for concurrent use under a sync.RWMutex: any number of queries (and Get,
// Len) run in parallel; Set and Remove take the lock exclusively, so there is one writer at a
// time and it waits for running queries. A long Radius query (huge radius) delays writers
// for its duration.
//
// # Caveats
//
//   - The Earth is modelled as a sphere; distances differ from the WGS84 ellipsoid by up to
//     ~0.5%. The exactness guarantee is with respect to Distance.
//   - Results are appended to the caller's dst; Radius and Box with a huge radius or box
//     return everything, so bound them with limit where that matters.
//   - S2Index.Box scans the covering of the box's bounding cap rather than of the box itself,
//     because s2.Rect.IntersectsCell in the Go port can miss cells (see S2Index.Box).
package geo
