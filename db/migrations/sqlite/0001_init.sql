-- Session Lab schema, SQLite dialect. One statement per ";" line end.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    DATETIME NOT NULL
);
CREATE TABLE products (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    image       TEXT NOT NULL
);
CREATE TABLE sessions (
    key          CHAR(64) PRIMARY KEY,
    user_id      INTEGER NULL REFERENCES users(id) ON DELETE CASCADE,
    data         TEXT NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT '',
    instance     TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions(expires_at);
CREATE INDEX sessions_user_id ON sessions(user_id);
CREATE TABLE cart_items (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity   INTEGER NOT NULL,
    PRIMARY KEY (user_id, product_id)
);
CREATE TABLE notes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE INDEX notes_user_id ON notes(user_id);
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    session_key CHAR(64) NOT NULL,
    user_id     INTEGER NULL,
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    instance    TEXT NOT NULL DEFAULT '',
    at          DATETIME NOT NULL
);
CREATE INDEX events_session_key ON events(session_key);
CREATE TABLE lesson_progress (
    owner      VARCHAR(80) NOT NULL,
    lesson     VARCHAR(64) NOT NULL,
    item       VARCHAR(80) NOT NULL,
    done       INTEGER NOT NULL DEFAULT 0,
    hints      INTEGER NOT NULL DEFAULT 0,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (owner, lesson, item)
);
