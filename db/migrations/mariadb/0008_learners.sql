-- Progress belongs to the learner (a browser that walks the lessons), never
-- to an account a whole class may share:
--  * home_learners: the learner who signed an account up. Logging in to it
--    from another browser joins that learner; the shared demo accounts have
--    none, so every browser on them stays its own learner.
--  * resume_codes: a short-lived, single-use code a logout hands to the next
--    page, so the fresh anonymous session continues the same learner's
--    progress (never the login or the cart). Stored hashed, with the record
--    of the logout (what the next page shows it did).
CREATE TABLE home_learners (
    user_id BIGINT NOT NULL PRIMARY KEY,
    learner CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    CONSTRAINT home_learners_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE resume_codes (
    code_hash  CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    learner    CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    record     TEXT NOT NULL,
    expires_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
