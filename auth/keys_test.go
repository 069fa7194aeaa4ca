package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testKeys is a key store in a temporary directory with two sellers and
// an admin.
type testKeys struct {
	dir                  string
	store                *KeyStore
	seller, other, admin string
}

func newTestKeys(t testing.TB) testKeys {
	t.Helper()
	dir := t.TempDir()
	ks, err := OpenKeyStore(dir, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	k := testKeys{dir: dir, store: ks}
	for _, c := range []struct {
		dst          *string
		role, seller string
	}{{&k.seller, RoleSeller, "sel-a"}, {&k.other, RoleSeller, "sel-b"}, {&k.admin, RoleAdmin, ""}} {
		if *c.dst, _, err = ks.Create(c.role, c.seller, c.seller); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

func TestKeyStore(t *testing.T) {
	k := newTestKeys(t)
	fi, err := os.Stat(filepath.Join(k.dir, KeysFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", fi, err)
	}
	raw, _ := os.ReadFile(filepath.Join(k.dir, KeysFile))
	for _, key := range []string{k.seller, k.other, k.admin} {
		if strings.Contains(string(raw), key[len("ak_")+17:]) {
			t.Fatal("the key file holds a secret")
		}
	}
	p, err := k.store.Verify(k.seller)
	if err != nil || p.Role != RoleSeller || p.SellerID != "sel-a" {
		t.Fatalf("seller key: %+v, %v", p, err)
	}
	if p, err := k.store.Verify(k.admin); err != nil || p.Role != RoleAdmin {
		t.Fatalf("admin key: %+v, %v", p, err)
	}
	// A wrong secret under a real key id, a malformed key, an unknown id.
	wrong := k.seller[:len(k.seller)-1] + map[bool]string{true: "A", false: "B"}[k.seller[len(k.seller)-1] != 'A']
	for _, bad := range []string{wrong, "", "ak_", "nope", "ak_0000000000000000_" + strings.Repeat("A", 43)} {
		if _, err := k.store.Verify(bad); err != ErrBadKey {
			t.Errorf("%q: %v; want ErrBadKey", bad, err)
		}
	}
	// A second store on the same directory (as `aisle seller revoke`
	// is) revokes; the first sees it on its next reload, cache or not.
	other, err := OpenKeyStore(k.dir, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := other.RevokeSeller("sel-a"); n != 1 || err != nil {
		t.Fatalf("revoke: %d, %v", n, err)
	}
	k.store.mu.Lock()
	k.store.checked = time.Time{} // skip the once-a-second reload wait
	k.store.modTime = time.Time{}
	k.store.mu.Unlock()
	if _, err := k.store.Verify(k.seller); err != ErrBadKey {
		t.Errorf("a revoked key: %v", err)
	}
	if _, err := k.store.Verify(k.other); err != nil {
		t.Errorf("another seller's key after a revoke: %v", err)
	}
}

func TestTokens(t *testing.T) {
	key, err := LoadTokenKey(filepath.Join(t.TempDir(), TokenKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := NewTokens(key)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tk.Sign("u-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := tk.Verify(tok); u != "u-1" || err != nil {
		t.Fatalf("verify: %q, %v", u, err)
	}
	other, _ := NewTokens(make([]byte, 32))
	forged, _ := other.Sign("u-1", time.Hour)
	expired, _ := tk.Sign("u-1", -time.Second)
	for name, bad := range map[string]string{"forged": forged, "expired": expired, "empty": "", "truncated": tok[:len(tok)-2],
		"other user": strings.Replace(tok, tok[4:8], "AAAA", 1)} {
		if _, err := tk.Verify(bad); err != ErrBadToken {
			t.Errorf("%s: %v; want ErrBadToken", name, err)
		}
	}
	if _, err := NewTokens(make([]byte, 8)); err == nil {
		t.Error("a short key was accepted")
	}
}

// BenchmarkVerifyKey: the cost of checking a seller key, cold (one
// argon2id) and from the cache (one SHA-256 and a map lookup).
func BenchmarkVerifyKey(b *testing.B) {
	k := newTestKeys(b)
	b.Run("argon2id", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k.store.mu.Lock()
			clear(k.store.cache)
			k.store.mu.Unlock()
			if _, err := k.store.Verify(k.seller); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := k.store.Verify(k.seller); err != nil {
				b.Fatal(err)
			}
		}
	})
}
