// Command receiver takes shipmentapp's webhook deliveries with nothing but
// Go's standard library: it verifies each one as the Standard Webhooks
// specification says, answers at once and handles the event elsewhere.
//
//	WEBHOOK_SECRET=whsec_... ADDR=:8080 go run .
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	tolerance = 5 * time.Minute // how far webhook-timestamp may be from our clock
	maxBody   = 1 << 20         // deliveries are small; refuse anything over 1 MiB
)

// verify checks one delivery: the three headers are there, the timestamp is
// recent, and one v1 signature is the HMAC-SHA256 of "id.timestamp.body".
func verify(key []byte, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook headers")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("webhook-timestamp is not Unix seconds")
	}
	if age := now.Sub(time.Unix(sec, 0)); age > tolerance || age < -tolerance {
		return errors.New("webhook-timestamp too old or too new")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(sec, 10) + "."))
	mac.Write(body)
	want := []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	// Several signatures while the secret is rotated: any v1 one may match.
	for _, entry := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(entry, ",")
		if ok && version == "v1" && subtle.ConstantTimeCompare([]byte(sig), want) == 1 {
			return nil
		}
	}
	return errors.New("no matching signature")
}

// event is one verified delivery, handed to the worker.
type event struct {
	ID   string
	Body []byte
}

// receiver is the HTTP handler for deliveries.
type receiver struct {
	key    []byte
	events chan<- event

	mu   sync.Mutex
	seen map[string]bool // webhook-ids handled; in production, a unique key in your database
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	// Verify the raw bytes: a body decoded and encoded again no longer matches.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if err := verify(rc.key, r.Header, body, time.Now()); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// Retries carry the same webhook-id: handle each message once.
	id := r.Header.Get("webhook-id")
	rc.mu.Lock()
	dup := rc.seen[id]
	rc.seen[id] = true
	rc.mu.Unlock()
	if dup {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	select {
	case rc.events <- event{ID: id, Body: body}:
		w.WriteHeader(http.StatusNoContent) // answer at once; the worker does the work
	default:
		rc.mu.Lock()
		delete(rc.seen, id) // not handled: let the retry through
		rc.mu.Unlock()
		http.Error(w, "busy, retry later", http.StatusServiceUnavailable)
	}
}

// work handles verified events one at a time.
func work(events <-chan event) {
	for ev := range events {
		var e struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(ev.Body, &e); err != nil {
			log.Printf("event %s: %v", ev.ID, err)
			continue
		}
		fmt.Printf("event %s %s\n", ev.ID, e.Type)
	}
}

func main() {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(os.Getenv("WEBHOOK_SECRET"), "whsec_"))
	if err != nil || len(key) == 0 {
		log.Fatal("WEBHOOK_SECRET must be the whsec_... secret of your webhook endpoint")
	}
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = ":8080"
	}
	events := make(chan event, 100)
	go work(events)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %d\n", ln.Addr().(*net.TCPAddr).Port)
	srv := &http.Server{
		Handler:           &receiver{key: key, events: events, seen: map[string]bool{}},
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
