package whsign_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/whsign"
)

// verify checks a delivery as the Standard Webhooks specification says.
func verify(secret string, h http.Header, body []byte) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || id == "" {
		return errors.New("missing webhook headers")
	}
	if d := time.Since(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("webhook-timestamp out of tolerance")
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.", id, ts)
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return errors.New("no valid webhook signature")
}

// TestReadmeVerify: the README's short Go check (the function above, which
// the README must show as it is) accepts what Sign makes, with either
// secret of a rotation, and refuses tampering and old deliveries.
func TestReadmeVerify(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	fn := s[strings.Index(s, "// verify checks"):strings.Index(s, "// TestReadmeVerify")]
	if !strings.Contains(string(readme), strings.TrimSpace(fn)) {
		t.Errorf("README.md does not show verify as readme_test.go has it: copy it")
	}
	s1, _ := whsign.NewSecret()
	s2, _ := whsign.NewSecret()
	body := []byte(`{"type":"shipment.tracking_event"}`)
	h, err := whsign.Sign([]string{s2, s1}, "VHJhY2tpbmdFdmVudDox", time.Now(), body)
	if err != nil {
		t.Fatal(err)
	}
	hdr := http.Header{}
	h.Set(hdr)
	for _, secret := range []string{s1, s2} {
		if err := verify(secret, hdr, body); err != nil {
			t.Errorf("a live secret: %v", err)
		}
	}
	other, _ := whsign.NewSecret()
	old, _ := whsign.Sign([]string{s1}, "VHJhY2tpbmdFdmVudDox", time.Now().Add(-6*time.Minute), body)
	oldHdr := http.Header{}
	old.Set(oldHdr)
	for name, err := range map[string]error{
		"another secret": verify(other, hdr, body),
		"tampered body":  verify(s1, hdr, append([]byte(nil), append(body, ' ')...)),
		"too old":        verify(s1, oldHdr, body),
		"no headers":     verify(s1, http.Header{}, body),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
