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
    user_id INTEGER NOT NULL PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    learner CHAR(16) NOT NULL
);
CREATE TABLE resume_codes (
    code_hash  CHAR(64) NOT NULL PRIMARY KEY,
    learner    CHAR(16) NOT NULL,
    record     TEXT NOT NULL,
    expires_at DATETIME NOT NULL
);
