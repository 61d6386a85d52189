-- Indexes for the desktop's paged lists (see the `lists` benchmark).

-- Calls are derived from recordings with GROUP BY; this covering index lets
-- SQLite aggregate a call without reading rows that carry audio blobs.
CREATE INDEX recordings_calls ON recordings
    (session_id, received_at, assistant_id, environment_id, auth_verdict, recording_id);

-- Calls with a rejected or unverified request get a badge; this partial
-- index holds only those requests, so counting them stays cheap however
-- large the log grows.
CREATE INDEX requests_flagged ON requests (session_id)
    WHERE status >= 400 OR auth_verdict IN ('invalid', 'missing');

-- The unfiltered calls list walks recordings newest first (ties by call id,
-- as the general query orders them) until it has a page of calls.
CREATE INDEX recordings_recent ON recordings (received_at DESC, session_id);
