package events_test

import (
	"slices"
	"testing"

	"sessionlab/events"
	"sessionlab/labs"
)

// The lab kinds' closed set of labs is package labs' list: a lab added
// there and not here would make its events fail the table's check, and a
// trigger on it be refused.
func TestLabSlugsAreTheLabs(t *testing.T) {
	var want []string
	for _, l := range labs.All {
		want = append(want, l.Slug)
	}
	for _, k := range []events.Kind{events.LabMode, events.LabAttack} {
		if got := k.Spec().Fields["lab"]; !slices.Equal(got, want) {
			t.Errorf("%s: lab values %v, want labs.All's %v", k, got, want)
		}
	}
}
