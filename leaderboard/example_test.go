package leaderboard_test

import (
	"fmt"

	"github.com/sysblocks/sysblocks/leaderboard"
)

func Example() {
	b := leaderboard.New()
	for i, name := range []string{"ada", "bob", "cy", "dee", "eve", "fay"} {
		b.Add(name, float64(100*i))
	}
	b.Incr("ada", 450) // ZINCRBY: ada now has 450

	for _, e := range b.Top(3, nil) { // ZREVRANGE 0 2
		fmt.Println(e.Rank, e.Member, e.Score)
	}
	r, _ := b.Rank("ada") // ZREVRANK
	fmt.Println("ada is", r)
	for _, e := range b.Around("ada", 1, nil) { // one above, one below
		fmt.Println("around:", e.Rank, e.Member)
	}
	// Output:
	// 0 fay 500
	// 1 ada 450
	// 2 eve 400
	// ada is 1
	// around: 0 fay
	// around: 1 ada
	// around: 2 eve
}

func ExampleBoard_Add_flags() {
	b := leaderboard.New()
	b.Add("ada", 10)
	added, _ := b.Add("ada", 5, leaderboard.GT) // GT: 5 does not beat 10
	changed, _ := b.Add("ada", 20, leaderboard.GT, leaderboard.CH)
	_, err := b.Add("ada", 1, leaderboard.NX, leaderboard.XX)
	s, _ := b.Score("ada")
	fmt.Println(added, changed, s, err)
	// Output: false true 20 leaderboard: incompatible add flags: NX with XX
}

func ExampleBoard_AddBatch() {
	b := leaderboard.New()
	// One lock, one step: the same replies as three Add calls in order.
	added, _ := b.AddBatch([]leaderboard.Entry{
		{Member: "ada", Score: 10},
		{Member: "bob", Score: 20},
		{Member: "ada", Score: 30}, // a later entry for the same member wins
	})
	// Each entry's Score is the increment; the new scores come back in order.
	scores, _ := b.IncrBatch([]leaderboard.Entry{{Member: "bob", Score: 5}, {Member: "cy", Score: 1}}, nil)
	fmt.Println(added, scores)
	for _, e := range b.Top(3, nil) {
		fmt.Println(e.Rank, e.Member, e.Score)
	}
	// Output:
	// 2 [25 1]
	// 0 ada 30
	// 1 bob 25
	// 2 cy 1
}

func ExampleNewWithOptions_arrival() {
	b, _ := leaderboard.NewWithOptions(leaderboard.Options{TieBreak: leaderboard.ByArrival})
	b.Add("zed", 100) // reached 100 first
	b.Add("amy", 100)
	for _, e := range b.Top(2, nil) {
		fmt.Println(e.Rank, e.Member)
	}
	// Output:
	// 0 zed
	// 1 amy
}

func ExampleBoard_RangeByScore() {
	b := leaderboard.New()
	for i, name := range []string{"a", "b", "c", "d"} {
		b.Add(name, float64(i))
	}
	for _, e := range b.RangeByScore(1, 3, 0, 2, nil) { // ZREVRANGEBYSCORE 3 1 LIMIT 0 2
		fmt.Println(e.Member, e.Score, e.Rank)
	}
	fmt.Println(b.Count(1, 3))
	// Output:
	// d 3 0
	// c 2 1
	// 3
}

func ExampleSharded() {
	s, _ := leaderboard.NewSharded(4, leaderboard.Options{})
	for i := 0; i < 10; i++ {
		s.Add(fmt.Sprintf("p%d", i), float64(i))
	}
	top := s.Top(2, nil)
	r, _ := s.Rank("p3")
	fmt.Println(top[0].Member, top[1].Member, r)
	// Output: p9 p8 6
}
