-- QA review: a reviewer's verdict, note, tags and time-line markers per
-- recording version, and the analysis computed once for each recording.
-- Tags and markers are JSON arrays: they are read and written with their
-- review, never on their own.
CREATE TABLE reviews (
    recording_row INTEGER PRIMARY KEY REFERENCES recordings (id),
    verdict TEXT NOT NULL DEFAULT 'unreviewed',
    note TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    markers TEXT NOT NULL DEFAULT '[]',
    reviewed_at TEXT
);
CREATE INDEX reviews_verdict ON reviews (verdict);

-- Derived from the audio, so bundles and Undo do not carry it: a restored
-- or imported recording is analysed again.
CREATE TABLE analyses (
    recording_row INTEGER PRIMARY KEY REFERENCES recordings (id),
    analysis TEXT NOT NULL,
    flags TEXT NOT NULL DEFAULT '[]',
    analyzer INTEGER NOT NULL,
    computed_at TEXT NOT NULL
);
