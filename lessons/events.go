package lessons

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Event is one thing the web layer saw happen in a learner's session: the
// same kinds it records in the events table for the "what changed" strip.
// Every detail value is a string so that triggers can compare them without
// caring how the web layer typed them.
type Event struct {
	Kind   string
	Detail map[string]string
}

// Any is the where-value meaning "this detail key is present, whatever its
// value". It must be quoted in YAML ("*"), where a bare * starts an alias.
const Any = "*"

// eventSchema lists, per event kind, the detail keys a trigger may test and,
// for keys with a closed set of values, those values. It is the single source
// of truth for what the web layer emits: a trigger naming anything else could
// never fire, so the loader rejects it instead of leaving a learner stuck.
var eventSchema = map[string]map[string][]string{
	"request": {
		"method": {"GET", "POST"},
		"path":   nil,
		"cookie": {"sent", "none"},
		"status": nil,
	},
	"session.created":  {"reason": {"none", "unknown", "expired", "malformed"}},
	"session.refused":  {"reason": {"unknown", "expired", "malformed"}},
	"session.rotated":  {"old": nil, "new": nil, "why": {"login"}},
	"login.failed":     {"username": nil},
	"login.succeeded":  {"username": nil},
	"cart.added":       {"product_id": nil, "quantity": nil},
	"cart.updated":     {"product_id": nil, "quantity": nil},
	"cart.removed":     {"product_id": nil},
	"cart.merged":      {"items": nil},
	"note.added":       {},
	"note.deleted":     {},
	"logout":           {"username": nil},
	"session.ended":    {"by": {"account"}},
	"csrf.refused":     {},
	"server.started":   {"db": {"sqlite", "mariadb"}, "instance": nil},
	"db.copied":        {"from": {"sqlite", "mariadb"}, "to": {"sqlite", "mariadb"}},
	"instance.changed": {"from": nil, "to": nil},
	"lab.attack": {
		"lab":     {"fixation", "logout-replay", "cookie-theft", "cross-site", "guessable-ids", "expiry"},
		"mode":    {"weak", "defended"},
		"outcome": {"succeeded", "failed"},
		"via":     {"solo", "pair"},
	},
	"lab.mode": {
		"lab":  {"fixation", "logout-replay", "cookie-theft", "cross-site", "guessable-ids", "expiry"},
		"mode": {"weak", "defended"},
	},
}

// EventKinds returns every event kind a trigger may name, sorted. The web
// layer's tests can compare it with what it emits.
func EventKinds() []string {
	kinds := make([]string, 0, len(eventSchema))
	for k := range eventSchema {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// Trigger is the event that completes a step: an event of kind Event whose
// details carry every Where key with the given value (or any value for Any).
type Trigger struct {
	Event string            `yaml:"event"`
	Where map[string]string `yaml:"where"`
}

// Matches reports whether ev fires this trigger.
func (t *Trigger) Matches(ev Event) bool {
	if t == nil || ev.Kind != t.Event {
		return false
	}
	for k, want := range t.Where {
		got, ok := ev.Detail[k]
		if !ok || (want != Any && got != want) {
			return false
		}
	}
	return true
}

// Example returns an event that fires this trigger, with Any values filled
// by a plausible value. Tests walk the lessons with it; an instructor's tool
// could use it to simulate a learner.
func (t *Trigger) Example() Event {
	d := make(map[string]string, len(t.Where))
	for k, v := range t.Where {
		if v == Any {
			v = "x"
			if allowed := eventSchema[t.Event][k]; len(allowed) > 0 {
				v = allowed[0]
			}
		}
		d[k] = v
	}
	return Event{Kind: t.Event, Detail: d}
}

// String describes the trigger for logs and error messages:
// `request{cookie=sent path=/cart}`.
func (t *Trigger) String() string {
	keys := make([]string, 0, len(t.Where))
	for k := range t.Where {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + t.Where[k]
	}
	return t.Event + "{" + strings.Join(parts, " ") + "}"
}

// validate checks the trigger against eventSchema.
func (t *Trigger) validate() error {
	if t.Event == "" {
		return fmt.Errorf("trigger has no event")
	}
	keys, ok := eventSchema[t.Event]
	if !ok {
		return fmt.Errorf("unknown event kind %q (known: %s)", t.Event, strings.Join(EventKinds(), ", "))
	}
	for k, v := range t.Where {
		allowed, ok := keys[k]
		if !ok {
			return fmt.Errorf("event %q has no detail %q", t.Event, k)
		}
		if v == "" {
			return fmt.Errorf("event %q: where %q is empty (use \"*\" for any value)", t.Event, k)
		}
		if v != Any && allowed != nil && !slices.Contains(allowed, v) {
			return fmt.Errorf("event %q: %s=%q can never happen (one of: %s)", t.Event, k, v, strings.Join(allowed, ", "))
		}
	}
	return nil
}
