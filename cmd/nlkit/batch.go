package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/spf13/cobra"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/rtnl"
)

// batchFlushEvery is how many queued requests trigger a send; big enough
// to fill several datagrams, small enough to stop soon after a failure.
const batchFlushEvery = 4096

// splitLine splits a batch line into words as ip -batch does: white space
// separates, "double" and 'single' quotes group, a backslash escapes the
// next character, and a word starting with # begins a comment.
func splitLine(line string) ([]string, error) {
	// Most lines have no quotes, escapes or comments: split them at
	// once instead of copying every word rune by rune, which was a sixth
	// of a 100,000-route batch's time (BENCHMARKS.md). (Invalid UTF-8
	// takes the long way, which turns it into U+FFFD.)
	if !strings.ContainsAny(line, "\"'\\#") && utf8.ValidString(line) {
		return splitPlain(line), nil
	}
	return splitQuoted(line)
}

// splitPlain splits a line without quotes, escapes or comments at white
// space into words that share its memory; nil if there are none.
func splitPlain(line string) []string {
	n := 0
	for i := 0; i < len(line); i++ {
		if !isBatchSpace(line[i]) && (i == 0 || isBatchSpace(line[i-1])) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	words := make([]string, 0, n)
	start := -1
	for i := 0; i <= len(line); i++ {
		switch {
		case i == len(line) || isBatchSpace(line[i]):
			if start >= 0 {
				words = append(words, line[start:i])
				start = -1
			}
		case start < 0:
			start = i
		}
	}
	return words
}

// splitQuoted is splitLine for lines with quotes, escapes or comments.
func splitQuoted(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range line {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case r == '#' && !inWord:
			return words, nil
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if escaped {
		return nil, errors.New("backslash at end of line")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// isBatchSpace reports whether c separates words in a batch line.
func isBatchSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// lineSpan records which queued requests a batch line produced. It
// holds no pointers (the line is found again by its offset in the file)
// so that a batch of a million lines costs the garbage collector nothing
// to scan.
type lineSpan struct {
	line       int
	off, n     int // the line's bytes in the file
	start, end int // request indexes [start, end)
}

// text returns the line's words joined by single spaces, without a
// leading "nlkit", as they are shown in error messages.
func (s lineSpan) text(file string) string {
	words, _ := splitLine(file[s.off : s.off+s.n])
	if len(words) > 0 && words[0] == "nlkit" {
		words = words[1:]
	}
	return strings.Join(words, " ")
}

func (a *app) runBatch(ctx context.Context, file string) error {
	var r io.Reader = os.Stdin
	name := "stdin"
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("batch: %w", err)
		}
		defer f.Close()
		r, name = f, file
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("batch: read %s: %w", name, err)
	}
	// The lines are walked in place, not split into a slice of strings
	// that the garbage collector would scan over and over.
	all := strings.TrimSuffix(string(data), "\n")
	data = nil
	total := strings.Count(all, "\n") + 1

	c, err := rtnl.Dial(a.config())
	if err != nil {
		return err
	}
	defer c.Close()
	b := c.NewBatch(&netlink.BatchOptions{KeepGoing: a.force})
	prog := newProgress(a.errOut, total)
	defer prog.done()

	fast := newLineRunner(a, b.Client())
	var spans []lineSpan
	failed := 0
	reported := 0
	// report prints kernel failures not yet reported, by line; it returns
	// the number of lines it reported.
	report := func() int {
		fails := b.Failures()
		n := 0
		for ; reported < len(fails); reported++ {
			f := fails[reported]
			for _, s := range spans {
				if f.Index >= s.start && f.Index < s.end {
					prog.clear()
					fmt.Fprintf(a.errOut, "nlkit: %s:%d: %s: %s\n", name, s.line, s.text(all), describeError(f.Err))
					n++
					break
				}
			}
		}
		return n
	}
	stop := func(line int) error {
		return fmt.Errorf("batch %s: stopped at line %d (use -force to go on after errors)", name, line)
	}
	off := 0
	for i := 0; off <= len(all); i++ {
		text, _, _ := strings.Cut(all[off:], "\n")
		lineOff := off
		off += len(text) + 1
		if err := ctx.Err(); err != nil {
			return err
		}
		prog.update(i + 1)
		words, err := splitLine(text)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
		if len(words) > 0 && words[0] == "nlkit" {
			words = words[1:]
		}
		if len(words) == 0 {
			continue
		}
		start := b.Queued()
		err = fast.run(ctx, words)
		spans = append(spans, lineSpan{line: i + 1, off: lineOff, n: len(text), start: start, end: b.Queued()})
		// Reads flush the queue: failures of earlier lines may have come
		// back while this line ran. They happened first.
		if n := report(); n > 0 {
			failed += n
			if !a.force {
				return a.stopNote(name, b, spans)
			}
		}
		if err != nil {
			failed++
			prog.clear()
			fmt.Fprintf(a.errOut, "nlkit: %s:%d: %s\n", name, i+1, describeError(err))
			if !a.force {
				// What earlier lines queued still goes out: they were fine.
				_ = b.Flush(ctx)
				if report() > 0 {
					return a.stopNote(name, b, spans)
				}
				return stop(i + 1)
			}
			continue
		}
		if b.Pending() >= batchFlushEvery {
			ferr := b.Flush(ctx)
			failed += report()
			if ferr != nil && !errors.As(ferr, new(*netlink.BatchError)) {
				return ferr
			}
			if failed > 0 && !a.force {
				return a.stopNote(name, b, spans)
			}
		}
	}
	ferr := b.Flush(ctx)
	failed += report()
	if ferr != nil && !errors.As(ferr, new(*netlink.BatchError)) {
		return ferr
	}
	if failed > 0 {
		if !a.force {
			return a.stopNote(name, b, spans)
		}
		return fmt.Errorf("batch %s: %d of %d lines failed", name, failed, len(spans))
	}
	return nil
}

// progress shows "line N of M" on a terminal for long batches.
type progress struct {
	w     io.Writer
	total int
	on    bool
	last  time.Time
	shown bool
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok && total >= 1000 {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) update(n int) {
	if !p.on || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.shown = true
	fmt.Fprintf(p.w, "\rnlkit: batch: line %d of %d (%d%%)", n, p.total, n*100/p.total)
}

func (p *progress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}

func (p *progress) done() { p.clear() }

// stopNote explains where a batch stopped after a kernel failure: the
// kernel does not stop inside a datagram, so lines sent with the failing
// one were applied; name them.
func (a *app) stopNote(name string, b *rtnl.Batch, spans []lineSpan) error {
	first := b.Failures()[0].Index
	sent := b.Queued() - b.Pending()
	var failLine int
	var after []string
	for _, s := range spans {
		switch {
		case first >= s.start && first < s.end:
			failLine = s.line
		case s.start > first && s.end <= sent && s.end > s.start:
			after = append(after, fmt.Sprint(s.line))
		}
	}
	msg := fmt.Sprintf("batch %s: stopped at line %d (use -force to go on after errors)", name, failLine)
	if len(after) > 0 {
		msg += fmt.Sprintf("; line(s) %s, sent in the same datagram, were applied", strings.Join(after, ", "))
	}
	return errors.New(msg)
}

// lineRunner runs batch lines. Building cobra's command tree and running
// its Execute machinery cost some 40 µs a line, more than the work itself
// (nlkit -batch was several times slower than ip -batch), so the tree is
// built once and a line without flags - nearly every line of a batch - is
// dispatched straight to its command's RunE, after the same Args check
// cobra makes. A line with flags takes the full cobra path on a fresh
// tree, so flag state never leaks from one line to the next.
type lineRunner struct {
	a    *app
	bc   *rtnl.Client
	root *cobra.Command
	// kids maps each command's subcommand names and aliases to them,
	// built on first use: scanning the children of each word was a
	// twentieth of a route batch's time.
	kids map[*cobra.Command]map[string]*cobra.Command
}

func newLineRunner(a *app, bc *rtnl.Client) *lineRunner {
	la := *a
	la.batchClient, la.batchFile = bc, ""
	return &lineRunner{a: a, bc: bc, root: newRoot(&la), kids: map[*cobra.Command]map[string]*cobra.Command{}}
}

// child is findChild, remembered.
func (r *lineRunner) child(cmd *cobra.Command, name string) *cobra.Command {
	m, ok := r.kids[cmd]
	if !ok {
		m = map[string]*cobra.Command{}
		for _, c := range cmd.Commands() {
			for _, n := range append([]string{c.Name()}, c.Aliases...) {
				if _, taken := m[n]; !taken { // the first match wins, as in findChild
					m[n] = c
				}
			}
		}
		r.kids[cmd] = m
	}
	return m[name]
}

func (r *lineRunner) run(ctx context.Context, words []string) error {
	cmd, args := r.root, words
	for len(args) > 0 {
		child := r.child(cmd, args[0])
		if child == nil {
			break
		}
		cmd, args = child, args[1:]
	}
	direct := cmd != r.root && cmd.RunE != nil
	for _, w := range words {
		if strings.HasPrefix(w, "-") {
			direct = false // flags: let cobra parse them
		}
	}
	if !direct {
		la := *r.a
		la.batchClient, la.batchFile = r.bc, ""
		root := newRoot(&la)
		root.SetArgs(normalizeArgs(words))
		root.SetOut(r.a.out)
		root.SetErr(r.a.errOut)
		return root.ExecuteContext(ctx)
	}
	cmd.SetContext(ctx)
	if cmd.Args != nil {
		if err := cmd.Args(cmd, args); err != nil {
			return err
		}
	}
	return cmd.RunE(cmd, args)
}

// findChild returns cmd's subcommand named (or aliased) name.
func findChild(cmd *cobra.Command, name string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return c
		}
	}
	return nil
}
