package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/aisle/aisle/auth"
	"github.com/aisle/aisle/internal/atomicfile"
	"github.com/aisle/aisle/server"
)

// DevCredentialsFile is written into a fresh data directory: the demo
// seller's key, a demo user's token and the admin key, mode 0600.
const DevCredentialsFile = "dev-credentials.json"

// keyCacheTTL is how long a verified API key is remembered; a revoke
// takes effect within it.
const keyCacheTTL = 30 * time.Second

// demoTokenTTL is the life of the demo user's token.
const demoTokenTTL = 30 * 24 * time.Hour

// DevCredentials is the JSON of dev-credentials.json.
type DevCredentials struct {
	SellerID     string `json:"seller_id"`
	SellerAPIKey string `json:"seller_api_key"`
	UserID       string `json:"user_id"`
	UserToken    string `json:"user_token"`
	AdminKey     string `json:"admin_key"`
}

// setupCredentials opens the key store of the data directory and the user
// token key (tokenKeyFile, or token.key in the data directory, generated
// when missing). A data directory without an admin key is new: it gets a
// demo seller, a demo user and an admin key, written to
// dev-credentials.json, whose path is printed; the secrets are not.
func setupCredentials(data, tokenKeyFile string, stderr io.Writer) (*auth.KeyStore, *auth.Tokens, error) {
	ks, err := auth.OpenKeyStore(data, keyCacheTTL)
	if err != nil {
		return nil, nil, err
	}
	if tokenKeyFile == "" {
		tokenKeyFile = filepath.Join(data, auth.TokenKeyFile)
	}
	tk, err := auth.LoadTokenKey(tokenKeyFile)
	if err != nil {
		return nil, nil, err
	}
	tokens, err := auth.NewTokens(tk)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", tokenKeyFile, err)
	}
	for _, r := range ks.Records() {
		if r.Role == auth.RoleAdmin && r.Revoked.IsZero() {
			return ks, tokens, nil
		}
	}
	dc := DevCredentials{SellerID: "sel-demo", UserID: "u-demo"}
	if dc.SellerAPIKey, _, err = ks.Create(auth.RoleSeller, dc.SellerID, "Demo seller"); err != nil {
		return nil, nil, err
	}
	if dc.AdminKey, _, err = ks.Create(auth.RoleAdmin, "", "admin"); err != nil {
		return nil, nil, err
	}
	if dc.UserToken, err = tokens.Sign(dc.UserID, demoTokenTTL); err != nil {
		return nil, nil, err
	}
	raw, _ := json.MarshalIndent(&dc, "", "  ")
	path := filepath.Join(data, DevCredentialsFile)
	if err := atomicfile.Write(path, append(raw, '\n')); err != nil {
		return nil, nil, fmt.Errorf("serve: writing %s: %w", path, err)
	}
	fmt.Fprintf(stderr, "aisle: new data directory: demo seller, demo user and admin key written to %s (mode 0600)\n", path)
	return ks, tokens, nil
}

// requireAdmin lets through only requests with "Authorization: Bearer
// <admin key>"; others get 401 (no or a bad key) or 403 (a seller's key).
func requireAdmin(keys server.KeyVerifier, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deny := func(code int, errCode, msg string) {
			if code == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="aisle-admin"`)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": errCode, "message": msg}})
		}
		cred := r.Header.Get("Authorization")
		key, ok := strings.CutPrefix(cred, "Bearer ")
		if !ok || keys == nil {
			deny(http.StatusUnauthorized, server.CodeUnauthorized, "the admin API needs the admin key: Authorization: Bearer <key>")
			return
		}
		p, err := keys.Verify(strings.TrimSpace(key))
		if err != nil {
			deny(http.StatusUnauthorized, server.CodeUnauthorized, "the admin key is not valid")
			return
		}
		if p.Role != auth.RoleAdmin {
			deny(http.StatusForbidden, server.CodeForbidden, "this key is not the admin key")
			return
		}
		h.ServeHTTP(w, r)
	})
}
