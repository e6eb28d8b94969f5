-- Class-wide settings every instance reads (the instructor's timeouts).
CREATE TABLE settings (
    name       VARCHAR(64) NOT NULL PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
