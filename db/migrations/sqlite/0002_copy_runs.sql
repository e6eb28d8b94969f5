-- Each db copy into this database records a row: "running" first, committed
-- before any data moves, then "complete" or "failed". A latest row that is not
-- "complete" marks the database as an unfinished copy (the server refuses it,
-- db check says so, and a rerun of db copy finishes the job).
CREATE TABLE copy_runs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    source         TEXT NOT NULL,
    source_dialect TEXT NOT NULL,
    started_at     DATETIME NOT NULL,
    finished_at    DATETIME NULL,
    status         TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed')),
    rows_copied    INTEGER NOT NULL DEFAULT 0
);
