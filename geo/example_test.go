package geo_test

import (
	"fmt"

	"github.com/sysblocks/sysblocks/geo"
)

// Example shows the common case: index places, then find those within a radius and the
// nearest ones. Any of the three indexes answers identically.
func Example() {
	idx, err := geo.NewQuadtree(geo.QuadtreeConfig{}) // or geo.NewGeohash / geo.NewS2
	if err != nil {
		panic(err)
	}
	_ = idx.Set(1, geo.Point{Lat: 48.8584, Lng: 2.2945})  // Eiffel Tower
	_ = idx.Set(2, geo.Point{Lat: 48.8606, Lng: 2.3376})  // Louvre
	_ = idx.Set(3, geo.Point{Lat: 51.5007, Lng: -0.1246}) // Big Ben
	here := geo.Point{Lat: 48.8566, Lng: 2.3522}          // Paris, Hôtel de Ville
	near, _ := idx.Radius(here, 5000, 0, nil)
	for _, r := range near {
		fmt.Printf("%d at %.0f m\n", r.ID, r.Distance)
	}
	nearest, _ := idx.Nearest(here, 1, nil)
	fmt.Println("nearest:", nearest[0].ID)
	// Output:
	// 2 at 1157 m
	// 1 at 4226 m
	// nearest: 2
}

// ExampleNewGeohash shows the geohash cell keys a Redis-style "geohash -> IDs" cache would use.
func ExampleNewGeohash() {
	idx, _ := geo.NewGeohash(geo.GeohashConfig{})
	_ = idx.Set(7, geo.Point{Lat: 37.7793, Lng: -122.4193}) // San Francisco City Hall
	key, _ := idx.Key(geo.Point{Lat: 37.7793, Lng: -122.4193}, 6)
	ids, _ := idx.CellIDs(key, nil)
	fmt.Println(key, ids)
	cells, _ := idx.Cells(geo.Point{Lat: 37.7749, Lng: -122.4194}, 500, nil)
	fmt.Println(len(cells), "cells of", len(cells[0]), "characters")
	// Output:
	// 9q8yym [7]
	// 6 cells of 6 characters
}

// ExampleNewS2 finds points across the antimeridian, where longitudes jump from 180 to -180.
func ExampleNewS2() {
	idx, _ := geo.NewS2(geo.S2Config{})
	_ = idx.Set(1, geo.Point{Lat: -17.7134, Lng: 178.0650})  // Fiji
	_ = idx.Set(2, geo.Point{Lat: -13.7590, Lng: -172.1046}) // Samoa
	_ = idx.Set(3, geo.Point{Lat: 35.6762, Lng: 139.6503})   // Tokyo
	rs, _ := idx.Radius(geo.Point{Lat: -15, Lng: 180}, 1500e3, 0, nil)
	for _, r := range rs {
		fmt.Printf("%d at %.0f km\n", r.ID, r.Distance/1000)
	}
	box, _ := idx.Box(geo.Point{Lat: -20, Lng: 170}, geo.Point{Lat: -10, Lng: -170}, nil)
	fmt.Println("box:", len(box))
	// Output:
	// 1 at 366 km
	// 2 at 861 km
	// box: 2
}

// ExampleNewQuadtree orders neighbours by true distance near the North Pole, where a search in
// planar degrees would pick the point on the same meridian (ID 2) first.
func ExampleNewQuadtree() {
	idx, _ := geo.NewQuadtree(geo.QuadtreeConfig{LeafSize: 1})
	_ = idx.Set(1, geo.Point{Lat: 89.9, Lng: -135})
	_ = idx.Set(2, geo.Point{Lat: 89.0, Lng: 45})
	_ = idx.Set(3, geo.Point{Lat: 89.95, Lng: 180})
	rs, _ := idx.Nearest(geo.Point{Lat: 89.8, Lng: 45}, 3, nil)
	for _, r := range rs {
		fmt.Printf("%d at %.1f km\n", r.ID, r.Distance/1000)
	}
	// Output:
	// 3 at 26.5 km
	// 1 at 33.4 km
	// 2 at 89.0 km
}
