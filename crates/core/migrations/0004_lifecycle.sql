-- Owning the captures: Keep (pinned recordings are never removed by
-- retention) and where an imported recording came from.
ALTER TABLE recordings ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE recordings ADD COLUMN imported_from TEXT;
CREATE INDEX recordings_pinned ON recordings (session_id) WHERE pinned = 1;
