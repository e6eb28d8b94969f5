-- Attack labs: their own session table, never the shop's. Rows of a weak
-- lab may outlive logout or never expire; that is the lesson, and it cannot
-- leak into the real sessions table.
CREATE TABLE lab_sessions (
    lab           VARCHAR(32) NOT NULL,
    `key`         CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    mode          VARCHAR(16) NOT NULL,
    id_prefix     VARCHAR(16) NOT NULL,
    owner         VARCHAR(80) NOT NULL DEFAULT '',
    shop_key      CHAR(64) NOT NULL DEFAULT '',
    username      VARCHAR(64) NULL,
    login_learner VARCHAR(80) NOT NULL DEFAULT '',
    data          TEXT NOT NULL,
    created_at    DATETIME(6) NOT NULL,
    last_seen_at  DATETIME(6) NOT NULL,
    expires_at    DATETIME(6) NULL,
    ended         VARCHAR(16) NOT NULL DEFAULT '',
    ended_at      DATETIME(6) NULL,
    PRIMARY KEY (lab, `key`),
    INDEX lab_sessions_created_at (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
