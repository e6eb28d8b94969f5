package labs

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"sessionlab/db"
	"sessionlab/ids"
)

// States of a lab cookie, as the lab's panels name them.
const (
	StateNone      = "none"      // no lab cookie sent
	StateValid     = "valid"     // a live lab session
	StateUnknown   = "unknown"   // never issued (forged or guessed wrong)
	StateEnded     = "ended"     // it existed, but was rotated away or logged out
	StateExpired   = "expired"   // the defended expiry lab timed it out
	StateMalformed = "malformed" // not an ID this lab would ever issue
)

// Data is the JSON kept in a lab row.
type Data struct {
	CSRF string     `json:"csrf_token,omitempty"`
	Cart []CartLine `json:"cart,omitempty"`
}

// CartLine is an item the cross-site lab's shop holds.
type CartLine struct {
	Item     string `json:"item"`
	Quantity int    `json:"quantity"`
}

// Session is a lab row and its decoded data.
type Session struct {
	Row  *db.LabSession
	Data Data
}

// User is the lab username, "" when anonymous.
func (s *Session) User() string {
	if s == nil || !s.Row.Username.Valid {
		return ""
	}
	return s.Row.Username.String
}

// Mode of the lab server that issued this session.
func (s *Session) Mode() Mode { return Mode(s.Row.Mode) }

// Store issues, reads and changes lab sessions.
type Store struct {
	db  *db.DB
	now func() time.Time
}

// NewStore returns a store on d with the app's clock (tests move it).
func NewStore(d *db.DB, now func() time.Time) *Store {
	return &Store{db: d, now: now}
}

// newID mints an ID for a new lab session: random, unless the lab's rule
// says a counter (labs.Lab.CounterIDs). The counter lives in the database,
// started from the clock, so every instance continues one sequence ("the
// last one plus one" holds across instances) and none repeats another's.
func (s *Store) newID(ctx context.Context, lab string, mode Mode) (string, error) {
	if !find(lab).CounterIDs(mode) {
		return ids.New(), nil
	}
	seed := (s.now().Unix()%100000)*1000 + 1
	n, err := s.db.NextLabCounter(ctx, lab, seed, s.now())
	if err != nil {
		return "", fmt.Errorf("labs: counter: %w", err)
	}
	return strconv.FormatInt(n, 10), nil
}

// find is the lab a row belongs to; an unknown slug gets Lab{}, whose rules
// are all the defended ones.
func find(slug string) Lab {
	l, _ := Find(slug)
	return l
}

// ValidID reports whether v could be a lab ID: 1..64 base64url characters.
func ValidID(v string) bool { return len(v) <= 64 && ids.Base64URL(v) }

// Issue creates a new anonymous lab session. owner is the learner whose
// browser asked ("" for a browser the server simulates).
func (s *Store) Issue(ctx context.Context, lab string, mode Mode, owner string) (string, *Session, error) {
	now := s.now()
	id, err := s.newID(ctx, lab, mode)
	if err != nil {
		return "", nil, err
	}
	row := &db.LabSession{Lab: lab, Key: ids.Hash(id), Mode: string(mode), IDPrefix: ids.Prefix(id), Owner: owner, CreatedAt: now, LastSeenAt: now}
	sess := &Session{Row: row}
	if find(lab).HasCSRFToken() {
		sess.Data.CSRF = ids.New()
	}
	row.ExpiresAt = s.expiry(lab, mode, now, now)
	if err := sess.encode(); err != nil {
		return "", nil, err
	}
	if err := s.db.InsertLabSession(ctx, row); err != nil {
		return "", nil, fmt.Errorf("labs: issue: %w", err)
	}
	return id, sess, nil
}

// expiry is when a session seen at now stops, as the lab's rule says
// (labs.Lab.ExpiresAt); NULL is never.
func (s *Store) expiry(lab string, mode Mode, created, now time.Time) sql.NullTime {
	t, ok := find(lab).ExpiresAt(mode, created, now)
	return sql.NullTime{Time: t, Valid: ok}
}

// Lookup finds the lab session named by id. It never adopts an ID it did not
// issue: the state says why no session came back. An ended row is returned
// with StateEnded so the lab can explain what happened to it; a row found
// past its expiry is ended here ("expired") and returned as StateExpired.
func (s *Store) Lookup(ctx context.Context, lab, id string) (*Session, string, error) {
	if id == "" {
		return nil, StateNone, nil
	}
	sess, st, err := s.Peek(ctx, lab, id)
	if err != nil || st != StateExpired || sess.Row.Ended != "" {
		return sess, st, err
	}
	sess.Row.Ended, sess.Row.EndedAt = "expired", sql.NullTime{Time: s.now(), Valid: true}
	if err := s.db.UpdateLabSession(ctx, sess.Row); err != nil {
		return nil, "", fmt.Errorf("labs: expire: %w", err)
	}
	return sess, StateExpired, nil
}

