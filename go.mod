module github.com/sysblocks/sysblocks

go 1.24.0

require (
	github.com/cespare/xxhash/v2 v2.3.0
	github.com/golang/geo v0.0.0-20260818125358-b200a1149890
	github.com/google/btree v1.1.3
	github.com/mmcloughlin/geohash v0.10.0
	github.com/redis/go-redis/v9 v9.22.0
	github.com/stretchr/testify v1.12.1
	golang.org/x/time v0.14.0
)

require (
	go.uber.org/atomic v1.11.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.30.0 // indirect
)
