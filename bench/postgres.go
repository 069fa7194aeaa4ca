package bench

// postgresPeer returns the PostgreSQL peer, or why it is skipped.
func (c *Config) postgresPeer() peer {
	return peer{name: PeerPostgres, skip: "postgres: peer not implemented yet"}
}
