package whsign_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/whsign"
)

// The specification's test vector (libraries/javascript's tests and the
// other libraries'), checked against standardwebhooks@1.3.0's sign.
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = 1614265330
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func mustSecret(t testing.TB) string {
	t.Helper()
	s, err := whsign.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func header(h whsign.Headers) http.Header {
	dst := http.Header{}
	h.Set(dst)
	return dst
}

func TestSpecVector(t *testing.T) {
	ts := time.Unix(vecTS, 0)
	for _, secret := range []string{vecSecret, strings.TrimPrefix(vecSecret, whsign.SecretPrefix)} {
		h, err := whsign.Sign([]string{secret}, vecID, ts, []byte(vecBody))
		if err != nil {
			t.Fatalf("Sign: %v", err)
		}
		if h.Signature != vecSig {
			t.Errorf("Signature = %q, want %q", h.Signature, vecSig)
		}
	}
	hdr := http.Header{}
	hdr.Set("webhook-id", vecID)
	hdr.Set("webhook-timestamp", strconv.Itoa(vecTS))
	hdr.Set("webhook-signature", vecSig)
	if err := whsign.Verify(vecSecret, hdr, []byte(vecBody), ts.Add(time.Minute), 0); err != nil {
		t.Errorf("Verify of the spec's vector: %v", err)
	}
}

func TestNewSecret(t *testing.T) {
	a, b := mustSecret(t), mustSecret(t)
	if a == b {
		t.Fatal("two secrets are equal")
	}
	if !strings.HasPrefix(a, whsign.SecretPrefix) {
		t.Errorf("secret %q lacks the prefix", a)
	}
	key, err := whsign.ParseSecret(a)
	if err != nil {
		t.Fatalf("ParseSecret(NewSecret()): %v", err)
	}
	if len(key) != 32 {
		t.Errorf("key is %d bytes, want 32", len(key))
	}
}

func TestParseSecret(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	tests := []struct {
		name    string
		secret  string
		wantLen int // 0: an error
	}{
		{"spec vector", vecSecret, 24},
		{"no prefix", strings.TrimPrefix(vecSecret, "whsec_"), 24},
		{"32 bytes", "whsec_" + b64(32), 32},
		{"64 bytes", "whsec_" + b64(64), 64},
		{"23 bytes", "whsec_" + b64(23), 0},
		{"65 bytes", "whsec_" + b64(65), 0},
		{"empty", "", 0},
		{"prefix only", "whsec_", 0},
		{"url base64", "whsec_" + strings.Repeat("-_", 16), 0},
		{"not base64", "whsec_this is not base64 at all!!", 0},
		{"raw base64 no padding", "whsec_" + strings.TrimRight(b64(32), "="), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := whsign.ParseSecret(tt.secret)
			if tt.wantLen == 0 {
				if err == nil {
					t.Fatalf("ParseSecret = %d bytes, want an error", len(key))
				}
				if !errors.Is(err, whsign.ErrSecret) {
					t.Errorf("error %v is not ErrSecret", err)
				}
				if body := strings.TrimPrefix(tt.secret, "whsec_"); len(body) > 3 && strings.Contains(err.Error(), body) {
					t.Errorf("error %q echoes the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSecret: %v", err)
			}
			if len(key) != tt.wantLen {
				t.Errorf("key is %d bytes, want %d", len(key), tt.wantLen)
			}
		})
	}
}

func TestSignRefuses(t *testing.T) {
	s := mustSecret(t)
	tests := []struct {
		name    string
		secrets []string
		id      string
		want    error
	}{
		{"no secrets", nil, "msg_1", whsign.ErrSecret},
		{"bad second secret", []string{s, "whsec_short"}, "msg_1", whsign.ErrSecret},
		{"empty id", []string{s}, "", whsign.ErrID},
		{"space in id", []string{s}, "msg 1", whsign.ErrID},
		{"newline in id", []string{s}, "msg_1\n", whsign.ErrID},
		{"DEL in id", []string{s}, "msg_\x7f", whsign.ErrID},
		{"non-ASCII id", []string{s}, "msg_é", whsign.ErrID},
		{"id of 257 bytes", []string{s}, strings.Repeat("a", 257), whsign.ErrID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := whsign.Sign(tt.secrets, tt.id, time.Now(), []byte("{}"))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Sign = %+v, %v; want %v", h, err, tt.want)
			}
		})
	}
	if _, err := whsign.Sign([]string{s}, strings.Repeat("a", 256)+"", time.Now(), nil); err != nil {
		t.Errorf("id of 256 bytes refused: %v", err)
	}
	if _, err := whsign.Sign([]string{s}, "msg.with.dots:and-punctuation_~", time.Now(), nil); err != nil {
		t.Errorf("id with punctuation refused: %v", err)
	}
}

func TestHeadersSet(t *testing.T) {
	h := whsign.Headers{ID: "msg_1", Timestamp: time.Unix(1700000000, 999), Signature: "v1,abc v1,def"}
	dst := http.Header{"Webhook-Id": {"old"}}
	h.Set(dst)
	want := map[string]string{"webhook-id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": "v1,abc v1,def"}
	for k, v := range want {
		if got := dst.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want [%q]", k, got, v)
		}
	}
}

