package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aisle/aisle/internal/atomicfile"
)

// User tokens: "ut1.<payload>.<mac>", both base64url without padding. The
// payload is "<user id>|<expiry, Unix seconds>"; the mac is HMAC-SHA256 of
// "ut1." and the encoded payload under the token key. Tokens are checked
// with hmac.Equal, in constant time; nothing is stored per token, so a
// token lives until its expiry or until the key changes.

// ErrBadToken is the error of a user token that is malformed, forged or
// expired; callers answer 401 without saying which.
var ErrBadToken = errors.New("auth: invalid user token")

// TokenKeyFile is the name of the generated token key in a data directory.
const TokenKeyFile = "token.key"

const tokenPrefix = "ut1."

// MinTokenKeyBytes is the shortest HMAC key accepted.
const MinTokenKeyBytes = 32

// Tokens signs and verifies user tokens. It is safe for concurrent use.
type Tokens struct {
	key []byte
	now func() time.Time
}

// NewTokens returns a signer with key, at least MinTokenKeyBytes long.
func NewTokens(key []byte) (*Tokens, error) {
	if len(key) < MinTokenKeyBytes {
		return nil, fmt.Errorf("auth: the token key has %d bytes; want at least %d", len(key), MinTokenKeyBytes)
	}
	return &Tokens{key: append([]byte(nil), key...), now: time.Now}, nil
}

// LoadTokenKey reads the token key from path, creating a random 32-byte
// key there (mode 0600) when the file does not exist.
func LoadTokenKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		rand.Read(key)
		if err := atomicfile.Write(path, key); err != nil {
			return nil, fmt.Errorf("auth: writing the token key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: reading the token key: %w", err)
	}
	return key, nil
}

func (t *Tokens) mac(signed string) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(signed))
	return m.Sum(nil)
}

// Sign returns a token for userID valid for ttl.
func (t *Tokens) Sign(userID string, ttl time.Duration) (string, error) {
	if userID == "" || strings.ContainsRune(userID, '|') {
		return "", fmt.Errorf("auth: user id %q is empty or holds '|'", userID)
	}
	payload := userID + "|" + strconv.FormatInt(t.now().Add(ttl).Unix(), 10)
	signed := tokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(payload))
	return signed + "." + base64.RawURLEncoding.EncodeToString(t.mac(signed)), nil
}

// Verify returns the user id of a valid, unexpired token, or ErrBadToken.
func (t *Tokens) Verify(token string) (string, error) {
	i := strings.LastIndexByte(token, '.')
	if !strings.HasPrefix(token, tokenPrefix) || i <= len(tokenPrefix) {
		return "", ErrBadToken
	}
	signed := token[:i]
	mac, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil || !hmac.Equal(mac, t.mac(signed)) {
		return "", ErrBadToken
	}
	payload, err := base64.RawURLEncoding.DecodeString(signed[len(tokenPrefix):])
	if err != nil {
		return "", ErrBadToken
	}
	user, exp, ok := strings.Cut(string(payload), "|")
	sec, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || user == "" || t.now().Unix() >= sec {
		return "", ErrBadToken
	}
	return user, nil
}
