// Command bench measures orgdb against hand-written database/sql, the
// floor (the same SQL through reused prepared statements) and GORM, on one
// migrated SQLite file; checks that costs stay flat from 1,000 to 1,000,000
// rows; runs a concurrent load; and times make generate.
//
// Every figure is a series of rounds, summarized by its median and a 95%
// confidence interval from golang.org/x/perf/benchmath. A target is met
// when the whole interval is inside it, missed when the whole interval is
// outside, and unclear otherwise; an unclear figure is rerun with more
// rounds until it is decided or its time budget is spent. Variants run
// interleaved within one process, and ratios are taken per round (the two
// variants measured back to back), so machine drift hits both sides of a
// ratio alike.
//
// It prints one line per figure (median, interval, target, verdict) and
// writes RESULTS.md. Run it with make bench.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// config is the command line.
type config struct {
	rounds      int           // initial interleaved rounds of the ratio and scale parts
	sample      time.Duration // time per variant per round
	refine      time.Duration // time budget per part for rerunning unclear figures
	scale       int           // rows in the large database
	load        time.Duration // duration of each load run
	loadRuns    int           // quiet load runs
	busyRuns    int           // load runs beside a CPU-bound process
	generations int           // timed warm make generate runs

	durabilityRounds int    // interleaved backup/cp/restore rounds
	litestream       string // litestream binary for the replication lag ("": not measured)
	lagSamples       int    // commits timed to the replica

	walProcs    int           // writer processes of the wal part
	walFor      time.Duration // duration of its main runs
	walRounds   int           // interleaved rounds of its ratio
	walRoundFor time.Duration // duration of each run of a round
}

func main() {
	var c config
	flag.IntVar(&c.rounds, "rounds", 20, "initial interleaved rounds of the ratio and scaling benchmarks")
	flag.DurationVar(&c.sample, "sample", 50*time.Millisecond, "time per variant per round")
	flag.DurationVar(&c.refine, "refine", 60*time.Second, "time per part for rerunning figures whose verdict is unclear")
	flag.IntVar(&c.scale, "scale", 1_000_000, "users and invites in the large database of the scaling benchmark")
	flag.DurationVar(&c.load, "load", 2*time.Second, "duration of each load run")
	flag.IntVar(&c.loadRuns, "load-runs", 8, "load runs on the quiet machine (at least 6 for a 95% interval)")
	flag.IntVar(&c.busyRuns, "busy-runs", 6, "load runs beside a CPU-bound process")
	flag.IntVar(&c.generations, "generate-runs", 8, "timed warm make generate runs")
	flag.IntVar(&c.durabilityRounds, "durability-rounds", 8, "durability part: interleaved backup, cp and restore rounds")
	flag.StringVar(&c.litestream, "litestream", "", "durability part: the litestream binary, for the replication lag")
	flag.IntVar(&c.lagSamples, "lag-samples", 40, "durability part: commits timed to the replica")
	flag.IntVar(&c.walProcs, "wal-procs", 4, "wal part: writer processes")
	flag.DurationVar(&c.walFor, "wal-duration", 20*time.Second, "wal part: duration of the runs with 1 and with -wal-procs processes")
	flag.IntVar(&c.walRounds, "wal-rounds", 6, "wal part: interleaved rounds of the throughput ratio (at least 6 for a 95% interval)")
	flag.DurationVar(&c.walRoundFor, "wal-round-duration", 5*time.Second, "wal part: duration of each run of a round")
	walWriterPath := flag.String("wal-writer", "", "internal: be a writer process of the wal part on this database")
	walPolicy := flag.String("wal-policy", "policy", "internal: the wal writer's checkpoints: policy (the store's) or passive (PASSIVE only)")
	walFor := flag.Duration("wal-for", 0, "internal: how long the wal writer writes")
	out := flag.String("out", "RESULTS.md", "the results file to write")
	parts := flag.String("parts", "ratio,scale,load,generate,http", "which parts to run, comma-separated (not run by default: litefs, make bench-litefs; durability, make bench-durability; wal, make bench-wal)")
	burnFlag := flag.Bool("burn", false, "internal: keep every CPU busy until standard input closes")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof reads it)")
	memProfile := flag.String("memprofile", "", "write an allocation profile of the run to this file, at its end")
	flag.Parse()
	if *burnFlag {
		burn()
		return
	}
	if *walWriterPath != "" {
		if err := walWriter(*walWriterPath, *walPolicy, *walFor); err != nil {
			fail(err)
		}
		return
	}
	run := func(part string) bool { return slices.Contains(strings.Split(*parts, ","), part) }
	stopProfiles, err := profiles(*cpuProfile, *memProfile)
	if err != nil {
		fail(err)
	}
	defer stopProfiles()

	dir, err := os.MkdirTemp("", "orgdb-bench")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	// fail exits without running deferred calls: remove the databases first.
	failed := func(err error) {
		os.RemoveAll(dir)
		fail(err)
	}

	var report strings.Builder
	fmt.Fprintf(&report, "# Benchmark results\n\n%s, %s, %s/%s, %d CPUs, %s.\n\n", time.Now().UTC().Format("2006-01-02"),
		cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	report.WriteString("Every figure is the median of its rounds with a 95% confidence interval of that median " +
		"(golang.org/x/perf/benchmath, distribution-free). A target is **met** when the whole interval is inside it, " +
		"**MISSED** when the whole interval is outside it, and **unclear** otherwise; unclear figures were rerun with " +
		"more rounds within a time budget before this verdict.\n\n")

	start := time.Now()
	var all []*figure
	for _, p := range []struct {
		name string
		run  func() ([]*figure, string, error)
	}{
		{"ratio", func() ([]*figure, string, error) { return runRatios(dir, c) }},
		{"scale", func() ([]*figure, string, error) { return runScale(dir, c) }},
		{"load", func() ([]*figure, string, error) { return runLoad(dir, c) }},
		{"generate", func() ([]*figure, string, error) { return runGenerate(c) }},
		{"http", func() ([]*figure, string, error) { return runHTTP(dir, c) }},
		{"litefs", func() ([]*figure, string, error) { return runLiteFS(dir, c) }},
		{"durability", func() ([]*figure, string, error) { return runDurability(dir, c) }},
		{"wal", func() ([]*figure, string, error) { return runWAL(dir, c) }},
	} {
		if !run(p.name) {
			continue
		}
		t0 := time.Now()
		figs, md, err := p.run()
		if err != nil {
			failed(err)
		}
		fmt.Fprintf(os.Stderr, "%s done in %s\n", p.name, time.Since(t0).Round(time.Second))
		for _, f := range figs {
			f.print(os.Stdout)
		}
		all = append(all, figs...)
		report.WriteString(md)
	}
	counts := tally(all)
	fmt.Fprintf(&report, "Verdicts: %s. Wall time of the run: %s.\n", counts, time.Since(start).Round(time.Second))
	if err := os.WriteFile(*out, []byte(report.String()), 0o644); err != nil {
		failed(err)
	}
	fmt.Printf("verdicts: %s; wrote %s in %s\n", counts, *out, time.Since(start).Round(time.Second))
}

