package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aisle/aisle/internal/atomicfile"
	"golang.org/x/crypto/argon2"
)

// API keys of sellers and of the admin, kept hashed in one JSON file.
//
// A key reads "ak_<key id>_<secret>": the key id (16 hex digits) is not
// secret and finds the record in O(1), so a request computes at most one
// argon2id hash; the secret is 32 random bytes, base64url. The file holds
// for each key its id, role, seller, a random 16-byte salt and the argon2id
// hash of the whole key; never the key itself. A key verified once is
// remembered, by the SHA-256 of the key, for KeyCacheTTL, so a seller's
// writes after the first cost a hash lookup and not an argon2id.
//
// The file is small (one record per key) and written whole, to a temporary
// file renamed over the old one; the server rereads it when its
// modification time changes, at most once a second, so `aisle seller
// revoke` takes effect within a second plus KeyCacheTTL.

// KeysFile is the name of the key file in a data directory.
const KeysFile = "api-keys.json"

// keysFormat is the version of the key file. 1: the first.
const keysFormat = 1

// The argon2id parameters: OWASP's second recommended set (19 MiB, two
// passes, one lane).
const (
	argonTime    = 2
	argonMemory  = 19 << 10 // KiB
	argonThreads = 1
	argonKeyLen  = 32
)

// Roles of an API key.
const (
	RoleSeller = "seller"
	RoleAdmin  = "admin"
)

// ErrBadKey is the error of a key that is malformed, unknown, revoked or
// wrong; callers answer 401 without saying which.
var ErrBadKey = errors.New("auth: invalid API key")

// Principal is who a verified key belongs to.
type Principal struct {
	KeyID    string
	Role     string
	SellerID string // for RoleSeller
}

// KeyRecord is one key in the key file.
type KeyRecord struct {
	KeyID    string    `json:"key_id"`
	Role     string    `json:"role"`
	SellerID string    `json:"seller_id,omitempty"`
	Name     string    `json:"name,omitempty"`
	Salt     string    `json:"salt"` // base64
	Hash     string    `json:"hash"` // base64 argon2id of the key
	Created  time.Time `json:"created"`
	Revoked  time.Time `json:"revoked,omitzero"`
}

type keysFile struct {
	Format int         `json:"format"`
	Argon  [3]uint32   `json:"argon2id"` // time, memory KiB, threads
	Keys   []KeyRecord `json:"keys"`
}

// KeyStore reads, checks and writes the key file of a data directory. It
// is safe for concurrent use by one process; `aisle seller` and a running
// server share the file through atomic renames.
type KeyStore struct {
	path string
	ttl  time.Duration
	// hashing bounds concurrent argon2id computations, so a flood of
	// wrong keys cannot take all the memory and CPU.
	hashing chan struct{}

	mu      sync.Mutex
	keys    map[string]KeyRecord // key id -> record
	modTime time.Time
	checked time.Time
	cache   map[[32]byte]cachedKey
	// failed holds the keys whose check failed within ttl: the same
	// wrong key again costs a SHA-256, not an argon2id.
	failed map[[32]byte]time.Time
}

// ErrThrottled is a check refused before its argon2id hash because the
// caller's allowance of uncached checks is spent (VerifyLimited).
var ErrThrottled = errors.New("auth: too many key checks from this client; retry later")

type cachedKey struct {
	p       Principal
	expires time.Time
}

// OpenKeyStore opens the key file in dir, which need not exist yet. A
// verified key is cached for ttl (0: one minute).
func OpenKeyStore(dir string, ttl time.Duration) (*KeyStore, error) {
	if ttl <= 0 {
		ttl = time.Minute
	}
	ks := &KeyStore{path: filepath.Join(dir, KeysFile), ttl: ttl, hashing: make(chan struct{}, 2),
		keys: map[string]KeyRecord{}, cache: map[[32]byte]cachedKey{}, failed: map[[32]byte]time.Time{}}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if err := ks.reload(true); err != nil {
		return nil, err
	}
	return ks, nil
}

// reload rereads the file when it changed; with mu held.
func (ks *KeyStore) reload(force bool) error {
	now := time.Now()
	if !force && now.Sub(ks.checked) < time.Second {
		return nil
	}
	ks.checked = now
	fi, err := os.Stat(ks.path)
	if errors.Is(err, os.ErrNotExist) {
		ks.keys, ks.modTime = map[string]KeyRecord{}, time.Time{}
		clear(ks.cache)
		return nil
	}
	if err != nil {
		return fmt.Errorf("auth: key file: %w", err)
	}
	if !force && fi.ModTime().Equal(ks.modTime) {
		return nil
	}
	raw, err := os.ReadFile(ks.path)
	if err != nil {
		return fmt.Errorf("auth: key file: %w", err)
	}
	var f keysFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return fmt.Errorf("auth: key file %s: %w", ks.path, err)
	}
	if f.Format != keysFormat {
		return fmt.Errorf("auth: key file %s has format %d; this build reads %d", ks.path, f.Format, keysFormat)
	}
	keys := make(map[string]KeyRecord, len(f.Keys))
	for _, k := range f.Keys {
		keys[k.KeyID] = k
	}
	ks.keys, ks.modTime = keys, fi.ModTime()
	clear(ks.cache) // a revoke must not outlive its reload
	return nil
}

// Empty reports whether the store holds no key at all.
func (ks *KeyStore) Empty() bool {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return len(ks.keys) == 0
}

