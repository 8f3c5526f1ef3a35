package main

import (
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tokenward/tokenward/report"
	"github.com/tokenward/tokenward/source/image"
)

var imageFlags struct {
	platform string
	insecure bool
	stats    bool
}

var imageCmd = &cobra.Command{
	Use:   "image REF|FILE|DIR",
	Short: "Scan a container image: every layer, the config and its history",
	Long: `Scan a container image: a registry reference (ghcr.io/acme/app:1.2, or by
@sha256: digest), a ` + "`docker save`" + ` tarball (every image it holds) or an OCI layout
directory. An existing path is read as a file or directory; anything else is a
reference. Registry credentials come from the Docker config ($DOCKER_CONFIG,
~/.docker/config.json, credential helpers) and podman's $REGISTRY_AUTH_FILE;
plain http is used only for loopback registries, or with --insecure.

Every regular file of every layer is scanned as ` + "`tokenward scan`" + ` scans files
(archives opened, UTF-16 decoded, binaries as printable runs), including files a
later layer deletes: their findings say "deleted in layer-N". The config's Env,
Cmd, Entrypoint, Labels, Healthcheck, OnBuild and each history created_by line
are scanned too. A multi-platform index is scanned for every platform, or only
--platform. Findings are located as IMAGE@DIGEST:layer-N/path (layer-1 is the
bottom layer) and IMAGE@DIGEST:config/FIELD, with DIGEST the image ID.

Links inside layers are never followed; a corrupt layer is an error (exit 2)
and the findings before the corruption are still reported.`,
	Args: cobra.ExactArgs(1),
	RunE: runImage,
}

func init() {
	f := imageCmd.Flags()
	f.StringVar(&imageFlags.platform, "platform", "", "of a multi-platform image, scan only this platform (os/arch[/variant], e.g. linux/arm64)")
	f.BoolVar(&imageFlags.insecure, "insecure", false, "allow plain http to a registry that is not on loopback")
	f.BoolVar(&imageFlags.stats, "stats", false, "print scan statistics to stderr")
	f.StringVar(&progressMode, "progress", "auto", progressUsage)
	rootCmd.AddCommand(imageCmd)
}

func runImage(cmd *cobra.Command, args []string) error {
	if !report.ValidFormat(common.format) {
		return usageError(errUnknownFormat(common.format))
	}
	opts, err := imageOptions(args[0])
	if err != nil {
		return err
	}
	// An image has no repository configuration: the built-in rules and --config.
	set, err := loadRules("")
	if err != nil {
		return err
	}
	pl, err := pipelineFor(set, pipelineChoice{})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	src := image.New(opts)
	res, err := runWithProgress(ctx, pl, src)
	if err != nil {
		return err
	}
	if imageFlags.stats {
		st := src.Stats
		fmt.Fprintf(os.Stderr, "tokenward: %d images, %d layers (%d scanned, %d shared between images), %d files, %d bytes scanned\n",
			st.Images, st.Layers, st.LayersScanned, st.LayersShared, st.Files, st.Bytes)
	}
	return finish(cmd, fromPipeline(res, set, ""))
}

// imageOptions turns the command line into image source options (also for
// sweep --images).
func imageOptions(input string) (image.Options, error) {
	maxSize, err := parseSize(common.maxFileSize)
	if err != nil {
		return image.Options{}, usageError(err)
	}
	opts := image.Options{Input: input, Insecure: imageFlags.insecure, Workers: workers(), MaxFileSize: maxSize, UserAgent: "tokenward/" + version}
	if imageFlags.platform != "" {
		p, err := v1.ParsePlatform(imageFlags.platform)
		if err != nil {
			return image.Options{}, usageError(fmt.Errorf("--platform %q: %w (want os/arch, e.g. linux/amd64)", imageFlags.platform, err))
		}
		opts.Platform = p
	}
	return opts, nil
}