func TestVerify(t *testing.T) {
	newest, oldest, other := mustSecret(t), mustSecret(t), mustSecret(t)
	now := time.Unix(1700000000, 0)
	body := []byte(`{"type":"shipment.delivered","data":{"id":"U2hpcG1lbnQ6NDI="}}`)
	signed := func(t *testing.T, secrets []string, ts time.Time) http.Header {
		t.Helper()
		h, err := whsign.Sign(secrets, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", ts, body)
		if err != nil {
			t.Fatal(err)
		}
		return header(h)
	}
	edit := func(h http.Header, k, v string) http.Header {
		h = h.Clone()
		if v == "" {
			h.Del(k)
		} else {
			h.Set(k, v)
		}
		return h
	}
	both := signed(t, []string{newest, oldest}, now)
	one := signed(t, []string{newest}, now)
	sig := one.Get("webhook-signature")
	tests := []struct {
		name      string
		secret    string
		hdr       http.Header
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error // nil: verifies
	}{
		{"round trip", newest, one, body, now, 0, nil},
		{"rotation: newest", newest, both, body, now, 0, nil},
		{"rotation: oldest", oldest, both, body, now, 0, nil},
		{"rotation: neither", other, both, body, now, 0, whsign.ErrSignature},
		{"wrong secret", oldest, one, body, now, 0, whsign.ErrSignature},
		{"tampered body", newest, one, append(append([]byte{}, body...), ' '), now, 0, whsign.ErrSignature},
		{"empty body", newest, one, nil, now, 0, whsign.ErrSignature},
		{"tampered id", newest, edit(one, "webhook-id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4X"), body, now, 0, whsign.ErrSignature},
		{"tampered timestamp", newest, edit(one, "webhook-timestamp", "1700000001"), body, now, 0, whsign.ErrSignature},
		{"tampered signature", newest, edit(one, "webhook-signature", sig[:10]+"A"+sig[11:]), body, now, 0, whsign.ErrSignature},
		{"v2 entry only", newest, edit(one, "webhook-signature", "v2,"+sig[3:]), body, now, 0, whsign.ErrSignature},
		{"v1a entry only", newest, edit(one, "webhook-signature", "v1a,"+sig[3:]), body, now, 0, whsign.ErrSignature},
		{"unversioned", newest, edit(one, "webhook-signature", sig[3:]), body, now, 0, whsign.ErrSignature},
		{"junk then valid", newest, edit(one, "webhook-signature", "v1,@@@ v1a,xyz "+sig), body, now, 0, nil},
		{"extra spaces", newest, edit(one, "webhook-signature", "  "+sig+"   v1,AAAA"), body, now, 0, nil},
		{"missing id", newest, edit(one, "webhook-id", ""), body, now, 0, whsign.ErrMissingHeaders},
		{"missing timestamp", newest, edit(one, "webhook-timestamp", ""), body, now, 0, whsign.ErrMissingHeaders},
		{"missing signature", newest, edit(one, "webhook-signature", ""), body, now, 0, whsign.ErrMissingHeaders},
		{"timestamp not a number", newest, edit(one, "webhook-timestamp", "17e8"), body, now, 0, whsign.ErrTimestamp},
		{"timestamp overflows", newest, edit(one, "webhook-timestamp", "99999999999999999999"), body, now, 0, whsign.ErrTimestamp},
		{"timestamp far future", newest, edit(one, "webhook-timestamp", "9223372036854775807"), body, now, 0, whsign.ErrTimestamp},
		{"timestamp far past", newest, edit(one, "webhook-timestamp", "-9223372036854775808"), body, now, 0, whsign.ErrTimestamp},
		{"5 min old", newest, one, body, now.Add(5 * time.Minute), 0, nil},
		{"5 min 1 s old", newest, one, body, now.Add(5*time.Minute + time.Second), 0, whsign.ErrTimestamp},
		{"5 min ahead", newest, one, body, now.Add(-5 * time.Minute), 0, nil},
		{"5 min 1 s ahead", newest, one, body, now.Add(-5*time.Minute - time.Second), 0, whsign.ErrTimestamp},
		{"custom tolerance: inside", newest, one, body, now.Add(30 * time.Second), 30 * time.Second, nil},
		{"custom tolerance: old", newest, one, body, now.Add(31 * time.Second), 30 * time.Second, whsign.ErrTimestamp},
		{"custom tolerance: ahead", newest, one, body, now.Add(-31 * time.Second), 30 * time.Second, whsign.ErrTimestamp},
		{"bad secret", "whsec_", one, body, now, 0, whsign.ErrSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := whsign.Verify(tt.secret, tt.hdr, tt.body, tt.now, tt.tolerance)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignTruncatesToSeconds(t *testing.T) {
	s := mustSecret(t)
	ts := time.Unix(1700000000, 900_000_000)
	h, err := whsign.Sign([]string{s}, "msg_1", ts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Timestamp.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("Timestamp = %v, want whole seconds", h.Timestamp)
	}
	if err := whsign.Verify(s, header(h), nil, ts, time.Second); err != nil {
		t.Errorf("Verify: %v", err)
	}
}
