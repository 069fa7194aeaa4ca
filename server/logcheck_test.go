package server

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/aisle/aisle/auth"
)

// secretPattern matches an API key or a user token as this server issues
// them (package auth).
var secretPattern = regexp.MustCompile(`ak_[0-9a-f]{16}_[A-Za-z0-9_-]{20,}|ut1\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{20,}`)

// checkedLogf is the Options.Logf of the server tests: it logs through t
// and fails the test when a line holds a key or a token, so every log
// line of every server test is checked for secrets (doc/security.md).
func checkedLogf(t testing.TB) func(format string, args ...any) {
	return func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		if secretPattern.MatchString(line) {
			t.Errorf("a server log line holds a secret: %q", secretPattern.ReplaceAllString(line, "<secret>"))
			return
		}
		t.Log(line)
	}
}

func TestSecretPattern(t *testing.T) {
	k := newTestKeys(t)
	tokens, err := auth.NewTokens(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := tokens.Sign("u1", 3600e9)
	for _, s := range []string{k.seller, k.admin, tok} {
		if !secretPattern.MatchString("verifying " + s + " failed") {
			t.Errorf("the pattern misses %q", s[:8])
		}
	}
	for _, s := range []string{"ak_", "product p-1 of seller sel-a", "ut1.", "user u1"} {
		if secretPattern.MatchString(s) {
			t.Errorf("the pattern matches %q", s)
		}
	}
}
