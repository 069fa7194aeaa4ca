package app

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/aisle/aisle/auth"
)

// TestSetupCredentials: a fresh directory gets dev credentials, mode
// 0600, that verify; a second start keeps them.
func TestSetupCredentials(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	ks, tokens, err := setupCredentials(dir, "", &log)
	if err != nil {
		t.Fatal(err)
	}
	a := &aisle{data: dir, log: &syncBuffer{}}
	a.log.WriteString(log.String())
	dc := readDevCredentials(t, a)
	checkNoSecrets(t, a)
	if p, err := ks.Verify(dc.SellerAPIKey); err != nil || p.SellerID != dc.SellerID {
		t.Errorf("seller key: %+v %v", p, err)
	}
	if p, err := ks.Verify(dc.AdminKey); err != nil || p.Role != auth.RoleAdmin {
		t.Errorf("admin key: %+v %v", p, err)
	}
	if u, err := tokens.Verify(dc.UserToken); err != nil || u != dc.UserID {
		t.Errorf("user token: %q %v", u, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, auth.TokenKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token key: %v %v", fi, err)
	}
	log.Reset()
	if _, tokens2, err := setupCredentials(dir, "", &log); err != nil || log.Len() != 0 {
		t.Errorf("second start: %v, %q", err, log.String())
	} else if _, err := tokens2.Verify(dc.UserToken); err != nil {
		t.Errorf("the token key changed on restart: %v", err)
	}
}
