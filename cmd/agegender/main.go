// Command agegender finds every face in a photo and estimates its age and gender.
package main

import (
	"os"

	"github.com/agegender/agegender/internal/cli"
	"github.com/agegender/agegender/internal/iostreams"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], iostreams.System(), openEngine))
}
