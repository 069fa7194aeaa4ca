package app

import (
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aisle/aisle/server"
)

// reindexer is the state of the online reindex: requested through the admin
// listener, carried out by the feed loop.
type reindexer struct {
	req chan struct{}

	mu sync.Mutex
	st reindexStatus
}

type reindexStatus struct {
	State      string    `json:"state"` // idle, running, done, failed
	Generation int       `json:"generation"`
	Products   int       `json:"products,omitempty"`
	Started    time.Time `json:"started,omitzero"`
	Finished   time.Time `json:"finished,omitzero"`
	Error      string    `json:"error,omitempty"`
}

func newReindexer() *reindexer {
	return &reindexer{req: make(chan struct{}, 1), st: reindexStatus{State: "idle"}}
}

// request asks for a reindex; false when one is already asked for or
// running.
func (r *reindexer) request() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.st.State == "running" {
		return false
	}
	select {
	case r.req <- struct{}{}:
		r.st = reindexStatus{State: "running", Generation: r.st.Generation, Started: time.Now().UTC()}
		return true
	default:
		return false
	}
}

func (r *reindexer) set(f func(*reindexStatus)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.st)
}

func (r *reindexer) status() reindexStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

// adminHandler serves the admin API on its own listener, which defaults to
// loopback so that only the machine's own operators reach it:
//
//	POST /admin/reindex  start a reindex: 202, or 409 when one is running
//	GET  /admin/reindex  its status
//
// and the routes other parts add (routes, e.g. recsAdmin).
func adminHandler(rx *reindexer, routes ...func(*http.ServeMux)) http.Handler {
	mux := http.NewServeMux()
	for _, add := range routes {
		add(mux)
	}
	write := func(w http.ResponseWriter, code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("POST /admin/reindex", func(w http.ResponseWriter, _ *http.Request) {
		if !rx.request() {
			write(w, http.StatusConflict, map[string]any{"error": map[string]string{"code": "reindex_running", "message": "a reindex is already running"}})
			return
		}
		write(w, http.StatusAccepted, map[string]any{"status_url": "/admin/reindex", "status": rx.status()})
	})
	mux.HandleFunc("GET /admin/reindex", func(w http.ResponseWriter, _ *http.Request) {
		write(w, http.StatusOK, rx.status())
	})
	return mux
}

// listenAdmin listens on addr for the admin API, served to requests with
// the admin key of keys by the returned server's Serve until its
// Shutdown.
func listenAdmin(addr string, rx *reindexer, keys server.KeyVerifier, routes ...func(*http.ServeMux)) (*http.Server, net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	return &http.Server{Handler: requireAdmin(keys, adminHandler(rx, routes...)), ReadHeaderTimeout: 5 * time.Second}, ln, nil
}
