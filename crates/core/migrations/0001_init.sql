-- Recordings: one row per distinct audio received under a recording_id.
-- A resend with identical audio is not stored again; different audio
-- becomes version 2, 3, ... flagged as a conflict.
CREATE TABLE recordings (
    id                INTEGER PRIMARY KEY,
    recording_id      TEXT    NOT NULL,
    version           INTEGER NOT NULL,
    conflict          INTEGER NOT NULL DEFAULT 0,
    session_id        TEXT    NOT NULL,
    assistant_id      TEXT    NOT NULL,
    environment_id    TEXT    NOT NULL,
    start_timestamp   TEXT    NOT NULL,
    stop_timestamp    TEXT    NOT NULL,
    received_at       TEXT    NOT NULL,
    metadata_json     TEXT    NOT NULL,
    path              TEXT    NOT NULL,
    filename          TEXT,
    part_content_type TEXT,
    container         TEXT    NOT NULL,
    encoding          TEXT    NOT NULL,
    sample_rate       INTEGER NOT NULL,
    channels          INTEGER NOT NULL,
    sample_count      INTEGER NOT NULL,
    duration_ms       INTEGER NOT NULL,
    data_offset       INTEGER NOT NULL,
    data_len          INTEGER NOT NULL,
    size_bytes        INTEGER NOT NULL,
    sha256            TEXT    NOT NULL,
    auth_verdict      TEXT    NOT NULL,
    auth_reason       TEXT,
    jwt_header        TEXT,
    jwt_claims        TEXT,
    audio             BLOB    NOT NULL,
    UNIQUE (recording_id, version)
);
CREATE INDEX recordings_by_session ON recordings (session_id, received_at);
CREATE INDEX recordings_by_time ON recordings (received_at);

-- Every HTTP request that reached the listener, whatever became of it.
CREATE TABLE requests (
    id             INTEGER PRIMARY KEY,
    received_at    TEXT    NOT NULL,
    method         TEXT    NOT NULL,
    path           TEXT    NOT NULL,
    query          TEXT,
    remote_addr    TEXT,
    headers_json   TEXT    NOT NULL,
    status         INTEGER NOT NULL,
    latency_us     INTEGER NOT NULL,
    outcome        TEXT    NOT NULL,
    error_code     TEXT,
    reason         TEXT,
    session_id     TEXT,
    recording_id   TEXT,
    recording_row  INTEGER REFERENCES recordings (id),
    auth_verdict   TEXT    NOT NULL,
    auth_reason    TEXT,
    jwt_header     TEXT,
    jwt_claims     TEXT,
    parts_json     TEXT,
    body_size      INTEGER NOT NULL,
    body           BLOB
);
CREATE INDEX requests_by_time ON requests (received_at);
CREATE INDEX requests_by_session ON requests (session_id);
