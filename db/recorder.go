package db

import (
	"context"
	"strings"
	"sync"
)

// A Recorder collects the kinds of statement a request ran ("SELECT
// sessions", "UPDATE sessions", ...), so a lesson can draw the exchange
// browser ⇄ server ⇄ database from what really happened.
type Recorder struct {
	mu    sync.Mutex
	stmts []string
}

type recorderKey struct{}

// WithRecorder returns a context whose statements are recorded.
func WithRecorder(ctx context.Context) (context.Context, *Recorder) {
	r := &Recorder{}
	return context.WithValue(ctx, recorderKey{}, r), r
}

// Statements lists what ran, in order.
func (r *Recorder) Statements() []string {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.stmts...)
}

func record(ctx context.Context, query string) {
	r, ok := ctx.Value(recorderKey{}).(*Recorder)
	if !ok {
		return
	}
	kind := statementKind(query)
	r.mu.Lock()
	if len(r.stmts) < 64 {
		r.stmts = append(r.stmts, kind)
	}
	r.mu.Unlock()
}

// statementKind names a statement by its verb and table: "SELECT sessions",
// "INSERT events", "BEGIN".
func statementKind(q string) string {
	f := strings.Fields(q)
	if len(f) == 0 {
		return ""
	}
	verb := strings.ToUpper(f[0])
	after := map[string]string{"SELECT": "FROM", "DELETE": "FROM", "INSERT": "INTO", "REPLACE": "INTO", "UPDATE": "UPDATE"}[verb]
	if after == "" {
		return verb
	}
	// Only the outer statement's table counts: a subquery in the column
	// list (the session read gathers the cart with one) is not what the
	// statement reads from.
	depth := 0
	for i, w := range f {
		outer := depth == 0
		depth += strings.Count(w, "(") - strings.Count(w, ")")
		if outer && strings.EqualFold(w, after) && (verb != "UPDATE" || i == 0) && i+1 < len(f) {
			t := strings.Trim(f[i+1], "`\"(),")
			if strings.HasSuffix(strings.ToUpper(q), "FOR UPDATE") {
				return verb + " " + t + " FOR UPDATE"
			}
			return verb + " " + t
		}
	}
	return verb
}
