package main

import (
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// The password-guessing limits, in one place. A class is the case to
// survive: lesson 4 asks every student to try one wrong password for alice
// before the right one, so 40 students in one minute make 40–80 failures on
// one account. An attacker is the case to stop: what bounds them is the
// per-account ceiling, whatever number of addresses they use.
//
//   - one person (one username from one address): 10 attempts a minute. A
//     mistyping human never needs more; a parallel burst of guesses gets 10
//     checked, then waits.
//   - one address, all usernames: 300 attempts a minute. A room behind one
//     address (a school's NAT) logging in at once counts here: 128 learners
//     each logging in with one wrong try first (256) pass.
//   - one account, all addresses: 200 attempts an hour. Two classes of 40
//     with two wrong tries each (160) fit in one hour; an attacker with any
//     number of addresses gets at most 200 guesses an hour at an account,
//     4,800 a day, which leaves any password outside the few thousand
//     commonest out of reach.
//   - sign-ups from one address: 100 per 10 minutes, so a class of 100
//     behind one address signs up at once; each costs a bcrypt hash.
//   - wrong instructor tokens from one address: 10 per 15 minutes. A random
//     token cannot be guessed anyway; one set by -instructor-token may be
//     short, and the instructor mistypes it once or twice, not ten times.
//
// An attempt is reserved before its password is hashed (check and count under
// one lock), so a parallel burst cannot get more attempts checked than the
// limit: of 40 parallel guesses from one address at one account, 10 reach
// bcrypt. A login that succeeds is forgiven (its reservation released): only
// failures, and checks still running, use up the budget.
//
// The counts live in each instance's memory, by choice: a class runs one to
// three instances, so an attacker spread over them gets at most three times
// the figures above, still hopeless; a shared counter would cost a database
// write on every attempt, on the path a class logging in together waits on.
var (
	loginPerPerson  = limit{10, time.Minute}
	loginPerAddress = limit{300, time.Minute}
	loginPerAccount = limit{200, time.Hour}
	signupPerAddr   = limit{100, 10 * time.Minute}

	instructorPerAddr = limit{10, 15 * time.Minute}
)

// limit is at most n attempts in any window of this length.
type limit struct {
	n      int
	window time.Duration
}

// rule applies a limit to one key (a username, an address, or both).
type rule struct {
	key string
	limit
}

// loginRules are the rules a password check at login counts against. The
// username is the exact bytes of the account name: Alice and alice are two
// accounts, each with its own ceiling.
func loginRules(username, addr string) []rule {
	return []rule{
		{"login-person:" + strconv.Quote(username) + "@" + addr, loginPerPerson},
		{"login-addr:" + addr, loginPerAddress},
		{"login-user:" + username, loginPerAccount},
	}
}

// throttle counts attempts per key in a sliding window.
type throttle struct {
	mu   sync.Mutex
	hits map[string][]time.Time
}

// maxThrottleKeys bounds memory: past it, expired keys are swept, and if a
// flood of made-up usernames still fills it, the counts start over (failing
// open for a moment rather than locking every user out).
const maxThrottleKeys = 100_000

func newThrottle() *throttle { return &throttle{hits: map[string][]time.Time{}} }

// reservation is an attempt counted under each of its rules' keys.
type reservation struct {
	keys []string
	at   time.Time
}

// reserve counts one attempt under every rule, unless one of them is full:
// then nothing is counted and wait says when the fullest frees a place.
// Checking and counting happen under one lock, so parallel attempts cannot
// all pass a check before any of them is counted.
func (t *throttle) reserve(now time.Time, rules ...rule) (r reservation, wait time.Duration, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.hits) > maxThrottleKeys {
		t.sweep(now)
	}
	for _, ru := range rules {
		ts := t.prune(ru.key, ru.window, now)
		if len(ts) >= ru.n {
			wait = max(wait, ts[len(ts)-ru.n].Add(ru.window).Sub(now))
		}
	}
	if wait > 0 {
		return reservation{}, wait, false
	}
	r = reservation{keys: make([]string, len(rules)), at: now}
	for i, ru := range rules {
		t.hits[ru.key] = append(t.hits[ru.key], now)
		r.keys[i] = ru.key
	}
	return r, 0, true
}

// release forgives a reserved attempt: a successful login, or a check that
// never ran (the hash queue was full).
func (t *throttle) release(r reservation) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range r.keys {
		ts := t.hits[k]
		for i := len(ts) - 1; i >= 0; i-- {
			if ts[i].Equal(r.at) {
				ts = append(ts[:i], ts[i+1:]...)
				break
			}
		}
		if len(ts) == 0 {
			delete(t.hits, k)
		} else {
			t.hits[k] = ts
		}
	}
}

// prune drops the key's attempts older than the window and returns the rest.
func (t *throttle) prune(k string, window time.Duration, now time.Time) []time.Time {
	ts := t.hits[k]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= window {
		i++
	}
	if i == 0 {
		return ts
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(t.hits, k)
		return nil
	}
	t.hits[k] = ts
	return ts
}

// sweep drops keys whose attempts are all older than the longest window.
func (t *throttle) sweep(now time.Time) {
	longest := max(loginPerPerson.window, loginPerAddress.window, loginPerAccount.window, signupPerAddr.window, instructorPerAddr.window)
	for k, ts := range t.hits {
		if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= longest {
			delete(t.hits, k)
		}
	}
	if len(t.hits) > maxThrottleKeys {
		t.hits = map[string][]time.Time{}
	}
}

// tooMany is the 429 a full limit answers, with Retry-After in whole seconds.
func tooMany(c *fiber.Ctx, wait time.Duration, msg string) error {
	secs := int((wait + time.Second - 1) / time.Second)
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
	return fiber.NewError(fiber.StatusTooManyRequests, msg+" Wait "+strconv.Itoa(secs)+" seconds and try again. (Throttling is how a server slows down password guessing.)")
}
