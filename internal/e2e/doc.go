// Package e2e tests relevance as data: every judged query of the shipped
// corpora runs through a real engine, and the metrics are compared with the
// committed corpora/<name>/rank_stats.txt.
package e2e
