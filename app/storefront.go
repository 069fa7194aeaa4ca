package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// demoUser returns the demo user of the data directory's
// dev-credentials.json, for the server (Services.DemoUserID), so the
// storefront page at / signs in as that user when opened from this machine
// (POST /api/v1/session/demo answers loopback clients only). A data
// directory without the file, as a production one whose credentials were
// moved away, has no demo user ("", "").
func demoUser(data string, stderr io.Writer) (id, token string) {
	path := filepath.Join(data, DevCredentialsFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", ""
	}
	var dc DevCredentials
	if err == nil {
		err = json.Unmarshal(raw, &dc)
	}
	if err != nil {
		fmt.Fprintf(stderr, "aisle: storefront: no demo user: %s: %v\n", path, err)
		return "", ""
	}
	return dc.UserID, dc.UserToken
}
