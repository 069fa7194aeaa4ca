package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aisle/aisle/auth"
)

// TestSellerCommand creates, lists and revokes a seller's key through the
// CLI, as a running server sees it through the key file.
func TestSellerCommand(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := sellerCommand([]string{"create", "--name", "Acme", "--data", dir}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var sellerID, key string
	for _, line := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "seller_id="); ok {
			sellerID = v
		}
		if v, ok := strings.CutPrefix(line, "api_key="); ok {
			key = v
		}
	}
	ks, err := auth.OpenKeyStore(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := ks.Verify(key); err != nil || p.SellerID != sellerID || p.Role != auth.RoleSeller {
		t.Fatalf("the created key: %+v, %v (output %q)", p, err, out.String())
	}
	raw, _ := os.ReadFile(filepath.Join(dir, auth.KeysFile))
	if bytes.Contains(raw, []byte(key)) {
		t.Fatal("the key file holds the key")
	}
	out.Reset()
	if err := sellerCommand([]string{"list", "--data", dir}, &out, io.Discard); err != nil || !strings.Contains(out.String(), sellerID) || strings.Contains(out.String(), key) {
		t.Fatalf("list: %v %q", err, out.String())
	}
	if err := sellerCommand([]string{"revoke", "--id", sellerID, "--data", dir}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	ks2, _ := auth.OpenKeyStore(dir, 0)
	if _, err := ks2.Verify(key); err != auth.ErrBadKey {
		t.Fatalf("a revoked key: %v", err)
	}
	for _, args := range [][]string{{"create", "--data", dir}, {"revoke", "--id", "nope", "--data", dir}, {"frob"}, nil} {
		if err := sellerCommand(args, io.Discard, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