// Peek reads a lab session for display, changing nothing: a row past its
// expiry shows as expired even before a request has refused it.
func (s *Store) Peek(ctx context.Context, lab, id string) (*Session, string, error) {
	if !ValidID(id) {
		return nil, StateMalformed, nil
	}
	row, err := s.db.LabSession(ctx, lab, ids.Hash(id))
	if errors.Is(err, db.ErrNotFound) {
		return nil, StateUnknown, nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("labs: peek: %w", err)
	}
	sess, err := decode(row)
	if err != nil {
		return nil, "", err
	}
	switch {
	case row.Ended == "expired":
		return sess, StateExpired, nil
	case row.Ended != "":
		return sess, StateEnded, nil
	case row.ExpiresAt.Valid && !s.now().Before(row.ExpiresAt.Time):
		return sess, StateExpired, nil
	}
	return sess, StateValid, nil
}

// Touch records a request on a live session: last seen moves, and with it
// the defended expiry lab's idle deadline.
func (s *Store) Touch(ctx context.Context, sess *Session) error {
	now := s.now()
	sess.Row.LastSeenAt = now
	sess.Row.ExpiresAt = s.expiry(sess.Row.Lab, sess.Mode(), sess.Row.CreatedAt, now)
	return s.save(ctx, sess)
}

// Login sets the user. With rotate, the session moves to a new ID and the
// old row ends (the defence against fixation); without, the ID the browser
// already had, perhaps planted by an attacker, now names a logged-in user.
// It returns the ID the browser should hold afterwards.
func (s *Store) Login(ctx context.Context, sess *Session, oldID, user, learner string, rotate bool) (string, *Session, error) {
	now := s.now()
	if !rotate {
		sess.Row.Username = sql.NullString{String: user, Valid: true}
		sess.Row.LoginLearner = learner
		sess.Row.LastSeenAt = now
		// Login starts the absolute clock, as in the shop.
		sess.Row.ExpiresAt = s.expiry(sess.Row.Lab, sess.Mode(), sess.Row.CreatedAt, now)
		return oldID, sess, s.save(ctx, sess)
	}
	id, err := s.newID(ctx, sess.Row.Lab, sess.Mode())
	if err != nil {
		return "", nil, err
	}
	old := *sess.Row
	old.Username = sql.NullString{String: user, Valid: true}
	old.LoginLearner = learner
	old.Ended, old.EndedAt = "rotated", sql.NullTime{Time: now, Valid: true}
	if err := s.db.UpdateLabSession(ctx, &old); err != nil {
		return "", nil, fmt.Errorf("labs: end rotated: %w", err)
	}
	row := *sess.Row
	row.Key, row.IDPrefix = ids.Hash(id), ids.Prefix(id)
	row.Username = sql.NullString{String: user, Valid: true}
	row.LoginLearner = learner
	row.CreatedAt, row.LastSeenAt = now, now
	row.ExpiresAt = s.expiry(row.Lab, sess.Mode(), now, now)
	ns := &Session{Row: &row, Data: sess.Data}
	if ns.Data.CSRF != "" {
		ns.Data.CSRF = ids.New()
	}
	if err := ns.encode(); err != nil {
		return "", nil, err
	}
	if err := s.db.InsertLabSession(ctx, &row); err != nil {
		return "", nil, fmt.Errorf("labs: rotate: %w", err)
	}
	return id, ns, nil
}

// Logout ends the session on the server, unless keep is set: then only the
// browser forgets (the weak logout), and the row stays valid for a replay.
func (s *Store) Logout(ctx context.Context, sess *Session, keep bool) error {
	if keep {
		return nil
	}
	now := s.now()
	sess.Row.Ended, sess.Row.EndedAt = "logout", sql.NullTime{Time: now, Valid: true}
	return s.save(ctx, sess)
}

// Save writes a changed session (its data, user, times).
func (s *Store) Save(ctx context.Context, sess *Session) error { return s.save(ctx, sess) }

func (s *Store) save(ctx context.Context, sess *Session) error {
	if err := sess.encode(); err != nil {
		return err
	}
	if err := s.db.UpdateLabSession(ctx, sess.Row); err != nil {
		return fmt.Errorf("labs: save: %w", err)
	}
	return nil
}

// AttemptLifetime bounds a cross-site attempt: long enough to follow the
// link and come back, short enough that a token found later is worthless.
const AttemptLifetime = 5 * time.Minute

// Attempt is a registered cross-site attempt.
type Attempt struct {
	Mode     Mode
	Owner    string // the learner it was issued to: only they can record it
	IDPrefix string
	Target   string // the lab site's origin, where the attacker's form posts
	Outcome  string // set once the attacker's form used it: succeeded or failed
	Used     bool   // the attacker's form arrived with it
	Recorded bool   // its outcome reached the owner's lessons
}

