package secretbox_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/secretbox"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, secretbox.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func newBox(t *testing.T, keys ...[]byte) *secretbox.Box {
	t.Helper()
	b, err := secretbox.New(keys)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

var aad = []byte("webhook_endpoint:42:secret")

func TestRoundTrip(t *testing.T) {
	b := newBox(t, newKey(t))
	for _, plain := range [][]byte{nil, {}, []byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), bytes.Repeat([]byte{0xff}, 4096)} {
		sealed, err := b.Seal(plain, aad)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		if len(plain) > 8 && strings.Contains(sealed, string(plain)) {
			t.Fatalf("sealed value %q contains the plain text", sealed)
		}
		again, err := b.Seal(plain, aad)
		if err != nil {
			t.Fatal(err)
		}
		if again == sealed {
			t.Errorf("two seals of the same value are equal (nonce reused?)")
		}
		got, err := b.Open(sealed, aad)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("Open = %q, want %q", got, plain)
		}
		if b.NeedsRotation(sealed) {
			t.Errorf("NeedsRotation of a value sealed with the first key")
		}
	}
}

func TestSealFormat(t *testing.T) {
	key, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	b := newBox(t, key)
	sealed, err := b.Seal([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(sealed, ":")
	if len(parts) != 3 || parts[0] != "v1" {
		t.Fatalf("sealed = %q, want v1:<id>:<payload>", sealed)
	}
	// sha256 of the bytes 0..31 is 630dcd29...
	if parts[1] != "630dcd29" {
		t.Errorf("key id = %q, want 630dcd29", parts[1])
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	if len(raw) != 12+1+16 {
		t.Errorf("payload is %d bytes, want nonce 12 + 1 + tag 16", len(raw))
	}
}

func TestOpenRefuses(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	b := newBox(t, k1)
	sealed, err := b.Seal([]byte("whsec_secret"), aad)
	if err != nil {
		t.Fatal(err)
	}
	other, err := newBox(t, k2).Seal([]byte("whsec_secret"), aad)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(sealed, ":")
	raw, _ := base64.StdEncoding.DecodeString(parts[2])
	flip := func(i int) string {
		r := bytes.Clone(raw)
		r[i] ^= 1
		return parts[0] + ":" + parts[1] + ":" + base64.StdEncoding.EncodeToString(r)
	}
	otherID := strings.Split(other, ":")[1]
	tests := []struct {
		name   string
		sealed string
		aad    []byte
		want   error
	}{
		{"wrong aad", sealed, []byte("webhook_endpoint:43:secret"), secretbox.ErrCorrupt},
		{"no aad", sealed, nil, secretbox.ErrCorrupt},
		{"nonce flipped", flip(0), aad, secretbox.ErrCorrupt},
		{"ciphertext flipped", flip(13), aad, secretbox.ErrCorrupt},
		{"tag flipped", flip(len(raw) - 1), aad, secretbox.ErrCorrupt},
		{"truncated", parts[0] + ":" + parts[1] + ":" + base64.StdEncoding.EncodeToString(raw[:27]), aad, secretbox.ErrCorrupt},
		{"unknown key", other, aad, secretbox.ErrUnknownKey},
		{"key id swapped", parts[0] + ":" + otherID + ":" + parts[2], aad, secretbox.ErrUnknownKey},
		{"v2", "v2:" + parts[1] + ":" + parts[2], aad, secretbox.ErrCorrupt},
		{"no version", parts[1] + ":" + parts[2], aad, secretbox.ErrCorrupt},
		{"empty", "", aad, secretbox.ErrCorrupt},
		{"plain text", "whsec_secret", aad, secretbox.ErrCorrupt},
		{"short key id", "v1:abc:" + parts[2], aad, secretbox.ErrCorrupt},
		{"upper-case key id", "v1:" + strings.ToUpper(parts[1]) + ":" + parts[2], aad, secretbox.ErrCorrupt},
		{"bad base64", parts[0] + ":" + parts[1] + ":" + parts[2] + "!", aad, secretbox.ErrCorrupt},
		{"empty payload", parts[0] + ":" + parts[1] + ":", aad, secretbox.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := b.Open(tt.sealed, tt.aad)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %q, %v; want %v", got, err, tt.want)
			}
			if got != nil {
				t.Errorf("Open returned %q with an error", got)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	oldKey, newKeyB := newKey(t), newKey(t)
	before := newBox(t, oldKey)
	sealedOld, err := before.Seal([]byte("whsec_old"), aad)
	if err != nil {
		t.Fatal(err)
	}
	after := newBox(t, newKeyB, oldKey)
	if !after.NeedsRotation(sealedOld) {
		t.Errorf("NeedsRotation of a value under the old key = false")
	}
	plain, err := after.Open(sealedOld, aad)
	if err != nil {
		t.Fatalf("Open under the old key, now second: %v", err)
	}
	resealed, err := after.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	if after.NeedsRotation(resealed) {
		t.Errorf("NeedsRotation after re-sealing = true")
	}
	if _, err := before.Open(resealed, aad); !errors.Is(err, secretbox.ErrUnknownKey) {
		t.Errorf("the old ring opens a value under the new key: %v", err)
	}
	retired := newBox(t, newKeyB)
	if _, err := retired.Open(sealedOld, aad); !errors.Is(err, secretbox.ErrUnknownKey) {
		t.Errorf("Open after the old key is retired = %v, want ErrUnknownKey", err)
	}
	for _, bad := range []string{"", "garbage", "v1:zz:AAAA"} {
		if !after.NeedsRotation(bad) {
			t.Errorf("NeedsRotation(%q) = false, want true (so the rotation job's Open reports it)", bad)
		}
	}
}

func TestNew(t *testing.T) {
	k := newKey(t)
	tests := []struct {
		name string
		keys [][]byte
		ok   bool
	}{
		{"one key", [][]byte{k}, true},
		{"two keys", [][]byte{k, newKey(t)}, true},
		{"none", nil, false},
		{"short", [][]byte{k[:16]}, false},
		{"long", [][]byte{append(bytes.Clone(k), 0)}, false},
		{"second short", [][]byte{k, k[:31]}, false},
		{"same key twice", [][]byte{k, bytes.Clone(k)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := secretbox.New(tt.keys)
			if (err == nil) != tt.ok {
				t.Fatalf("New: %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, secretbox.ErrKeys) {
				t.Errorf("error %v is not ErrKeys", err)
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	hex1, b641 := hex.EncodeToString(k1), base64.StdEncoding.EncodeToString(k2)
	tests := []struct {
		name    string
		in      string
		want    [][]byte // nil: an error
		wantPos string   // the position an error names
		secrets []string // key material the error must not contain
	}{
		{"hex", hex1, [][]byte{k1}, "", nil},
		{"upper-case hex", strings.ToUpper(hex1), [][]byte{k1}, "", nil},
		{"base64", b641, [][]byte{k2}, "", nil},
		{"both with spaces", " " + hex1 + " , " + b641 + " ", [][]byte{k1, k2}, "", nil},
		{"empty", "", nil, "no keys", nil},
		{"blank", "  ", nil, "no keys", nil},
		{"empty entry", hex1 + ",," + b641, nil, "key 2 of 3", []string{hex1, b641}},
		{"trailing comma", hex1 + ",", nil, "key 2 of 2", []string{hex1}},
		{"short hex", hex1[:62], nil, "key 1 of 1", []string{hex1[:62]}},
		{"bad hex", "g" + hex1[1:], nil, "key 1 of 1", []string{hex1[1:], "'g'"}},
		{"second bad hex", hex1 + "," + hex1[:63] + "z", nil, "key 2 of 2", []string{hex1, hex1[:63], "'z'"}},
		{"short base64", base64.StdEncoding.EncodeToString(k2[:31]), nil, "key 1 of 1", []string{base64.StdEncoding.EncodeToString(k2[:31])[:20]}},
		{"base64 of 33 bytes", base64.StdEncoding.EncodeToString(append(bytes.Clone(k2), 1)), nil, "key 1 of 1", []string{b641[:40]}},
		{"url base64", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), nil, "key 1 of 1", []string{"-"}},
		{"a passphrase", "correct horse battery staple", nil, "key 1 of 1", []string{"horse"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := secretbox.ParseKeys(tt.in)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("ParseKeys = %d keys, want an error", len(got))
				}
				if !errors.Is(err, secretbox.ErrKeys) {
					t.Errorf("error %v is not ErrKeys", err)
				}
				if !strings.Contains(err.Error(), tt.wantPos) {
					t.Errorf("error %q does not name %q", err, tt.wantPos)
				}
				for _, s := range tt.secrets {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q contains key material %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKeys: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ParseKeys = %d keys, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], tt.want[i]) {
					t.Errorf("key %d differs", i+1)
				}
			}
		})
	}
}
