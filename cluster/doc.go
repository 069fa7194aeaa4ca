// Package cluster runs Aisle across machines: index nodes that hold the
// shards (Kafka partitions) their consumer group assigns them and answer
// an internal shard-search API (Node), and the router's side (Remote, the
// search.Remote of search.NewRouter) that finds them through Kafka
// (Members) and scatters each search over one live replica of every
// shard.
//
// Membership is Kafka's: the index nodes of one replica set are one
// consumer group, whose cooperative, sticky assignment (ShardBalancer:
// cooperative-sticky by shard, so partition p of every topic lands on one
// node) spreads the partitions; each member's metadata carries its shard
// API address, and routers read the partition -> address map from the
// groups' descriptions (kadm DescribeGroups). No coordinator of our own.
//
// Node and Remote are safe for concurrent use. doc/cluster.md has the
// topology and what is not built.
package cluster
