package cli

import (
	"encoding/json"
	"fmt"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/internal/buildinfo"
)

// versionOptions are the flags of "dcheck version".
type versionOptions struct {
	output string
}

// versionInfo is what "dcheck version -o json" prints.
type versionInfo struct {
	Version string `json:"version"`
	buildinfo.Info
	Schema    string `json:"schema"`
	Rules     int    `json:"rules"`
	Catalogue string `json:"catalogue"` // checks.CatalogueDigest
}

func runVersion(args []string, io IO) error {
	var o versionOptions
	fs := NewFlags("dcheck version", io, Help{
		Usage: "dcheck version [-o json]",
		About: `Which dcheck this is: module version, VCS revision and time, Go version,
report schema, and a digest of the rule catalogue. Also: dcheck --version.`,
		Examples: []string{"dcheck version", "dcheck version -o json"},
	})
	fs.StringVar(&o.output, "o", "text", "output `format`: text or json")
	pos, err := ParseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef("version takes no arguments, got %q", pos)
	}
	if o.output != "text" && o.output != "json" {
		return Usagef("-o: unknown format %q (want text or json)", o.output)
	}
	return o.run(io)
}

func (o *versionOptions) run(io IO) error {
	v := versionInfo{Version: buildinfo.Version(), Info: buildinfo.Read(), Schema: checks.Schema,
		Rules: len(checks.Rules()), Catalogue: checks.CatalogueDigest()}
	if o.output == "json" {
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	fmt.Fprintf(io.Out, "dcheck %s\n", v.Version)
	if v.Module != "" {
		fmt.Fprintf(io.Out, "  module    %s %s\n", v.Module, v.Info.Version)
	}
	if v.Revision != "" {
		modified := ""
		if v.Modified {
			modified = ", with uncommitted changes"
		}
		fmt.Fprintf(io.Out, "  revision  %s (%s%s)\n", v.Revision, v.Time, modified)
	}
	fmt.Fprintf(io.Out, "  go        %s\n  schema    %s\n  rules     %d, catalogue %s\n", v.GoVersion, v.Schema, v.Rules, v.Catalogue)
	return nil
}
