-- Phopy schema for PostgreSQL. Idempotent: `flask --app app init-db` runs it.
-- Keep in step with schema.sql.

CREATE TABLE IF NOT EXISTS photographers (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    display_name  TEXT,
    google_sub    TEXT UNIQUE,          -- Google sign-in (later issue)
    created_at    TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS events (
    id            TEXT PRIMARY KEY,     -- UUID
    code          TEXT NOT NULL UNIQUE, -- 6 characters for attendees
    owner_id      BIGINT NOT NULL REFERENCES photographers(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    event_date    TEXT,
    location      TEXT,
    description   TEXT,
    is_listed     INTEGER NOT NULL DEFAULT 0,
    auto_index    INTEGER NOT NULL DEFAULT 1,
    faces_version INTEGER NOT NULL DEFAULT 0,  -- bumped whenever faces, photos or checkpoints change
    faces_removed INTEGER NOT NULL DEFAULT 0,  -- bumped whenever faces are removed
    closed_at     TEXT,                 -- set when the event is closed
    face_retention_days INTEGER,        -- NULL: FACE_RETENTION_DAYS
    faces_purged_at TEXT,               -- face data deleted (retention)
    banner_key    TEXT,                 -- PNG composited onto downloads
    banner_position TEXT,
    created_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_events_owner ON events(owner_id);

CREATE TABLE IF NOT EXISTS photos (
    id            BIGSERIAL PRIMARY KEY,
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
    claimed_by    TEXT,  -- the indexing task holding it (phopy.services.index_share)
    claimed_at    DOUBLE PRECISION,  -- database time of the claim: taken again after the lease
    UNIQUE (event_id, content_hash)
);
CREATE INDEX IF NOT EXISTS idx_photos_event ON photos(event_id);

-- One row per scanned photo: the indexing checkpoint. Written in the same
-- transaction as the photo's faces, so a photo is indexed exactly once.
CREATE TABLE IF NOT EXISTS photo_checkpoints (
    photo_id      BIGINT PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
    event_id      TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    task_id       TEXT,
    status        TEXT NOT NULL,        -- indexed | no_faces | error
    faces_count   INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    processed_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_checkpoints_event ON photo_checkpoints(event_id, status);

CREATE TABLE IF NOT EXISTS faces (
    id            BIGSERIAL PRIMARY KEY,
    photo_id      BIGINT NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    event_id      TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    box_top       INTEGER NOT NULL,
    box_right     INTEGER NOT NULL,
    box_bottom    INTEGER NOT NULL,
    box_left      INTEGER NOT NULL,
    encoding      BYTEA NOT NULL,  -- float32 little-endian: 128 (dlib) or 512 (mobilefacenet) values
    engine        TEXT NOT NULL DEFAULT 'dlib',       -- engine that made the encoding
    model_version TEXT NOT NULL DEFAULT 'resnet_v1'   -- its model: re-index when it changes
);
CREATE INDEX IF NOT EXISTS idx_faces_event ON faces(event_id);
-- The search cache loads the faces added since its last load (id > N) and counts
-- the older ones to notice removals: both from this index alone.
CREATE INDEX IF NOT EXISTS idx_faces_event_id ON faces(event_id, id);
CREATE INDEX IF NOT EXISTS idx_faces_photo ON faces(photo_id);

CREATE TABLE IF NOT EXISTS tasks (
    id             TEXT PRIMARY KEY,    -- UUID
    event_id       TEXT REFERENCES events(id) ON DELETE CASCADE,  -- NULL: not about one event
    kind           TEXT NOT NULL DEFAULT 'index',   -- a name in phopy.jobs.registry
    args           TEXT,                -- JSON object of the job's keyword arguments
    lock_key       TEXT,                -- at most one running task per key (NULL: no limit)
    status         TEXT NOT NULL,       -- pending | running | completed | failed
    progress       INTEGER NOT NULL DEFAULT 0,
    total          INTEGER NOT NULL DEFAULT 0,
    current_item   TEXT,
    faces_found    INTEGER NOT NULL DEFAULT 0,
    error          TEXT,
    claimed_by     TEXT,                -- host:pid:nonce of the runner
    heartbeat_at   DOUBLE PRECISION,                -- unix time of the runner's last sign of life
    run_started_at DOUBLE PRECISION,                -- unix time this run (or resume) began
    run_progress0  INTEGER NOT NULL DEFAULT 0,  -- progress when this run began
    attempts       INTEGER NOT NULL DEFAULT 0,
    max_attempts   INTEGER NOT NULL DEFAULT 5,
    run_after      DOUBLE PRECISION NOT NULL DEFAULT 0,  -- unix time before which it is not claimed (retry backoff)
    result         TEXT,                -- JSON summary a finished job returned
    enqueued_at    DOUBLE PRECISION NOT NULL DEFAULT 0,  -- unix time queued: orders tasks queued in one second
    parent_id      TEXT,                -- the task this one helps (an event's index_part)
    created_at     TEXT NOT NULL,
    started_at     TEXT,
    finished_at    TEXT
);
CREATE INDEX IF NOT EXISTS idx_tasks_parent ON tasks(parent_id);
CREATE INDEX IF NOT EXISTS idx_tasks_status ON tasks(status);
CREATE INDEX IF NOT EXISTS idx_tasks_event ON tasks(event_id, created_at);
CREATE INDEX IF NOT EXISTS idx_tasks_lock ON tasks(lock_key, status);

-- Periodic jobs (phopy.jobs.schedule): one row each; a runner that moves
-- next_run_at forward with a compare-and-swap is the one that enqueues it.
CREATE TABLE IF NOT EXISTS schedule_leases (
    name          TEXT PRIMARY KEY,
    next_run_at   DOUBLE PRECISION NOT NULL,
    last_run_at   DOUBLE PRECISION,
    holder        TEXT
);

-- API keys: only the SHA-256 of the key is stored; the key is shown once.
CREATE TABLE IF NOT EXISTS api_keys (
    id              BIGSERIAL PRIMARY KEY,
    photographer_id BIGINT NOT NULL REFERENCES photographers(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    key_hash        TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    last_used_at    TEXT,
    revoked_at      TEXT
);
CREATE INDEX IF NOT EXISTS idx_api_keys_owner ON api_keys(photographer_id);

-- Job runners say they are alive here (GET /health reads it).
CREATE TABLE IF NOT EXISTS runners (
    id            TEXT PRIMARY KEY,
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    started_at    DOUBLE PRECISION NOT NULL,
    heartbeat_at  DOUBLE PRECISION NOT NULL,
    role          TEXT NOT NULL DEFAULT 'runner'  -- runner | worker | beat
);

-- One row per selfie search; never the selfie, never its encoding.
CREATE TABLE IF NOT EXISTS search_log (
    id              BIGSERIAL PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    created_at      DOUBLE PRECISION NOT NULL,
    selfies         INTEGER NOT NULL,
    faces_found     INTEGER NOT NULL,
    photos_returned INTEGER NOT NULL,
    photo_ids       TEXT,
    duration_ms     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_search_log_event ON search_log(event_id, created_at);

-- One row per photo downloaded from a search result.
CREATE TABLE IF NOT EXISTS download_log (
    id            BIGSERIAL PRIMARY KEY,
    event_id      TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    photo_id      BIGINT NOT NULL,
    created_at    DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_download_log_event ON download_log(event_id);
-- Google: a photographer's Drive grant (refresh token encrypted with Fernet).
CREATE TABLE IF NOT EXISTS google_accounts (
    photographer_id BIGINT PRIMARY KEY REFERENCES photographers(id) ON DELETE CASCADE,
    google_sub      TEXT NOT NULL,
    email           TEXT,
    refresh_token   TEXT NOT NULL,       -- Fernet ciphertext
    scopes          TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- An event fed from a Google Drive folder.
CREATE TABLE IF NOT EXISTS drive_links (
    event_id        TEXT PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    photographer_id BIGINT NOT NULL REFERENCES photographers(id) ON DELETE CASCADE,
    folder_id       TEXT NOT NULL,
    folder_name     TEXT,
    include_subfolders INTEGER NOT NULL DEFAULT 1,
    mode            TEXT NOT NULL DEFAULT 'oauth',   -- oauth | public (API key)
    page_token      TEXT,                -- Changes API start page token
    status          TEXT NOT NULL DEFAULT 'ok',      -- ok | paused
    error_reason    TEXT,                -- revoked | not_found | forbidden | quota
    error_detail    TEXT,
    last_sync_at    TEXT,
    last_result     TEXT,                -- JSON summary of the last sync
    created_at      TEXT NOT NULL
);

-- Each Drive file an event has seen: imported once per md5Checksum.
CREATE TABLE IF NOT EXISTS drive_files (
    event_id        TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    file_id         TEXT NOT NULL,
    name            TEXT,
    md5             TEXT,
    photo_id        BIGINT,
    status          TEXT NOT NULL,       -- imported | failed
    error           TEXT,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (event_id, file_id)
);
CREATE INDEX IF NOT EXISTS idx_drive_files_photo ON drive_files(photo_id);

-- Signed-in browsers: the session cookie names one row; log-out deletes it, so a
-- copied cookie stops working at once.
CREATE TABLE IF NOT EXISTS login_sessions (
    id              TEXT PRIMARY KEY,   -- random, kept in the signed session cookie
    photographer_id INTEGER NOT NULL REFERENCES photographers(id) ON DELETE CASCADE,
    created_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_login_sessions_photographer ON login_sessions(photographer_id);
-- LINE Official Account (phopy/line, phopy/data/line.py).
CREATE TABLE IF NOT EXISTS line_users (
    user_id         TEXT PRIMARY KEY,      -- U + 32 hex
    display_name    TEXT,
    language        TEXT,                  -- from the LINE profile; Thai when unknown
    photographer_id BIGINT REFERENCES photographers(id) ON DELETE SET NULL,
    face_encoding   BYTEA,                  -- the selfie's largest face (the image is not kept)
    face_engine     TEXT,                  -- engine:model version that encoded it
    encoded_at      TEXT,
    code_misses     INTEGER NOT NULL DEFAULT 0,  -- wrong event codes in this window
    code_misses_since DOUBLE PRECISION,            -- when the window began (unix seconds)
    created_at      TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS line_tokens (
    token           TEXT PRIMARY KEY,      -- one-time: 'register' (dashboard) or 'group'
    kind            TEXT NOT NULL,
    photographer_id BIGINT REFERENCES photographers(id) ON DELETE CASCADE,
    user_id         TEXT,
    expires_at      DOUBLE PRECISION NOT NULL,
    used_at         TEXT
);

CREATE TABLE IF NOT EXISTS line_groups (
    group_id        TEXT PRIMARY KEY,
    name            TEXT,
    photographer_id BIGINT REFERENCES photographers(id) ON DELETE SET NULL,
    linked_by       TEXT,                  -- the operator's LINE user id
    linked_at       TEXT,
    joined_at       TEXT NOT NULL
);

-- Webhook events already taken (webhookEventId): a redelivery is processed once.
CREATE TABLE IF NOT EXISTS line_webhook_events (
    webhook_event_id TEXT PRIMARY KEY,
    received_at      TEXT NOT NULL
);

-- Every reply or push, written in the same transaction as its effect; sent by a job
-- with its own X-Line-Retry-Key, so a retry never sends twice.
CREATE TABLE IF NOT EXISTS line_outbox (
    id              BIGSERIAL PRIMARY KEY,
    retry_key       TEXT NOT NULL UNIQUE,
    to_id           TEXT NOT NULL,
    reply_token     TEXT,
    messages        TEXT NOT NULL,         -- JSON list of LINE message objects
    purpose         TEXT,
    status          TEXT NOT NULL,         -- pending | sent | failed
    via             TEXT,                  -- reply | push
    error           TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX IF NOT EXISTS idx_line_outbox_to ON line_outbox(to_id);

-- Events started from a LINE group.
CREATE TABLE IF NOT EXISTS line_event_groups (
    event_id        TEXT PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    group_id        TEXT NOT NULL,
    started_by      TEXT,
    opened_at       DOUBLE PRECISION NOT NULL,
    last_photo_at   DOUBLE PRECISION,
    closed_at       DOUBLE PRECISION,
    photos_from     TEXT NOT NULL DEFAULT 'operators'  -- operators | everyone
);
CREATE INDEX IF NOT EXISTS idx_line_event_groups_group ON line_event_groups(group_id, closed_at);

CREATE TABLE IF NOT EXISTS line_images (
    message_id      TEXT PRIMARY KEY,
    event_id        TEXT REFERENCES events(id) ON DELETE CASCADE,
    group_id        TEXT,
    photo_id        BIGINT,
    status          TEXT NOT NULL,         -- stored | gone | skipped
    created_at      TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS line_participants (
    event_id        TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES line_users(user_id) ON DELETE CASCADE,
    joined_at       TEXT NOT NULL,
    found_notified  INTEGER NOT NULL DEFAULT 0,
    summary_sent    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, user_id)
);

-- Photos a participant was found in (kept after face data is purged, for the gallery).
CREATE TABLE IF NOT EXISTS line_matches (
    event_id        TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES line_users(user_id) ON DELETE CASCADE,
    photo_id        BIGINT NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    found_at        TEXT NOT NULL,
    PRIMARY KEY (event_id, user_id, photo_id)
);

-- "Is this you?": one attendee's search of one event (the web page's device, a REST
-- caller, a LINE user), kept SEARCH_SESSION_HOURS and deleted with the event's face data.
CREATE TABLE IF NOT EXISTS search_sessions (
    id              TEXT PRIMARY KEY,      -- random and secret: whoever holds it answers
    event_id        TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    owner           TEXT NOT NULL,         -- device:<id> | api | line:<userId>
    engine          TEXT NOT NULL,         -- engine:model version of the encodings
    encodings       BYTEA NOT NULL,         -- the selfies' face encodings (float32); biometric
    selfies         INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      DOUBLE PRECISION NOT NULL       -- unix seconds: deleted then
);
CREATE INDEX IF NOT EXISTS idx_search_sessions_expires ON search_sessions (expires_at);
CREATE INDEX IF NOT EXISTS idx_search_sessions_event ON search_sessions (event_id);

-- Faces a session was shown ('yours') or asked about ('ask'): only these can be answered.
CREATE TABLE IF NOT EXISTS search_offers (
    session_id      TEXT NOT NULL REFERENCES search_sessions(id) ON DELETE CASCADE,
    face_id         BIGINT NOT NULL,
    photo_id        BIGINT NOT NULL,
    tier            TEXT NOT NULL,         -- yours | ask
    PRIMARY KEY (session_id, face_id)
);

-- "This is me" / "Not me", one per photo and session (a replay changes nothing).
CREATE TABLE IF NOT EXISTS search_answers (
    session_id      TEXT NOT NULL REFERENCES search_sessions(id) ON DELETE CASCADE,
    photo_id        BIGINT NOT NULL,
    face_id         BIGINT NOT NULL,
    answer          TEXT NOT NULL,         -- me | not_me
    answered_at     TEXT NOT NULL,
    PRIMARY KEY (session_id, photo_id)
);

-- The photographer's view of the answers: counts only, no session or person.
CREATE TABLE IF NOT EXISTS answer_totals (
    event_id        TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    photo_id        BIGINT NOT NULL,        -- 0: the event's own row (sessions that confirmed)
    confirmed       INTEGER NOT NULL DEFAULT 0,
    rejected        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, photo_id)
);

-- sales (phopy/sales)
-- An event's prices (no row: free, as every event was before). Amounts in satang (THB).
CREATE TABLE IF NOT EXISTS sales_pricing (
    event_id        TEXT PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    photo_price     INTEGER NOT NULL,      -- one photo
    bundle_price    INTEGER,               -- "all my photos" (optional)
    provider        TEXT NOT NULL,         -- stripe | promptpay
    promptpay_id    TEXT,                  -- direct PromptPay: phone, national or e-wallet id
    updated_at      TEXT NOT NULL
);
-- Package tiers: N photos for a price.
CREATE TABLE IF NOT EXISTS sales_tiers (
    event_id        TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    photos          INTEGER NOT NULL,
    price           INTEGER NOT NULL,
    PRIMARY KEY (event_id, photos)
);
-- Orders: pending -> paid -> refunded, or pending -> expired / rejected. The buyer's
-- e-mail and transfer slip are erased at erase_at (the prune job).
CREATE TABLE IF NOT EXISTS sales_orders (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    token_hash      TEXT NOT NULL UNIQUE,  -- SHA-256 of the secret download link's token
    email           TEXT,
    status          TEXT NOT NULL,
    kind            TEXT NOT NULL,         -- photos | bundle
    amount          INTEGER NOT NULL,
    currency        TEXT NOT NULL DEFAULT 'thb',
    provider        TEXT NOT NULL,
    payment_ref     TEXT,                  -- the PaymentIntent's id (Stripe)
    payment_qr      TEXT,                  -- the QR payload to pay with
    slip_key        TEXT,                  -- direct PromptPay: the uploaded slip (private)
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    paid_at         TEXT,
    refunded_at     TEXT,
    closed_at       TEXT,                  -- expired or rejected
    downloads_until TEXT,
    erase_at        TEXT NOT NULL,
    erased_at       TEXT,
    lang            TEXT,                  -- the buyer's language (th | en): the receipt's
    line_user_id    TEXT,                  -- checkout came from this LINE user's gallery
    receipt_sent_at TEXT                   -- the receipt e-mail went out (sent once)
);
CREATE INDEX IF NOT EXISTS idx_sales_orders_event ON sales_orders (event_id, created_at);
CREATE INDEX IF NOT EXISTS idx_sales_orders_status ON sales_orders (status, expires_at);
CREATE INDEX IF NOT EXISTS idx_sales_orders_erase ON sales_orders (erase_at);
CREATE INDEX IF NOT EXISTS idx_sales_orders_payment ON sales_orders (payment_ref);
CREATE INDEX IF NOT EXISTS idx_sales_orders_line_user ON sales_orders (line_user_id);
CREATE TABLE IF NOT EXISTS sales_order_items (
    order_id        TEXT NOT NULL REFERENCES sales_orders(id) ON DELETE CASCADE,
    photo_id        BIGINT NOT NULL,
    amount          INTEGER NOT NULL,      -- this photo's share of the order
    downloads       INTEGER NOT NULL DEFAULT 0,
    filename        TEXT,                  -- set when the photo was deleted after the sale
    kept_key        TEXT,                  -- then: the buyer's copy, kept until downloads end
    PRIMARY KEY (order_id, photo_id)
);
-- Stripe webhook event ids, so a redelivery is processed once.
CREATE TABLE IF NOT EXISTS sales_webhook_events (
    id              TEXT PRIMARY KEY,
    type            TEXT NOT NULL,
    received_at     TEXT NOT NULL
);

-- bibs (phopy/bibs)
-- Running events: race bib numbers read from the photos (OCR), the start list, the
-- photographer's fixes. Readings that sit under a face refer to it and are deleted
-- with the face data (purge, re-index); every row goes with its event and photo.
CREATE TABLE IF NOT EXISTS bib_events (
    event_id        TEXT PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    is_running_event INTEGER NOT NULL DEFAULT 0,
    bib_pattern     TEXT,                 -- NULL: [A-Z]?\d{1,6}
    bib_search      INTEGER NOT NULL DEFAULT 1,  -- 0: numbers are not searchable
    updated_at      TEXT NOT NULL
);
-- One row per photo read: the reading checkpoint. It goes with the photo's indexing
-- checkpoint, so a re-indexed photo is read again.
CREATE TABLE IF NOT EXISTS bib_scans (
    photo_id        BIGINT PRIMARY KEY REFERENCES photo_checkpoints(photo_id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    status          TEXT NOT NULL,        -- read | error
    readings        INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    read_at         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_bib_scans_event ON bib_scans(event_id);
CREATE TABLE IF NOT EXISTS bib_readings (
    id              BIGSERIAL PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    photo_id        BIGINT NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    face_id         BIGINT REFERENCES faces(id) ON DELETE CASCADE,  -- the runner wearing it
    bib             TEXT NOT NULL,        -- the number searched for
    text_read       TEXT NOT NULL,        -- what the OCR read
    confidence      DOUBLE PRECISION NOT NULL,
    box_left        INTEGER NOT NULL,
    box_top         INTEGER NOT NULL,
    box_right       INTEGER NOT NULL,
    box_bottom      INTEGER NOT NULL,
    searchable      INTEGER NOT NULL DEFAULT 1,
    review          TEXT,                 -- low_confidence | not_on_start_list | two_faces
    suggestion      TEXT,                 -- the start-list number one digit away
    fixed           INTEGER NOT NULL DEFAULT 0,  -- set by the photographer's fix
    created_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_bib_readings_bib ON bib_readings(event_id, bib);
CREATE INDEX IF NOT EXISTS idx_bib_readings_photo ON bib_readings(photo_id);
CREATE INDEX IF NOT EXISTS idx_bib_readings_face ON bib_readings(face_id);
-- The photographer's fixes: kept across re-reading, and they win over it.
CREATE TABLE IF NOT EXISTS bib_fixes (
    id              BIGSERIAL PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    photo_id        BIGINT NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    box_left        INTEGER NOT NULL,
    box_top         INTEGER NOT NULL,
    box_right       INTEGER NOT NULL,
    box_bottom      INTEGER NOT NULL,
    bib             TEXT,                 -- NULL: not a bib
    fixed_at        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_bib_fixes_photo ON bib_fixes(photo_id);
CREATE TABLE IF NOT EXISTS bib_start_list (
    event_id        TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    bib             TEXT NOT NULL,
    name            TEXT NOT NULL,
    category        TEXT,
    email           TEXT,
    line_id         TEXT,
    PRIMARY KEY (event_id, bib)
);

-- Bib numbers a LINE participant typed to the bot (to be told when photos of them are
-- read later); deleted with the event's face data, the event, and "delete my data".
CREATE TABLE IF NOT EXISTS line_bibs (
    event_id        TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES line_users(user_id) ON DELETE CASCADE,
    bib             TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (event_id, user_id, bib)
);
CREATE INDEX IF NOT EXISTS idx_line_bibs_user ON line_bibs(user_id);

-- Named values about the database itself: the schema version this file creates
-- (phopy.data.upgrade.SCHEMA_VERSION; init-db raises it after an upgrade) and
-- the id of the data folder the file storage uses (data_dir_id).
CREATE TABLE IF NOT EXISTS schema_meta (
    name            TEXT PRIMARY KEY,
    value           TEXT NOT NULL
);
INSERT INTO schema_meta (name, value) VALUES ('schema_version', '8') ON CONFLICT (name) DO NOTHING;
