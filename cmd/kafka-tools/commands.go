package main

import (
	"context"
	"flag"
	"strings"
)

// action runs a command with its positional arguments, after flags were
// parsed. It validates every argument before touching the cluster.
type action func(ctx context.Context, e *env, args []string) (report, error)

// command is one subcommand. setup registers the command's own flags on fs
// and returns the action, which reads them through its closure.
type command struct {
	name     string   // pykafka's spelling
	aliases  []string // kebab-case and other accepted names
	args     string   // positional arguments, for the usage line
	summary  string
	details  string
	examples []string
	minArgs  int
	maxArgs  int // -1: no limit
	setup    func(fs *flag.FlagSet) action
}

func (c *command) usageLine() string {
	s := progName + " " + c.name + " [flags]"
	if c.args != "" {
		s += " " + c.args
	}
	return s
}

func (c *command) argsDesc() string {
	switch {
	case c.maxArgs == 0:
		return "no arguments"
	case c.args == "":
		return "arguments"
	default:
		return c.args
	}
}

// flagSet builds the command's FlagSet, global flags included.
func (c *command) flagSet(g *globals) (*flag.FlagSet, action) {
	fs := newFlagSet(progName + " " + c.name)
	act := c.setup(fs)
	g.register(fs)
	return fs, act
}

// commands lists every subcommand in help order. It is filled in init so
// that the entries, which live next to their implementations, may refer
// to the table (help) without an initialization cycle.
var commands []*command

func init() {
	commands = []*command{
		printTopicsCommand,
		descTopicCommand,
		createTopicCommand,
		deleteTopicCommand,
		addPartitionsCommand,
		describeConfigsCommand,
		alterConfigsCommand,
		deleteRecordsCommand,
		electLeadersCommand,
		reassignCommand,
		logDirsCommand,
		aclsCommand,
		quotasCommand,
		printOffsetsCommand,
		listGroupsCommand,
		describeGroupCommand,
		deleteGroupCommand,
		printManagedConsumerGroupsCommand,
		printConsumerLagCommand,
		groupLagCommand,
		resetOffsetsCommand,
		consumeTopicCommand,
		produceCommand,
	}
}

// lookupCommand finds a command by name or alias. Underscores and dashes
// are interchangeable, so desc_topic, desc-topic (and list-groups,
// list_groups) all work.
func lookupCommand(name string) *command {
	norm := strings.ReplaceAll(strings.ToLower(name), "-", "_")
	for _, c := range commands {
		if c.name == norm {
			return c
		}
		for _, a := range c.aliases {
			if strings.ReplaceAll(a, "-", "_") == norm {
				return c
			}
		}
	}
	return nil
}
