-- Attack labs: their own session table, never the shop's. Rows of a weak
-- lab may outlive logout or never expire; that is the lesson, and it cannot
-- leak into the real sessions table.
CREATE TABLE lab_sessions (
    lab           VARCHAR(32) NOT NULL,
    key           CHAR(64) NOT NULL,
    mode          VARCHAR(16) NOT NULL,
    id_prefix     VARCHAR(16) NOT NULL,
    owner         VARCHAR(80) NOT NULL DEFAULT '',
    shop_key      CHAR(64) NOT NULL DEFAULT '',
    username      VARCHAR(64) NULL,
    login_learner VARCHAR(80) NOT NULL DEFAULT '',
    data          TEXT NOT NULL,
    created_at    DATETIME NOT NULL,
    last_seen_at  DATETIME NOT NULL,
    expires_at    DATETIME NULL,
    ended         VARCHAR(16) NOT NULL DEFAULT '',
    ended_at      DATETIME NULL,
    PRIMARY KEY (lab, key)
);
CREATE INDEX lab_sessions_created_at ON lab_sessions(created_at);
