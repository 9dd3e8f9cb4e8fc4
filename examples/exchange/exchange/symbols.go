package exchange

// tickers are the 100 listed symbols of the simulated exchange.
var tickers = [...]string{
	"AAPL", "MSFT", "GOOG", "AMZN", "NVDA", "META", "TSLA", "BRK", "JPM", "V",
	"UNH", "XOM", "JNJ", "WMT", "MA", "PG", "AVGO", "HD", "CVX", "LLY",
	"MRK", "ABBV", "KO", "PEP", "COST", "ORCL", "BAC", "ADBE", "MCD", "CSCO",
	"CRM", "TMO", "ACN", "NFLX", "ABT", "LIN", "AMD", "DHR", "DIS", "WFC",
	"TXN", "CMCSA", "PM", "VZ", "NEE", "INTC", "NKE", "BMY", "UPS", "RTX",
	"HON", "QCOM", "LOW", "INTU", "SPGI", "UNP", "IBM", "AMGN", "CAT", "GS",
	"BA", "SBUX", "DE", "PLD", "MS", "ELV", "BLK", "GE", "AMAT", "MDT",
	"ISRG", "GILD", "ADP", "T", "NOW", "BKNG", "LMT", "SYK", "TJX", "MDLZ",
	"C", "ADI", "CVS", "MMC", "REGN", "VRTX", "AXP", "SCHW", "PGR", "ZTS",
	"CI", "MO", "TMUS", "SO", "CB", "DUK", "BDX", "SLB", "EOG", "FI",
}

// Symbol is one listed product: its ticker and the reference price (in
// ticks of one cent) the simulation starts from.
type Symbol struct {
	Name     string
	RefPrice int64
}

// DefaultSymbols returns the 100 symbols with deterministic reference prices
// between $20 and about $520.
func DefaultSymbols() []Symbol {
	out := make([]Symbol, len(tickers))
	x := uint64(0x9E3779B97F4A7C15)
	for i, t := range tickers {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out[i] = Symbol{Name: t, RefPrice: 2000 + int64(x%50000)}
	}
	return out
}
