package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const progName = "kafka-tools"

// run runs the command line args (without the program name) and returns
// the exit code. main calls it with os.Stdin behind it; see runWithInput.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWithInput(ctx, args, os.Stdin, stdout, stderr)
}

// runWithInput is run with the input that produce reads.
func runWithInput(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := newGlobals(os.Getenv)
	top := newFlagSet(progName)
	g.register(top)
	help := top.Bool("help", false, "show this help")
	top.BoolVar(help, "h", false, "show this help")

	// Global flags come before the command; the first positional names it.
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeMainHelp(stdout, top)
			return exitOK
		}
		return fail(stderr, usagef("%v", err), g, nil)
	}
	rest := top.Args()
	if *help || len(rest) == 0 {
		if len(rest) == 0 && !*help {
			writeMainHelp(stderr, top)
			return exitUsage
		}
		writeMainHelp(stdout, top)
		return exitOK
	}
	name, rest := rest[0], rest[1:]
	if name == "help" {
		if len(rest) == 0 {
			writeMainHelp(stdout, top)
			return exitOK
		}
		c := lookupCommand(rest[0])
		if c == nil {
			return fail(stderr, usagef("unknown command %q", rest[0]), g, nil)
		}
		fs, _ := c.flagSet(g)
		writeCommandHelp(stdout, c, fs)
		return exitOK
	}
	c := lookupCommand(name)
	if c == nil {
		return fail(stderr, usagef("unknown command %q (run %q for the list)", name, progName+" --help"), g, nil)
	}

	fs, act := c.flagSet(g)
	pos, err := parseInterleaved(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeCommandHelp(stdout, c, fs)
			return exitOK
		}
		return fail(stderr, usagef("%v", err), g, c)
	}
	if err := g.check(c); err != nil {
		return fail(stderr, err, g, c)
	}
	if len(pos) < c.minArgs || (c.maxArgs >= 0 && len(pos) > c.maxArgs) {
		return fail(stderr, usagef("%s takes %s, got %d argument(s)", c.name, c.argsDesc(), len(pos)), g, c)
	}

	if g.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.timeout)
		defer cancel()
	}
	e := newEnv(g, stdin, stdout, stderr)
	defer e.close()
	r, err := act(ctx, e, pos)
	if err == nil && r != nil {
		err = writeReport(stdout, r, g.output)
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && (g.timeout == 0 || g.dialTimeout < g.timeout) {
		// The command still had time: a shorter limit inside it fired. When
		// --timeout clamps the dial limit the two fire together and the
		// dial's may win by a hair; that is still --timeout's doing.
		err = &dialTimeoutError{limit: e.dialTimeout(), err: err}
	}
	return fail(stderr, err, g, c)
}

// fail prints err, if any, on one line and returns its exit code. Usage
// errors end with the command's usage as a hint.
func fail(stderr io.Writer, err error, g *globals, c *command) int {
	if err == nil {
		return exitOK
	}
	msg := oneLine(err, g.timeout)
	code := exitCode(err)
	if code == exitUsage {
		if c != nil {
			msg += fmt.Sprintf(" (usage: %s; see %s %s --help)", c.usageLine(), progName, c.name)
		} else {
			msg += fmt.Sprintf(" (usage: %s [global flags] COMMAND [flags] [arguments]; see %s --help)", progName, progName)
		}
	}
	fmt.Fprintf(stderr, "%s: %s\n", progName, msg)
	return code
}

func writeMainHelp(w io.Writer, top *flag.FlagSet) {
	fmt.Fprintf(w, `%[1]s inspects and administers a Kafka cluster.

Usage:
  %[1]s [global flags] COMMAND [flags] [arguments]

Commands (pykafka's names; kebab-case spellings such as desc-topic work too):
`, progName)
	t := newTable(w)
	for _, c := range commands {
		t.row("  "+c.name, c.summary)
	}
	_ = t.flush()
	fmt.Fprintf(w, "\nGlobal flags (accepted before or after the command):\n")
	printFlags(w, top, map[string]bool{"h": true, "help": true})
	fmt.Fprintf(w, `
Examples:
  %[1]s print_topics
  %[1]s --brokers kafka1:9092,kafka2:9092 desc_topic orders
  %[1]s print_consumer_lag orders billing -o json
  %[1]s --brokers kafka1:9093 --tls-ca ca.pem --tls-cert me.pem --tls-key me-key.pem print_topics
  KAFKA_SASL_PASSWORD=... %[1]s --brokers kafka1:9094 --tls --sasl-mechanism SCRAM-SHA-512 --sasl-user me print_topics
  %[1]s reset_offsets orders billing 2024-05-01T00:00:00Z

Exit status: 0 on success, 1 when the command failed, 2 for a bad command line.
Run "%[1]s COMMAND --help" for a command's flags and examples.
`, progName)
}

func writeCommandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  %s\n", c.summary, c.usageLine())
	if len(c.aliases) > 0 {
		fmt.Fprintf(w, "  (also: %s)\n", strings.Join(c.aliases, ", "))
	}
	if c.details != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.details))
	}
	var own bool
	fs.VisitAll(func(f *flag.Flag) { own = own || !globalFlagNames[f.Name] })
	if own {
		fmt.Fprintf(w, "\nFlags:\n")
		printFlags(w, fs, globalFlagNames)
	}
	fmt.Fprintf(w, "\nGlobal flags: --brokers, --zookeeper, --timeout, --dial-timeout, -o/--output, -v/--verbose, --tls*, --sasl* (see %s --help).\n", progName)
	if len(c.examples) > 0 {
		fmt.Fprintf(w, "\nExamples:\n")
		for _, ex := range c.examples {
			fmt.Fprintf(w, "  %s %s\n", progName, ex)
		}
	}
}
