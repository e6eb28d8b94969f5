-- Session Lab schema, MariaDB dialect. One statement per ";" line end.
CREATE TABLE users (
    id            BIGINT AUTO_INCREMENT PRIMARY KEY,
    username      VARCHAR(64) NOT NULL UNIQUE,
    password_hash VARCHAR(255) NOT NULL,
    created_at    DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE products (
    id          BIGINT PRIMARY KEY,
    name        VARCHAR(120) NOT NULL,
    description TEXT NOT NULL,
    price_cents INT NOT NULL,
    image       VARCHAR(120) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE sessions (
    `key`        CHAR(64) CHARACTER SET ascii COLLATE ascii_bin PRIMARY KEY,
    user_id      BIGINT NULL,
    data         TEXT NOT NULL,
    user_agent   VARCHAR(255) NOT NULL DEFAULT '',
    instance     VARCHAR(120) NOT NULL DEFAULT '',
    created_at   DATETIME(6) NOT NULL,
    last_seen_at DATETIME(6) NOT NULL,
    expires_at   DATETIME(6) NOT NULL,
    INDEX sessions_expires_at (expires_at),
    INDEX sessions_user_id (user_id),
    CONSTRAINT sessions_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE cart_items (
    user_id    BIGINT NOT NULL,
    product_id BIGINT NOT NULL,
    quantity   INT NOT NULL,
    PRIMARY KEY (user_id, product_id),
    CONSTRAINT cart_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    CONSTRAINT cart_product FOREIGN KEY (product_id) REFERENCES products(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE notes (
    id         BIGINT AUTO_INCREMENT PRIMARY KEY,
    user_id    BIGINT NOT NULL,
    body       TEXT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    INDEX notes_user_id (user_id),
    CONSTRAINT notes_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE events (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    session_key CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id     BIGINT NULL,
    kind        VARCHAR(64) NOT NULL,
    detail      TEXT NOT NULL,
    instance    VARCHAR(120) NOT NULL DEFAULT '',
    at          DATETIME(6) NOT NULL,
    INDEX events_session_key (session_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE lesson_progress (
    owner      VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    lesson     VARCHAR(64) NOT NULL,
    item       VARCHAR(80) NOT NULL,
    done       TINYINT NOT NULL DEFAULT 0,
    hints      INT NOT NULL DEFAULT 0,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (owner, lesson, item)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