// Create adds a key for role (and seller, for RoleSeller) and returns the
// key, which is not stored and cannot be recovered.
func (ks *KeyStore) Create(role, sellerID, name string) (key string, rec KeyRecord, err error) {
	if role != RoleSeller && role != RoleAdmin {
		return "", rec, fmt.Errorf("auth: unknown role %q", role)
	}
	if role == RoleSeller && sellerID == "" {
		return "", rec, errors.New("auth: a seller key needs a seller id")
	}
	var id [8]byte
	var secret [32]byte
	var salt [16]byte
	rand.Read(id[:])
	rand.Read(secret[:])
	rand.Read(salt[:])
	rec = KeyRecord{KeyID: hex.EncodeToString(id[:]), Role: role, SellerID: sellerID, Name: name,
		Salt: base64.StdEncoding.EncodeToString(salt[:]), Created: time.Now().UTC()}
	key = "ak_" + rec.KeyID + "_" + base64.RawURLEncoding.EncodeToString(secret[:])
	rec.Hash = base64.StdEncoding.EncodeToString(argonHash(key, salt[:]))
	err = ks.update(func(keys map[string]KeyRecord) error {
		keys[rec.KeyID] = rec
		return nil
	})
	return key, rec, err
}

// RevokeSeller revokes every live key of sellerID, or the key whose id is
// sellerID; it returns how many it revoked.
func (ks *KeyStore) RevokeSeller(id string) (int, error) {
	n := 0
	err := ks.update(func(keys map[string]KeyRecord) error {
		now := time.Now().UTC()
		for kid, k := range keys {
			if (k.SellerID == id || k.KeyID == id) && k.Revoked.IsZero() {
				k.Revoked = now
				keys[kid] = k
				n++
			}
		}
		return nil
	})
	return n, err
}

// Records returns the key records, secrets' hashes included.
func (ks *KeyStore) Records() []KeyRecord {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.reload(true)
	out := make([]KeyRecord, 0, len(ks.keys))
	for _, k := range ks.keys {
		out = append(out, k)
	}
	return out
}

// update rereads the file, applies f and writes it back atomically, mode
// 0600.
func (ks *KeyStore) update(f func(map[string]KeyRecord) error) error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if err := ks.reload(true); err != nil {
		return err
	}
	keys := make(map[string]KeyRecord, len(ks.keys)+1)
	for k, v := range ks.keys {
		keys[k] = v
	}
	if err := f(keys); err != nil {
		return err
	}
	out := keysFile{Format: keysFormat, Argon: [3]uint32{argonTime, argonMemory, argonThreads}}
	for _, k := range keys {
		out.Keys = append(out.Keys, k)
	}
	raw, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(ks.path, raw); err != nil {
		return fmt.Errorf("auth: key file: %w", err)
	}
	return ks.reload(true)
}

func argonHash(key string, salt []byte) []byte {
	return argon2.IDKey([]byte(key), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
}

// parseKeyID returns the key id of a well-formed key.
func parseKeyID(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, "ak_")
	if !ok || len(rest) != 16+1+43 || rest[16] != '_' {
		return "", false
	}
	return rest[:16], true
}

// Verify returns who key belongs to, or ErrBadKey. A key seen valid within
// the cache TTL costs one SHA-256; otherwise one argon2id.
func (ks *KeyStore) Verify(key string) (Principal, error) {
	return ks.VerifyLimited(key, nil)
}

// VerifyLimited is Verify that asks allow (when not nil) before it spends
// an argon2id hash, and returns ErrThrottled when allow says no: a server
// limits the uncached checks per client with it, so a flood of wrong
// secrets cannot queue every other client behind the two hashing slots.
// A key seen valid, or seen wrong, within the cache TTL costs a SHA-256
// and no allowance.
func (ks *KeyStore) VerifyLimited(key string, allow func() bool) (Principal, error) {
	id, ok := parseKeyID(key)
	if !ok {
		return Principal{}, ErrBadKey
	}
	sum := sha256.Sum256([]byte(key))
	now := time.Now()
	ks.mu.Lock()
	if err := ks.reload(false); err != nil {
		ks.mu.Unlock()
		return Principal{}, err
	}
	if c, ok := ks.cache[sum]; ok && now.Before(c.expires) {
		ks.mu.Unlock()
		return c.p, nil
	}
	if until, ok := ks.failed[sum]; ok && now.Before(until) {
		ks.mu.Unlock()
		return Principal{}, ErrBadKey
	}
	rec, ok := ks.keys[id]
	ks.mu.Unlock()
	if !ok || !rec.Revoked.IsZero() {
		return Principal{}, ErrBadKey
	}
	if allow != nil && !allow() {
		return Principal{}, ErrThrottled
	}
	salt, err1 := base64.StdEncoding.DecodeString(rec.Salt)
	want, err2 := base64.StdEncoding.DecodeString(rec.Hash)
	if err1 != nil || err2 != nil {
		return Principal{}, ErrBadKey
	}
	ks.hashing <- struct{}{}
	got := argonHash(key, salt)
	<-ks.hashing
	if subtle.ConstantTimeCompare(got, want) != 1 {
		ks.mu.Lock()
		if len(ks.failed) > 100_000 { // bounded: forget all rather than track age
			clear(ks.failed)
		}
		ks.failed[sum] = now.Add(ks.ttl)
		ks.mu.Unlock()
		return Principal{}, ErrBadKey
	}
	p := Principal{KeyID: rec.KeyID, Role: rec.Role, SellerID: rec.SellerID}
	ks.mu.Lock()
	if len(ks.cache) > 100_000 { // bounded: forget all rather than track age
		clear(ks.cache)
	}
	if cur, ok := ks.keys[id]; ok && cur.Revoked.IsZero() {
		ks.cache[sum] = cachedKey{p: p, expires: now.Add(ks.ttl)}
	}
	ks.mu.Unlock()
	return p, nil
}
