// Command etcd builds the etcd server from the published go.etcd.io/etcd/server/v3 module
// (its own go.mod replaces siblings with local paths, so it cannot be `go install`ed).
// Same body as upstream server/main.go.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
