-- The integration workbench: what the user's own service answered, replays,
-- simulated answers, and what a byte-identical replay needs.

-- An accepted request's body is kept without its audio part's bytes, which
-- the recording row already holds: `body_audio_at` is where they go back in.
-- NULL for rejected requests, whose (capped) body is kept whole.
ALTER TABLE requests ADD COLUMN body_audio_at INTEGER;
-- What the Response card or `--answer-*` made Earshot answer instead, e.g. "503", "drop".
ALTER TABLE requests ADD COLUMN simulated TEXT;
CREATE INDEX requests_by_recording ON requests (recording_row);

-- The user's service's answer to a forwarded request.
CREATE TABLE forwards (
    request_id   INTEGER PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    url          TEXT    NOT NULL,
    mode         TEXT    NOT NULL,
    status       INTEGER,
    error_code   TEXT,
    error        TEXT,
    latency_us   INTEGER NOT NULL,
    headers_json TEXT,
    body_size    INTEGER NOT NULL,
    body         BLOB
);
-- The calls list badges calls with an answer that was not 2xx.
CREATE INDEX forwards_failed ON forwards (request_id)
    WHERE status IS NULL OR status NOT BETWEEN 200 AND 299;

-- A stored request or recording sent again, with what was changed and the answer.
CREATE TABLE replays (
    id                  INTEGER PRIMARY KEY,
    sent_at             TEXT    NOT NULL,
    request_id          INTEGER REFERENCES requests (id) ON DELETE CASCADE,
    recording_row       INTEGER REFERENCES recordings (id) ON DELETE CASCADE,
    url                 TEXT    NOT NULL,
    identical           INTEGER NOT NULL,
    changes_json        TEXT    NOT NULL,
    headers_json        TEXT    NOT NULL,
    body_size           INTEGER NOT NULL,
    body_sha256         TEXT    NOT NULL,
    status              INTEGER,
    error_code          TEXT,
    error               TEXT,
    latency_us          INTEGER NOT NULL,
    answer_headers_json TEXT,
    answer_body_size    INTEGER NOT NULL,
    answer_body         BLOB
);
CREATE INDEX replays_of_request ON replays (request_id);
CREATE INDEX replays_of_recording ON replays (recording_row);