// attemptData is the JSON an attempt row keeps.
type attemptData struct {
	Target  string `json:"target"`
	Outcome string `json:"outcome,omitempty"`
}

// The life of an attempt row, in its ended column: "" (issued), "used" (the
// attacker's form arrived, once), "recorded" (the owner took the outcome,
// once). Each step is one conditional UPDATE, so two instances racing with
// the same token cannot both win.
const (
	attemptUsed     = "used"
	attemptRecorded = "recorded"
)

// NewAttempt registers a cross-site attempt for a learner. The token the
// attacker's page carries names the attempt, never the learner's session:
// the outcome reaches the learner only through a request of their own.
func (s *Store) NewAttempt(ctx context.Context, lab string, mode Mode, owner, target string) (string, error) {
	now := s.now()
	tok := ids.New()
	data, _ := json.Marshal(attemptData{Target: target})
	row := &db.LabSession{Lab: lab + ":attempt", Key: ids.Hash(tok), Mode: string(mode), IDPrefix: ids.Prefix(tok), Owner: owner, Data: string(data),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: sql.NullTime{Time: now.Add(AttemptLifetime), Valid: true}}
	if err := s.db.InsertLabSession(ctx, row); err != nil {
		return "", fmt.Errorf("labs: attempt: %w", err)
	}
	return tok, nil
}

// Attempt reads an attempt that has not expired, used or not, or returns
// db.ErrNotFound. It changes nothing.
func (s *Store) Attempt(ctx context.Context, lab, tok string) (*Attempt, error) {
	if !ValidID(tok) {
		return nil, db.ErrNotFound
	}
	row, err := s.db.LabSession(ctx, lab+":attempt", ids.Hash(tok))
	if err != nil {
		return nil, err
	}
	if !row.ExpiresAt.Valid || !s.now().Before(row.ExpiresAt.Time) {
		return nil, db.ErrNotFound
	}
	var d attemptData
	json.Unmarshal([]byte(row.Data), &d)
	return &Attempt{Mode: Mode(row.Mode), Owner: row.Owner, IDPrefix: row.IDPrefix, Target: d.Target, Outcome: d.Outcome,
		Used: row.Ended != "", Recorded: row.Ended == attemptRecorded}, nil
}

// UseAttempt marks a fresh attempt used by the attacker's form, with the
// outcome, and reports whether this call did it: a replayed or expired
// token gets false and changes nothing.
func (s *Store) UseAttempt(ctx context.Context, lab, tok, outcome string) (bool, error) {
	att, err := s.Attempt(ctx, lab, tok)
	if errors.Is(err, db.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// Whether it was used already is the UPDATE's to decide (ended = ''),
	// not this read's: between the two, another instance may have used it.
	data, _ := json.Marshal(attemptData{Target: att.Target, Outcome: outcome})
	ok, err := s.db.AdvanceLabAttempt(ctx, lab+":attempt", ids.Hash(tok), "", attemptUsed, "", string(data), s.now())
	if err != nil {
		return false, fmt.Errorf("labs: use attempt: %w", err)
	}
	return ok, nil
}

// RecordAttempt takes a used attempt's outcome for its owner, once: it
// returns the attempt when this call took it, nil when the token is not
// the owner's, not used yet, already recorded or expired.
func (s *Store) RecordAttempt(ctx context.Context, lab, tok, owner string) (*Attempt, error) {
	att, err := s.Attempt(ctx, lab, tok)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if owner == "" || att.Owner != owner || !att.Used || att.Recorded {
		return nil, nil
	}
	ok, err := s.db.AdvanceLabAttempt(ctx, lab+":attempt", ids.Hash(tok), attemptUsed, attemptRecorded, owner, "", s.now())
	if err != nil || !ok {
		return nil, err
	}
	att.Recorded = true
	return att, nil
}

// TokenOK compares a form's CSRF token with the lab session's, in constant time.
func TokenOK(sess *Session, got string) bool {
	if sess == nil || sess.Data.CSRF == "" || got == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(sess.Data.CSRF)) == 1
}

// Sweep deletes lab rows older than the longest lab lifetime.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	return s.db.DeleteLabSessionsBefore(ctx, s.now().Add(-2*lifetime))
}

func decode(row *db.LabSession) (*Session, error) {
	s := &Session{Row: row}
	if row.Data != "" {
		if err := json.Unmarshal([]byte(row.Data), &s.Data); err != nil {
			return nil, fmt.Errorf("labs: decode data: %w", err)
		}
	}
	return s, nil
}

func (s *Session) encode() error {
	b, err := json.Marshal(s.Data)
	if err != nil {
		return fmt.Errorf("labs: encode data: %w", err)
	}
	s.Row.Data = string(b)
	return nil
}
