-- Commit markers: each read-write transaction inserts its random id here
-- with its writes. When the answer to COMMIT is lost with the connection,
-- the store reads the marker on a new connection, once the old session
-- has ended, to learn whether the transaction committed (acknowledge it)
-- or not (run it again). Markers older than ten minutes are deleted.
CREATE TABLE commerce.commits (
	id bigint PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now()
);