// tally counts the verdicts of the targeted figures.
func tally(figs []*figure) string {
	n := map[verdict]int{}
	for _, f := range figs {
		if f.target != nil {
			n[f.verdict()]++
		}
	}
	return fmt.Sprintf("%d met, %d missed, %d unclear", n[met], n[missed], n[unclear])
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// burn keeps every CPU busy until standard input closes: the CPU-bound
// neighbour of the busy load runs. Its parent holds the other end of the
// pipe, so it also ends if the parent dies.
func burn() {
	var sink atomic.Uint64
	for range runtime.NumCPU() {
		go func() {
			h := uint64(1)
			for {
				h = h*6364136223846793005 + 1442695040888963407
				if h == 0 {
					sink.Store(h)
				}
			}
		}()
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// opRow is the figures of one op of the ratio part.
type opRow struct {
	o                                  op
	n                                  [nVariants]int // calls per sample
	rounds                             int
	us, floor, hand, gorm, allocs, aln *figure
}

func newOpRow(o op) *opRow {
	fig := func(name, unit string, t *target) *figure {
		return &figure{part: "ratio", name: o.name + " " + name, unit: unit, target: t}
	}
	var tFloor, tHand, tGorm *target
	if o.point {
		tFloor = &target{"≤", 1.15}
	}
	if o.point && o.read {
		tHand, tGorm = &target{"≤", 0.6}, &target{"≥", 3}
	}
	return &opRow{o: o,
		us:     fig("orgdb", "µs", nil),
		floor:  fig("orgdb/floor", "", tFloor),
		hand:   fig("orgdb/handwritten", "", tHand),
		gorm:   fig("gorm/orgdb", "", tGorm),
		aln:    fig("allocs orgdb", "", nil),
		allocs: fig("allocs orgdb−floor", "", &target{"≤", 3}),
	}
}

func (r *opRow) figures() []*figure { return []*figure{r.us, r.floor, r.hand, r.gorm, r.aln, r.allocs} }

func (r *opRow) unclear() bool { return slices.ContainsFunc(r.figures(), (*figure).unclear) }

// round measures every variant once, the order rotating from round to
// round, and adds the per-round ratios: each ratio pairs two samples taken
// seconds apart at most.
func (r *opRow) round(f *fixture) error {
	var ns, allocs [nVariants]float64
	for k := range nVariants {
		v := (k + r.rounds) % nVariants
		var err error
		if ns[v], allocs[v], err = f.sample(r.o, v, r.n[v]); err != nil {
			return err
		}
	}
	r.rounds++
	r.us.add(ns[vOrgdb] / 1000)
	r.floor.add(ns[vOrgdb] / ns[vFloor])
	r.hand.add(ns[vOrgdb] / ns[vHandwritten])
	r.gorm.add(ns[vGorm] / ns[vOrgdb])
	r.aln.add(allocs[vOrgdb])
	r.allocs.add(allocs[vOrgdb] - allocs[vFloor])
	return nil
}

// sample times n calls of variant v of o as testing.B would: setup outside
// the clock, a garbage collection first, then wall time and allocations
// around the loop. It returns ns and allocations per call. (testing.Benchmark
// itself would rerun the op with growing counts each round; one calibrated
// count per variant keeps every round the same length.)
func (f *fixture) sample(o op, v, n int) (ns, allocs float64, err error) {
	if o.setup != nil {
		if err := o.setup(f, n); err != nil {
			return 0, 0, fmt.Errorf("%s setup: %w", o.name, err)
		}
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	for i := range n {
		if _, err := o.run[v](f, i); err != nil {
			return 0, 0, fmt.Errorf("%s/%s: %w", o.name, variantNames[v], err)
		}
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&m1)
	// Allocations per call are truncated to a whole number, as testing.B
	// reports them, so that a stray allocation of the runtime or of a
	// background goroutine does not count as the op's.
	return float64(elapsed.Nanoseconds()) / float64(n), float64((m1.Mallocs - m0.Mallocs) / uint64(n)), nil
}

// callsFor returns how many calls of a ns-per-call operation fill d.
func callsFor(d time.Duration, ns float64) int {
	return max(1, min(10_000_000, int(float64(d.Nanoseconds())/max(ns, 1))))
}

// calibrate returns the calls per sample of each variant of o: enough to
// last about d.
func (f *fixture) calibrate(o op, d time.Duration) ([nVariants]int, error) {
	var n [nVariants]int
	for v := range nVariants {
		calls := 16
		for {
			ns, _, err := f.sample(o, v, calls)
			if err != nil {
				return n, err
			}
			if time.Duration(ns*float64(calls)) >= d/8 || calls >= 1_000_000 {
				n[v] = callsFor(d, ns)
				break
			}
			calls *= 8
		}
	}
	return n, nil
}

// runRatios runs every op's variants interleaved in rounds and summarizes
// the per-round ratios.
func runRatios(dir string, c config) ([]*figure, string, error) {
	f, err := newFixture(dir)
	if err != nil {
		return nil, "", err
	}
	defer f.close()
	rows := make([]*opRow, len(ops))
	for i, o := range ops {
		rows[i] = newOpRow(o)
		if rows[i].n, err = f.calibrate(o, c.sample); err != nil {
			return nil, "", err
		}
	}
	for r := range c.rounds {
		for _, row := range rows {
			if err := row.round(f); err != nil {
				return nil, "", err
			}
		}
		if (r+1)%5 == 0 {
			fmt.Fprintf(os.Stderr, "ratio: round %d/%d\n", r+1, c.rounds)
		}
	}
	// An unclear op gets 5 more rounds at a time, alone.
	batches, err := refine(c.refine, len(rows), func(u int) bool { return rows[u].unclear() }, func(u int) error {
		for range 5 {
			if err := rows[u].round(f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	var figs []*figure
	for _, row := range rows {
		if !row.o.point {
			row.floor.note = "not a point op"
		}
		figs = append(figs, row.figures()...)
	}
	var md strings.Builder
	fmt.Fprintf(&md, "## Ratios (%d interleaved rounds of about %s per variant; %d reruns of 5 rounds for unclear ops)\n\n",
		c.rounds, c.sample, batches)
	markdown(&md, figs)
	md.WriteString("Ratios are taken per round, between two variants measured back to back, and summarized over the rounds. " +
		"floor: the same SQL through `*sql.Stmt`s prepared once (inside transactions via `tx.StmtContext`); " +
		"handwritten: the same SQL, prepared by the driver on each call; GORM: default settings. " +
		"Writes include their transaction; SetOrgAPIKey includes sealing in every variant. " +
		"The floor target applies to point operations, the handwritten and GORM targets to point reads.\n\n")
	return figs, md.String(), nil
}

// runGenerate times warm make generate runs (the tools are built by the
// first, untimed run).
func runGenerate(c config) ([]*figure, string, error) {
	fig := &figure{part: "generate", name: "make generate (warm)", unit: "s", target: &target{"<", 2}}
	once := func() (time.Duration, error) {
		start := time.Now()
		cmd := exec.Command("make", "-s", "-C", "..", "generate")
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("make generate: %w\n%s", err, out)
		}
		return time.Since(start), nil
	}
	if _, err := once(); err != nil {
		return nil, "", err
	}
	more := func(int) error {
		d, err := once()
		fig.add(d.Seconds())
		return err
	}
	for range c.generations {
		if err := more(0); err != nil {
			return nil, "", err
		}
	}
	if _, err := refine(c.refine, 1, func(int) bool { return fig.unclear() }, more); err != nil {
		return nil, "", err
	}
	var md strings.Builder
	md.WriteString("## make generate\n\n")
	markdown(&md, []*figure{fig})
	md.WriteString("Wall time of a warm run, after a first untimed one. The first run on a fresh machine also builds " +
		"the pinned sqlc (about 1–3 min) and the cgo SQLite driver (about 90 s).\n\n")
	return []*figure{fig}, md.String(), nil
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
