package exchange

import (
	"errors"
	"fmt"
)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("exchange: invalid config")

const (
	maxPrice    = 1 << 31 // ticks: about $21 million a share
	maxQty      = 1 << 31
	maxSymbols  = 255     // an asset index (0 = cash, 1..255 = shares) fits in a byte of the account id
	maxAccounts = 1 << 40 // trader ids stay below the exchange's own accounts
	dayNanos    = int64(24 * 60 * 60 * 1e9)
)

// Config is the exchange's static configuration: the products, the accounts
// and the risk rules. Every node replaying a journal must use the same Config,
// since it shapes the deterministic state (the genesis balances above all).
// The zero value is valid: DefaultSymbols, 2000 accounts funded with $100
// million and 100,000 shares of each symbol, orders of at most 10,000 shares
// and 1,000,000 shares a day per account and symbol.
type Config struct {
	Symbols       []Symbol
	Accounts      int   // trader accounts, numbered 1..Accounts
	InitialCash   int64 // cents credited to each account at genesis
	InitialShares int64 // shares of each symbol credited to each account at genesis
	MaxOrderQty   int64 // risk check: the largest order
	DailyLimit    int64 // risk check: shares an account may order per symbol per UTC day
}

// withDefaults returns a copy of c with zero fields filled and checks it.
func (c Config) withDefaults() (Config, error) {
	if c.Symbols == nil {
		c.Symbols = DefaultSymbols()
	}
	c.Symbols = append([]Symbol(nil), c.Symbols...)
	if c.Accounts == 0 {
		c.Accounts = 2000
	}
	if c.InitialCash == 0 {
		c.InitialCash = 100_000_000_00
	}
	if c.InitialShares == 0 {
		c.InitialShares = 100_000
	}
	if c.MaxOrderQty == 0 {
		c.MaxOrderQty = 10_000
	}
	if c.DailyLimit == 0 {
		c.DailyLimit = 1_000_000
	}
	switch {
	case len(c.Symbols) == 0 || len(c.Symbols) > maxSymbols:
		return c, fmt.Errorf("%w: %d symbols (want 1..%d)", ErrConfig, len(c.Symbols), maxSymbols)
	case c.Accounts < 1 || int64(c.Accounts) > maxAccounts:
		return c, fmt.Errorf("%w: %d accounts", ErrConfig, c.Accounts)
	case c.InitialCash < 0 || c.InitialShares < 0:
		return c, fmt.Errorf("%w: negative genesis balance", ErrConfig)
	case c.MaxOrderQty < 1 || c.MaxOrderQty > maxQty:
		return c, fmt.Errorf("%w: MaxOrderQty %d", ErrConfig, c.MaxOrderQty)
	case c.DailyLimit < 1:
		return c, fmt.Errorf("%w: DailyLimit %d", ErrConfig, c.DailyLimit)
	}
	seen := make(map[string]bool, len(c.Symbols))
	for _, s := range c.Symbols {
		if s.Name == "" || len(s.Name) > 8 || seen[s.Name] || s.RefPrice < 1 || s.RefPrice > maxPrice {
			return c, fmt.Errorf("%w: symbol %q", ErrConfig, s.Name)
		}
		seen[s.Name] = true
	}
	return c, nil
}
