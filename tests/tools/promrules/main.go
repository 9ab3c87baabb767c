// Command promrules checks Prometheus alerting and recording rule files with Prometheus's own
// parser (model/rulefmt: the file's shape, every PromQL expression, every label and annotation
// template — what `promtool check rules` runs), without building promtool's service discovery.
//
//	promrules FILE...
//
// Prints "FILE: N rules" per file and exits 0, or prints every error and exits 1.
package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: promrules FILE...")
		os.Exit(2)
	}
	failed := false
	for _, name := range os.Args[1:] {
		groups, errs := rulefmt.ParseFile(name, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.Default())
		if len(errs) > 0 {
			failed = true
			for _, err := range errs {
				fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			}
			continue
		}
		n := 0
		for _, group := range groups.Groups {
			n += len(group.Rules)
		}
		fmt.Printf("%s: %d rules\n", name, n)
	}
	if failed {
		os.Exit(1)
	}
}
