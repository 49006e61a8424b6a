package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/iostreams"
)

// buildVersion reports the release's version (release, set by the release
// build), else the module version the Go toolchain stamps, with the VCS
// revision either way.
func buildVersion(release string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return cmp.Or(release, "unknown")
	}
	v := cmp.Or(release, bi.Main.Version)
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	return v
}

type versionOptions struct {
	ortLib, model string
	asJSON        bool
	open          OpenEngine
	release       string
}

func newCmdVersion(ios *iostreams.IOStreams, open OpenEngine, release string) *cobra.Command {
	o := versionOptions{open: open, release: release}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the versions of agegender, its model, its face detector and ONNX Runtime",
		Long: `version prints the versions of agegender, the age/gender model and ONNX
Runtime, and the face detector in use (the built-in YuNet, or the file
$AGEGENDER_DETECTOR names) with its default size and score threshold.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return versionRun(cmd.Context(), ios, &o)
		},
	}
	registerModelFlags(cmd.Flags(), &o.ortLib, &o.model)
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print JSON")
	return cmd
}

// versionRun prints the versions; an engine that cannot start is reported
// in the output, not as a failure, since version is how one finds out why.
func versionRun(ctx context.Context, ios *iostreams.IOStreams, o *versionOptions) error {
	out := map[string]any{"agegender": buildVersion(o.release)}
	var info face.EngineInfo
	eng, err := o.open(ctx, face.EngineConfig{
		ORTLibrary: o.ortLib, Model: o.model, Mode: face.DetectAuto, Detect: face.DefaultDetectParams(), Threads: 1,
	})
	if err != nil {
		out["error"] = err.Error()
	} else {
		info = eng.Info()
		maps.Copy(out, info.Fields())
		if cerr := eng.Close(); cerr != nil {
			return cerr
		}
	}
	if o.asJSON {
		enc := json.NewEncoder(ios.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(ios.Out, "agegender %s\n", out["agegender"])
	if err != nil {
		printLine(ios.Out, "model and runtime: unavailable: %v", err)
		return nil
	}
	// The model's metadata and the detector's path are the user's.
	printLine(ios.Out, "model %s", info.Describe())
	printLine(ios.Out, "detector %s", info.Detector)
	printLine(ios.Out, "ONNX Runtime %s", info.ORTVersion)
	return nil
}
