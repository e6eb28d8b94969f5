-- Class-wide settings every instance reads (the instructor's timeouts).
CREATE TABLE settings (
    name       VARCHAR(64) NOT NULL PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at DATETIME NOT NULL
);
