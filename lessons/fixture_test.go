package lessons

import (
	"strings"
	"testing"
	"testing/fstest"
)

// validLesson is a small, valid lesson file: three event steps, a question
// step in the middle, two quiz questions of three choices each. Tests break it one way at a time.
const validLesson = `---
title: Fixture lesson
summary: A lesson for tests.
objectives:
  - Test the loader
steps:
  - id: visit
    title: Visit the cart
    do: Open [your cart]({{.BaseURL}}/cart). Your ID starts with {{.SessionPrefix}}.
    curl:
      - curl -b jar.txt {{.BaseURL}}/cart
    devtools: Network, then the cart request.
    hints:
      - Go to /cart.
    trigger:
      event: request
      where: {path: /cart, cookie: sent}
  - id: add
    title: Add a product
    do: Add anything.
    curl:
      - curl -b jar.txt {{.BaseURL}}/cart/add
    devtools: Network, then the POST.
    hints:
      - Any product.
      - Press Add to cart.
    trigger:
      event: cart.added
      where: {product_id: "*"}
  - id: think
    title: Think about it
    do: Think.
    hints:
      - The answer is b.
    question:
      prompt: Which one?
      choices:
        - {id: a, text: Not this, why: Nope.}
        - {id: b, text: This one}
        - {id: c, text: Nor this, why: Not that either.}
      answer: b
      explain: Because b.
  - id: leave
    title: Log out
    do: Press Log out.
    curl:
      - curl -b jar.txt {{.BaseURL}}/logout
    devtools: Network, then the POST.
    hints:
      - Top bar.
    trigger:
      event: logout
      where: {username: "*"}
quiz:
  - id: q1
    prompt: First?
    choices:
      - {id: yes, text: Yes}
      - {id: no, text: No, why: Think again.}
      - {id: maybe, text: Maybe, why: It is certain.}
    answer: yes
    explain: Yes it is.
  - id: q2
    prompt: Second?
    choices:
      - {id: a, text: A}
      - {id: b, text: B, why: Not B.}
      - {id: c, text: C, why: Not C.}
    answer: a
    explain: A it is.
---
## Body

See [the other lesson](/lessons/second) and your ID {{.SessionPrefix}}.
`

// secondLesson is the lesson validLesson links to.
const secondLesson = `---
title: Second
summary: Another.
objectives: [Be there]
steps:
  - id: visit
    title: Visit the cart
    do: Open the cart.
    curl: [curl localhost]
    devtools: Network.
    hints: [Go to /cart.]
    trigger: {event: request, where: {path: /cart}}
quiz:
  - {id: q1, prompt: Pick one, choices: [{id: a, text: A}, {id: b, text: B, why: Not B.}, {id: c, text: C, why: Not C.}], answer: a, explain: A.}
  - {id: q2, prompt: Pick two, choices: [{id: a, text: A, why: Not A.}, {id: b, text: B}, {id: c, text: C, why: Not C.}], answer: b, explain: B.}
---
Body.
`

// fixtureFS builds a catalog directory from file contents.
func fixtureFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, text := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return fsys
}

// loadFixture loads validLesson (optionally changed by edit) as lesson 1
// and secondLesson as lesson 2.
func loadFixture(t *testing.T, edit func(string) string) *Catalog {
	t.Helper()
	first := validLesson
	if edit != nil {
		first = edit(first)
	}
	c, err := LoadFS(fixtureFS(map[string]string{"01-first.md": first, "02-second.md": secondLesson}))
	if err != nil {
		t.Fatalf("LoadFS: %v", err)
	}
	return c
}

// replace returns an edit that replaces old with new exactly once, failing
// the test if old is not in the fixture (so a fixture change cannot make a
// test vacuous).
func replace(t *testing.T, old, new string) func(string) string {
	t.Helper()
	if strings.Count(validLesson, old) != 1 {
		t.Fatalf("fixture edit: %q occurs %d times in validLesson", old, strings.Count(validLesson, old))
	}
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

func key(step string) Key { return Key{"first", step} }

func progress(done ...Key) Progress {
	p := Progress{Done: map[Key]bool{}, Hints: map[Key]int{}}
	for _, k := range done {
		p.Done[k] = true
	}
	return p
}

func ev(kind string, kv ...string) Event {
	d := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		d[kv[i]] = kv[i+1]
	}
	return Event{Kind: kind, Detail: d}
}
