-- What a session's last redirecting form POST sent and received (method,
-- path, status, Location, the Cookie it carried, every Set-Cookie, what it
-- changed), for the strip and the diagram of the page the 303 leads to
-- (Post/Redirect/Get). It lives on the server, not in a second cookie; it
-- goes with its session (rotation, logout, sweep) and is shown once.
CREATE TABLE exchanges (
    session_key CHAR(64) NOT NULL PRIMARY KEY REFERENCES sessions(key) ON DELETE CASCADE,
    data        TEXT NOT NULL,
    at          DATETIME NOT NULL
);
-- The lab site's own "what your last request did", kept in its lab session.
ALTER TABLE lab_sessions ADD COLUMN flash TEXT NOT NULL DEFAULT '';
