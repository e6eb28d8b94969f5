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
ALTER TABLE sessions
    ADD COLUMN learner CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
    ADD COLUMN boot VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
    ADD COLUMN copy_seen BIGINT NOT NULL DEFAULT 0,
    ADD INDEX sessions_learner (learner);
CREATE TABLE lab_modes (
    learner    CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    lab        VARCHAR(32) NOT NULL,
    mode       VARCHAR(16) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (learner, lab)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- Sessions alive during the upgrade keep what they had.
UPDATE sessions SET
    learner = COALESCE(JSON_VALUE(data, '$.learner'), ''),
    boot = COALESCE(JSON_VALUE(data, '$.server_boot'), ''),
    copy_seen = COALESCE(JSON_VALUE(data, '$.copy_seen'), 0)
  WHERE JSON_VALID(data);
-- A logged-in session's progress is already its account's.
INSERT IGNORE INTO lesson_progress (owner, lesson, item, done, hints, updated_at)
  SELECT CONCAT('l:', s.learner), SUBSTRING_INDEX(j.k, '/', 1), SUBSTRING(j.k, LOCATE('/', j.k) + 1), 1, 0, s.last_seen_at
  FROM sessions s, JSON_TABLE(s.data, '$.lessons_done[*]' COLUMNS (k VARCHAR(160) PATH '$')) j
  WHERE s.user_id IS NULL AND s.learner <> '' AND JSON_VALID(s.data) AND LOCATE('/', j.k) > 1;
INSERT INTO lesson_progress (owner, lesson, item, done, hints, updated_at)
  SELECT CONCAT('l:', s.learner), SUBSTRING_INDEX(j.k, '/', 1), SUBSTRING(j.k, LOCATE('/', j.k) + 1), 0,
    JSON_VALUE(s.data, CONCAT('$.lesson_hints."', j.k, '"')), s.last_seen_at
  FROM sessions s, JSON_TABLE(JSON_KEYS(s.data, '$.lesson_hints'), '$[*]' COLUMNS (k VARCHAR(160) PATH '$')) j
  WHERE s.user_id IS NULL AND s.learner <> '' AND JSON_VALID(s.data) AND LOCATE('/', j.k) > 1
  ON DUPLICATE KEY UPDATE hints = VALUES(hints);
INSERT IGNORE INTO lab_modes (learner, lab, mode, updated_at)
  SELECT s.learner, j.k, JSON_VALUE(s.data, CONCAT('$.lab_modes."', j.k, '"')), s.last_seen_at
  FROM sessions s, JSON_TABLE(JSON_KEYS(s.data, '$.lab_modes'), '$[*]' COLUMNS (k VARCHAR(32) PATH '$')) j
  WHERE s.learner <> '' AND JSON_VALID(s.data);
UPDATE sessions SET data = JSON_REMOVE(data, '$.learner', '$.lessons_done', '$.lesson_hints', '$.server_boot', '$.last_instance', '$.copy_seen', '$.lab_modes')
  WHERE JSON_VALID(data);
