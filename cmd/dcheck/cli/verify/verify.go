// Package verify is "dcheck verify", the conformance suite's command. It
// is linked into dcheck-verify alone (cmd/dcheck-verify), which dcheck
// runs for it: a dcheck that judges a pid or scans a host does not pay
// for Ginkgo, Gomega and the suite at every start.
package verify

import (
	"errors"
	"fmt"

	"github.com/dcheck/dcheck/cmd/dcheck/cli"
	"github.com/dcheck/dcheck/config"
	"github.com/dcheck/dcheck/suites"
)

// verifyOptions are the flags of "dcheck verify".
type verifyOptions struct {
	cfg     suites.Config
	reports suites.Reports
	config  string // --config FILE
}

// Run is "dcheck verify": args are its flags and the start command.
func Run(args []string, io cli.IO) error {
	o := verifyOptions{cfg: suites.NewConfig()}
	fs := cli.NewFlags("dcheck verify", io, cli.Help{
		Usage: "dcheck verify [flags] -- START COMMAND...",
		About: `Starts the daemon in a hostile environment, judges it with every rule, drives
its lifecycle (second start, SIGHUP, stop, kill -9 and restart, eight starts
at once) and cleans up. Exit 0 if every spec passed, 1 if any failed, 2 on a
usage error, 3 if nothing was judged.`,
		Examples: []string{
			"dcheck verify --pidfile /tmp/d.pid -- /usr/local/bin/mydaemon start -pidfile /tmp/d.pid",
			"dcheck verify --profile supervised -- /usr/local/bin/mydaemon run",
			"dcheck verify --label-filter 'SU102 || DC103' --pidfile /tmp/d.pid -- ./mydaemon start",
			"dcheck verify --launch job-control --pidfile /tmp/d.pid -- ./mydaemon start   # as typed at a shell prompt",
			"dcheck verify --init-script /etc/init.d/nginx --pidfile /run/nginx.pid   # and its actions (SU120-SU124)",
			"dcheck verify --unit /lib/systemd/system/nginx.service --dropin port.conf   # as systemd runs it (SU113-SU116)",
			"dcheck verify --unit dbus.service --socket dbus.socket   # socket-activated (SU117)",
		},
	})
	o.cfg.BindFlags(fs.FlagSet, "")
	fs.StringVar(&o.reports.LabelFilter, "label-filter", "", "run only the specs whose labels match `expr` (Ginkgo syntax: \"DC103 || SU104\")")
	fs.StringVar(&o.reports.JUnit, "junit-report", "", "write a JUnit XML report to `file`")
	fs.StringVar(&o.reports.JSON, "json-report", "", "write a Ginkgo JSON report to `file`")
	fs.BoolVar(&o.reports.Verbose, "v", false, "verbose Ginkgo output")
	fs.StringVar(&o.config, "config", "", "`file` of per-daemon expectations and waivers (YAML): the entry matching the daemon applies, its waivers to lifecycle specs too")
	start, err := cli.ParseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(start) == 0 && o.cfg.InitScript == "" && o.cfg.Unit == "" {
		return cli.Usagef("verify: no start command (give it after --, or --init-script, or --unit)")
	}
	o.cfg.Start = start
	if o.config != "" {
		f, err := config.Load(o.config)
		if err != nil {
			return cli.Usagef("--config: %v", err)
		}
		o.cfg.Tailor = f.Tailor
	}
	o.cfg.Out = io.Out
	o.reports.Color = io.Color
	if err := o.cfg.Validate(); err != nil {
		return cli.Usagef("verify: %v", err)
	}
	passed, err := suites.RunStandalone(o.cfg, o.reports)
	if errors.Is(err, suites.ErrConfig) {
		return cli.Usagef("verify: %v", err)
	}
	if errors.Is(err, suites.ErrNothingJudged) {
		return cli.ExitWith(cli.ExitUninspectable, fmt.Errorf("verify: %w: the label filter matched no spec that could judge the daemon", err))
	}
	if err != nil {
		return cli.ExitWith(cli.ExitFail, err)
	}
	if !passed {
		return cli.ExitWith(cli.ExitFail, nil)
	}
	return nil
}
