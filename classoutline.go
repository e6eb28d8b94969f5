package main

import "strconv"

// Class progress: for each lesson of the catalog, how many learners have
// finished each step, drawn as a bar chart the room reads at a glance. A
// learner is an account (progress kept under it) or an anonymous session.

// lessonChart is one lesson's bars.
type lessonChart struct {
	Number   int       `json:"number"`
	Slug     string    `json:"slug"`
	Title    string    `json:"title"`
	Steps    []stepBar `json:"steps"`
	Finished int       `json:"finished"` // learners with every step done
}

// stepBar is one step: Done learners out of the class. The bar is an SVG
// rect whose height attribute is Pct of a 100-unit cell: the CSP allows no
// inline style, and an attribute needs none.
type stepBar struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Label string `json:"label"` // "3. Log in as alice"
	Done  int    `json:"done"`
	Pct   int    `json:"pct"`
	Y     int    `json:"-"` // 100 - Pct: the bar fills its cell from the bottom
	Key   string `json:"key"`
}

// classProgress counts, per step, the learners whose done set holds it;
// total is every learner of the class, those with no step done included.
func (a *app) classProgress(learners map[string]map[string]bool, total int) []lessonChart {
	var out []lessonChart
	for _, l := range a.lessons.Lessons() {
		lc := lessonChart{Number: l.Number, Slug: l.Slug, Title: l.Title}
		for i, s := range l.Steps {
			key := l.Slug + "/" + s.ID
			b := stepBar{ID: s.ID, Title: s.Title, Label: strconv.Itoa(i+1) + ". " + s.Title, Key: key}
			for _, done := range learners {
				if done[key] {
					b.Done++
				}
			}
			if total > 0 {
				b.Pct = b.Done * 100 / total
			}
			b.Y = 100 - b.Pct
			lc.Steps = append(lc.Steps, b)
		}
		for _, done := range learners {
			all := len(l.Steps) > 0
			for _, s := range l.Steps {
				if !done[l.Slug+"/"+s.ID] {
					all = false
					break
				}
			}
			if all {
				lc.Finished++
			}
		}
		out = append(out, lc)
	}
	return out
}
