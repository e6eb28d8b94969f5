-- A terminal's work counts for a learner (issue 13). One mechanism hands a
-- learner's progress to another session, never its login, cart or CSRF
-- token: a single-use code, stored hashed, that sets the other session's
-- learner. A logout's resume code was the first such code; a lesson page's
-- link code (a terminal's cookie jar sends it once) is the second, so the
-- table takes its general name and says which kind each code is.
--  * learner_codes.purpose: 'resume' (a logout → the next page, 2 minutes)
--    or 'link' (a lesson page → a terminal, 10 minutes).
--  * sessions.linked_at: when a link code made this session count for its
--    learner (NULL: the learner is the session's own, or an account's home
--    joined at login). The link lives in the terminal's session row and
--    ends with it.
RENAME TABLE resume_codes TO learner_codes;
ALTER TABLE learner_codes ADD COLUMN purpose VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'resume';
ALTER TABLE sessions ADD COLUMN linked_at DATETIME(6) NULL;
