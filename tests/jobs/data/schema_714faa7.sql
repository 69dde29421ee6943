-- Phopy schema for SQLite. Idempotent: `flask --app app init-db` runs it.
-- Keep in step with schema_postgresql.sql.

CREATE TABLE IF NOT EXISTS photographers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    display_name  TEXT,
    google_sub    TEXT UNIQUE,          -- Google sign-in (later issue)
    created_at    TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS events (
    id            TEXT PRIMARY KEY,     -- UUID
    code          TEXT NOT NULL UNIQUE, -- 6 characters for attendees
    owner_id      INTEGER NOT NULL REFERENCES photographers(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    event_date    TEXT,
    location      TEXT,
    description   TEXT,
    is_listed     INTEGER NOT NULL DEFAULT 0,
    auto_index    INTEGER NOT NULL DEFAULT 1,
    faces_version INTEGER NOT NULL DEFAULT 0,  -- bumped whenever faces change
    created_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_events_owner ON events(owner_id);

CREATE TABLE IF NOT EXISTS photos (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id      TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    filename      TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    storage_key   TEXT NOT NULL,
    thumb_key     TEXT,
    width         INTEGER,
    height        INTEGER,
    size_bytes    INTEGER NOT NULL,
    source        TEXT NOT NULL DEFAULT 'upload',
    source_ref    TEXT,
    created_at    TEXT NOT NULL,
    UNIQUE (event_id, content_hash)
);
CREATE INDEX IF NOT EXISTS idx_photos_event ON photos(event_id);

-- One row per scanned photo: the indexing checkpoint. Written in the same
-- transaction as the photo's faces, so a photo is indexed exactly once.
CREATE TABLE IF NOT EXISTS photo_checkpoints (
    photo_id      INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
    event_id      TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    task_id       TEXT,
    status        TEXT NOT NULL,        -- indexed | no_faces | error
    faces_count   INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    processed_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_checkpoints_event ON photo_checkpoints(event_id, status);

CREATE TABLE IF NOT EXISTS faces (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    photo_id      INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    event_id      TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    box_top       INTEGER NOT NULL,
    box_right     INTEGER NOT NULL,
    box_bottom    INTEGER NOT NULL,
    box_left      INTEGER NOT NULL,
    encoding      BLOB NOT NULL         -- 128 float32, little-endian
);
CREATE INDEX IF NOT EXISTS idx_faces_event ON faces(event_id);
CREATE INDEX IF NOT EXISTS idx_faces_photo ON faces(photo_id);

CREATE TABLE IF NOT EXISTS tasks (
    id             TEXT PRIMARY KEY,    -- UUID
    event_id       TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL DEFAULT 'index',
    status         TEXT NOT NULL,       -- pending | running | completed | failed
    progress       INTEGER NOT NULL DEFAULT 0,
    total          INTEGER NOT NULL DEFAULT 0,
    current_item   TEXT,
    faces_found    INTEGER NOT NULL DEFAULT 0,
    error          TEXT,
    claimed_by     TEXT,                -- host:pid:nonce of the runner
    heartbeat_at   REAL,                -- unix time of the runner's last sign of life
    run_started_at REAL,                -- unix time this run (or resume) began
    run_progress0  INTEGER NOT NULL DEFAULT 0,  -- progress when this run began
    attempts       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    started_at     TEXT,
    finished_at    TEXT
);
CREATE INDEX IF NOT EXISTS idx_tasks_status ON tasks(status);
CREATE INDEX IF NOT EXISTS idx_tasks_event ON tasks(event_id, created_at);
