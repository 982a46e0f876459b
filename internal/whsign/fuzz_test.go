package whsign_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/whsign"
)

// FuzzVerify feeds Verify arbitrary headers, bodies and secrets. It must never
// panic, and whatever it accepts must carry the signature Sign makes for that
// id, timestamp and body: no forgery passes.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1700000000, 0)
	good, err := whsign.Sign([]string{vecSecret}, "msg_1", now, []byte(`{"a":1}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(vecSecret, "msg_1", "1700000000", good.Signature, []byte(`{"a":1}`))
	f.Add(vecSecret, vecID, "1614265330", vecSig, []byte(vecBody))
	f.Add(vecSecret, "msg_1", "1700000000", "v1,"+strings.Repeat("A", 43)+"= "+good.Signature, []byte(`{"a":1}`))
	f.Add(vecSecret, "msg 1", "+1700000000", "v1,,,, v1a,x v2,", []byte{})
	f.Add("whsec_", "", "", "", []byte(nil))
	f.Add("whsec_!!!", "msg_1", "-9223372036854775808", "v1", []byte("x"))
	f.Add(vecSecret, "msg_1", "9223372036854775807", "v1,"+strings.Repeat("/", 1000), []byte("{}"))
	f.Fuzz(func(t *testing.T, secret, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", ts)
		h.Set("webhook-signature", sig)
		if err := whsign.Verify(secret, h, body, now, time.Hour); err != nil {
			return
		}
		// Accepted: the header must hold what the sender would have signed.
		if _, err := whsign.ParseSecret(secret); err != nil {
			t.Fatalf("Verify accepted a secret ParseSecret refuses: %v", err)
		}
		sec, err := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
		if err != nil {
			t.Fatalf("Verify accepted timestamp %q: %v", h.Get("webhook-timestamp"), err)
		}
		want, err := whsign.Sign([]string{secret}, h.Get("webhook-id"), time.Unix(sec, 0), body)
		if err != nil {
			// An id Sign refuses (a space) can still be verified; nothing to compare.
			return
		}
		if !strings.Contains(" "+strings.Join(strings.Fields(h.Get("webhook-signature")), " ")+" ", " "+want.Signature+" ") {
			t.Fatalf("Verify accepted %q, which does not contain %q", h.Get("webhook-signature"), want.Signature)
		}
	})
}
