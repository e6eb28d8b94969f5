-- What a session's last redirecting form POST sent and received (method,
-- path, status, Location, the Cookie it carried, every Set-Cookie, what it
-- changed), for the strip and the diagram of the page the 303 leads to
-- (Post/Redirect/Get). It lives on the server, not in a second cookie; it
-- goes with its session (rotation, logout, sweep) and is shown once.
CREATE TABLE exchanges (
    session_key CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    data        MEDIUMTEXT NOT NULL,
    at          DATETIME(6) NOT NULL,
    CONSTRAINT exchanges_session FOREIGN KEY (session_key) REFERENCES sessions(`key`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- The lab site's own "what your last request did", kept in its lab session.
ALTER TABLE lab_sessions ADD COLUMN flash TEXT NOT NULL DEFAULT '';
