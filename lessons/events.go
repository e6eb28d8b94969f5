package lessons

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"sessionlab/events"
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

// EventKinds returns every event kind a trigger may name, sorted: the kinds
// of package events' table that reach a learner's session before the lesson
// engine runs. A trigger naming anything else could never fire, so the
// loader rejects it instead of leaving a learner stuck.
func EventKinds() []string {
	var kinds []string
	for _, k := range events.All() {
		if k.Spec().Trigger {
			kinds = append(kinds, k.String())
		}
	}
	sort.Strings(kinds)
	return kinds
}

// triggerFields are the detail keys (and closed value sets) a trigger on the
// named kind may test; ok is false for a kind no trigger can name.
func triggerFields(name string) (fields events.Fields, ok bool) {
	k, ok := events.Parse(name)
	if !ok || !k.Spec().Trigger {
		return nil, false
	}
	return k.Spec().Fields, true
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
			if fields, _ := triggerFields(t.Event); len(fields[k]) > 0 {
				v = fields[k][0]
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

// validate checks the trigger against package events' table.
func (t *Trigger) validate() error {
	if t.Event == "" {
		return fmt.Errorf("trigger has no event")
	}
	keys, ok := triggerFields(t.Event)
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
