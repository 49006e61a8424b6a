// Command agegender finds every face in a photo and estimates its age and gender.
package main

import (
	"os"

	"github.com/agegender/agegender/internal/cli"
	"github.com/agegender/agegender/internal/iostreams"
)

// version is the release's version, set by the release build
// (.goreleaser.yaml: -X main.version=...); empty in a development build,
// whose `version` then reports the module's version and VCS revision.
var version string

func main() {
	os.Exit(cli.Main(os.Args[1:], iostreams.System(), openEngine, version))
}
