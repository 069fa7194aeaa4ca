package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aisle/aisle/app"
	"github.com/aisle/aisle/internal/progress"
	"github.com/aisle/aisle/recs"
)

const recsUsage = `usage: aisle recs build [--data DIR] [--scorer cosine|smith-linden] [--top N] [--max-basket N] [--similar] [--resample N] [--no-ease]
       aisle recs eval [--sample N] [--half] [--dims 64,128]`

// recsCommand runs `aisle recs build` and `aisle recs eval`.
func recsCommand(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, recsUsage)
		return errors.New("recs: no subcommand given")
	}
	switch args[0] {
	case "build":
		return recsBuild(ctx, args[1:], stderr)
	case "eval":
		return recsEval(ctx, args[1:], stderr)
	}
	fmt.Fprintln(stderr, recsUsage)
	return fmt.Errorf("recs: unknown subcommand %q", args[0])
}

func recsBuild(ctx context.Context, args []string, stderr io.Writer) error {
	b := app.RecsBuild{Log: stderr}
	var scorer string
	fs := flag.NewFlagSet("aisle recs build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&b.Data, "data", "./data", "data `directory`; the snapshot is written to "+app.RecsFile+" in it")
	fs.StringVar(&scorer, "scorer", "cosine", "also-bought `scorer`: cosine or smith-linden")
	fs.IntVar(&b.Options.TopN, "top", 0, "also-bought neighbours kept per item (0: the default, 50)")
	fs.IntVar(&b.Options.MaxBasket, "max-basket", 0, "items counted per order (0: the default, 50)")
	fs.BoolVar(&b.NoEASE, "no-ease", false, "write the scorer's lists without EASE over the most ordered items (serve adds it at start)")
	fs.BoolVar(&b.Similar, "similar", true, "also learn the similar-items embeddings and their HNSW graph into the snapshot")
	fs.IntVar(&b.Resample, "resample", 0, "build from this many `orders` drawn with replacement from the shipped ones, over copies of the items making 50,000 (a scale test; 0: the shipped orders as they are)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("recs build: unexpected arguments %q", fs.Args())
	}
	var err error
	if b.Options.Scorer, err = recs.ParseScorer(scorer); err != nil {
		return err
	}
	b.Options.Progress = (&progress.Bar{W: stderr}).Counts("also bought")
	return app.BuildRecs(ctx, b)
}

func recsEval(ctx context.Context, args []string, stderr io.Writer) error {
	e := app.RecsEval{Log: stderr}
	fs := flag.NewFlagSet("aisle recs eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&e.Sample, "sample", 0, "score only the first `N` test orders (0: all)")
	fs.BoolVar(&e.Half, "half", false, "hide half of each basket instead of one item")
	fs.StringVar(&e.Orders, "orders", "instacart", "the `orders` evaluated: instacart (the shipped store's) or retail (FIMI retail baskets, lists only)")
	dimList := fs.String("dims", "", "comma-separated `dimensions` of the embeddings evaluated on their own, as before the hybrid index (none: skip them)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for f := range strings.SplitSeq(*dimList, ",") {
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d <= 0 {
			return fmt.Errorf("recs eval: --dims: %q is not a dimension", f)
		}
		e.Dims = append(e.Dims, d)
	}
	return app.EvalRecs(ctx, e)
}
