-- Each db copy into this database records a row: "running" first, committed
-- before any data moves, then "complete" or "failed". A latest row that is not
-- "complete" marks the database as an unfinished copy (the server refuses it,
-- db check says so, and a rerun of db copy finishes the job).
CREATE TABLE copy_runs (
    id             BIGINT AUTO_INCREMENT PRIMARY KEY,
    source         VARCHAR(512) NOT NULL,
    source_dialect VARCHAR(16) NOT NULL,
    started_at     DATETIME(6) NOT NULL,
    finished_at    DATETIME(6) NULL,
    status         VARCHAR(16) NOT NULL,
    rows_copied    BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT copy_runs_status CHECK (status IN ('running', 'complete', 'failed'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
