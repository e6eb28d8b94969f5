-- Usernames compare by exact bytes, as on SQLite: under the table's default
-- collation (utf8mb4_unicode_ci) the unique index made 'Alice' collide with
-- 'alice', 'alicé' and 'alice ' (PAD SPACE). utf8mb4_nopad_bin compares the
-- bytes, trailing spaces included.
ALTER TABLE users MODIFY username VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL;
