package main

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
)

// BenchmarkRenderCartPage renders /cart with all three panels filled as a
// logged-in learner sees them: the rendering cost of one page view, the
// frame's HTML built in Go (buildHTML) included.
func BenchmarkRenderCartPage(b *testing.B) {
	v, err := newViews(false)
	if err != nil {
		b.Fatal(err)
	}
	data := benchCartData()
	p := data["Page"].(*page)
	b.ReportAllocs()
	for b.Loop() {
		p.buildHTML()
		if err := v.Render(io.Discard, "cart", data); err != nil {
			b.Fatal(err)
		}
	}
}

// benchCartData is /cart's data for a logged-in learner with all panels filled.
func benchCartData() fiber.Map {
	now := time.Now().UTC()
	items := []db.CartItem{{ProductID: 1, Name: "Porcelain Teapot", Quantity: 2, UnitPriceCents: 2499}, {ProductID: 4, Name: "Desk Lamp", Quantity: 1, UnitPriceCents: 4200}}
	p := &page{
		Title: "Your cart", Path: "/cart", User: "alice", CSRF: "Xk3f9a2bXk3f9a2bXk3f9a2bXk3f9a2bXk3f9a2bXk3", Instance: "vm:8080", DBKind: "sqlite",
		Cookie: cookiePanel{Sent: []cookieSeen{{Name: "sessionid", Prefix: "Xk3f9a2b", Length: 43}}, State: cookieValid, Explain: explainCookie(cookieValid)},
		Session: &sessionPanel{KeyPrefix: "9f86d081", Authenticated: true, User: "alice", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(30 * time.Minute), Instance: "vm:8080",
			Data: json.RawMessage(`{"csrf_token":"Xk3f9a2b…"}`),
			Row: []rowCell{{Column: "key", Value: "9f86d081…", Cut: true}, {Column: "user_id", Value: "1"}, {Column: "data", Value: `{"csrf_token":"Xk3f9a2b…"}`},
				{Column: "created_at", Value: now.Format(storedTime)}, {Column: "learner", Value: "abcdefgh…", Cut: true}}},
		Cart:   &cartView{Owner: "alice", Where: "Saved in the cart_items table under alice's account: it outlives this session.", Items: items, TotalCents: 9198, Count: 3},
		Lesson: &lessonBanner{Number: 2, Slug: "the-cookie", LessonTitle: "The cookie", StepIndex: 1, Steps: 4, StepTitle: "Open the cart"},
	}
	p.buildHTML()
	return fiber.Map{"Page": p, "Title": p.Title}
}

// BenchmarkRenderCartPageParallel renders the same page from every core at
// once, as a busy server does: a lock around rendering would show here.
func BenchmarkRenderCartPageParallel(b *testing.B) {
	v, err := newViews(false)
	if err != nil {
		b.Fatal(err)
	}
	data := benchCartData()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := v.Render(io.Discard, "cart", data); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCartPage is one whole /cart view on each database, as the load
// tool's read mode makes it: an established session with two items, the
// session read back from the database, the three panels built and the
// page rendered, over real HTTP through Fiber. ns/op includes the client
// in this process; the load tool's "server CPU per request" is the
// server's alone (README, "Performance and limits").
func BenchmarkCartPage(b *testing.B) {
	for _, dialect := range []string{db.SQLite, db.MariaDB} {
		b.Run(dialect, func(b *testing.B) {
			s := startServer(b, freshDatabase(b, dialect))
			br := s.newBrowser(b)
			br.add("1", "1")
			br.add("2", "1")
			if r := br.get("/cart"); r.Status != 200 || !strings.Contains(r.Body, `data-panel="session"`) {
				b.Fatalf("GET /cart = %d without the session panel", r.Status)
			}
			b.ReportAllocs()
			for b.Loop() {
				if r := br.get("/cart"); r.Status != 200 {
					b.Fatalf("GET /cart = %d", r.Status)
				}
			}
		})
	}
}
