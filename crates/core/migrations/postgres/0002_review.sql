-- QA review and stored analysis, as SQLite's 0005_review.sql: a reviewer's
-- verdict, note, tags and markers per recording version (tags and markers
-- JSON text, so bundles carry the same cells from either store), and the
-- analysis computed once per recording.
CREATE TABLE reviews (
    recording_row BIGINT PRIMARY KEY REFERENCES recordings (id),
    verdict       TEXT COLLATE "C" NOT NULL DEFAULT 'unreviewed',
    note          TEXT COLLATE "C" NOT NULL DEFAULT '',
    tags          TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    markers       TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    reviewed_at   TEXT COLLATE "C"
);
CREATE INDEX reviews_verdict ON reviews (verdict);

CREATE TABLE analyses (
    recording_row BIGINT PRIMARY KEY REFERENCES recordings (id),
    analysis      TEXT COLLATE "C" NOT NULL,
    flags         TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    analyzer      BIGINT NOT NULL,
    computed_at   TEXT COLLATE "C" NOT NULL
);
