-- The session row holds what a shop's session holds (user, cart, CSRF
-- token); the rest moves out of its data JSON:
--  * learner: the id linking this browser to its lesson progress and lab
--    switches; a column, kept when the ID rotates at login.
--  * boot, copy_seen: which server start and which db copy this session was
--    last told about (the strip's "survived a restart", "moved with db copy").
--    The instance that last served it is the existing instance column.
--  * lesson progress: rows of lesson_progress owned by "l:" + learner while
--    anonymous (an account's are "u:" + user id, as before).
--  * lab switches: their own table, by learner.
ALTER TABLE sessions ADD COLUMN learner CHAR(16) NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN boot VARCHAR(16) NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN copy_seen INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sessions_learner ON sessions(learner);
CREATE TABLE lab_modes (
    learner    CHAR(16) NOT NULL,
    lab        VARCHAR(32) NOT NULL,
    mode       VARCHAR(16) NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (learner, lab)
);
-- Sessions alive during the upgrade keep what they had.
UPDATE sessions SET
    learner = COALESCE(json_extract(data, '$.learner'), ''),
    boot = COALESCE(json_extract(data, '$.server_boot'), ''),
    copy_seen = COALESCE(json_extract(data, '$.copy_seen'), 0)
  WHERE json_valid(data);
-- A logged-in session's progress is already its account's.
INSERT OR IGNORE INTO lesson_progress (owner, lesson, item, done, hints, updated_at)
  SELECT 'l:' || s.learner, substr(j.value, 1, instr(j.value, '/') - 1), substr(j.value, instr(j.value, '/') + 1), 1, 0, s.last_seen_at
  FROM sessions s, json_each(s.data, '$.lessons_done') j
  WHERE s.user_id IS NULL AND s.learner <> '' AND json_valid(s.data) AND instr(j.value, '/') > 1;
INSERT INTO lesson_progress (owner, lesson, item, done, hints, updated_at)
  SELECT 'l:' || s.learner, substr(j.key, 1, instr(j.key, '/') - 1), substr(j.key, instr(j.key, '/') + 1), 0, j.value, s.last_seen_at
  FROM sessions s, json_each(s.data, '$.lesson_hints') j
  WHERE s.user_id IS NULL AND s.learner <> '' AND json_valid(s.data) AND instr(j.key, '/') > 1
  ON CONFLICT (owner, lesson, item) DO UPDATE SET hints = excluded.hints;
INSERT OR IGNORE INTO lab_modes (learner, lab, mode, updated_at)
  SELECT s.learner, j.key, j.value, s.last_seen_at
  FROM sessions s, json_each(s.data, '$.lab_modes') j
  WHERE s.learner <> '' AND json_valid(s.data);
UPDATE sessions SET data = json_remove(data, '$.learner', '$.lessons_done', '$.lesson_hints', '$.server_boot', '$.last_instance', '$.copy_seen', '$.lab_modes')
  WHERE json_valid(data);
