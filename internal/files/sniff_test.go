package files_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/shipmentapp/shipmentapp/ent/file"
	"github.com/shipmentapp/shipmentapp/internal/files"
)

func TestDetect(t *testing.T) {
	cases := []struct {
		name, head, want string
	}{
		{"label.bin", "%PDF-1.4\n...", files.TypePDF},
		{"x.pdf", "\x89PNG\r\n\x1a\n\x00\x00", files.TypePNG},
		{"x.pdf", "\xff\xd8\xff\xe0\x00\x10JFIF", files.TypeJPEG},
		{"label.txt", "^XA^FO20,20^FDhello^FS^XZ", files.TypeZPL},
		{"label.txt", "\n  ~SD15^XA^XZ", files.TypeZPL},
		{"data.CSV", "a,b\n1,2\n", files.TypeCSV},
		{"data.txt", "a,b\n1,2\n", files.TypeText},
		{"notes.csv", "caf\xc3\xa9 cr\xc3\xa8me", files.TypeCSV},
		{"cut.txt", "caf\xc3", files.TypeText}, // a rune cut by the sniff window
		{"x.csv", "a,b\x01c", "application/octet-stream"},
		{"x.txt", "bad \xff\xfe utf8", "application/octet-stream"},
		{"x.pdf", "<html><body>hi</body></html>", "text/html"},
		{"x.pdf", "GIF89a....", "image/gif"},
		{"x.pdf", "\x00\x01\x02\x03", "application/octet-stream"},
		// Text whose bytes 34-35 are "LP" (the soak test's random labels hit
		// it) is text, not the font the standard library's signature says;
		// an EOT header (binary sizes, then "LP") is still refused.
		{"label.txt", "soak label ABCDEFGHIJKLMNOPQRSTUVWLPXYZ\n", files.TypeText},
		{"x.txt", "\x10\x02\x00\x00\xf0\x01\x00\x00\x02\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00LP\x00\x00", "application/vnd.ms-fontobject"},
	}
	for _, c := range cases {
		if got := files.Detect([]byte(c.head), c.name); got != c.want {
			t.Errorf("Detect(%q, %q) = %q, want %q", c.head, c.name, got, c.want)
		}
	}
}

func TestAllowed(t *testing.T) {
	for _, c := range []struct {
		kind file.Kind
		ct   string
		ok   bool
	}{
		{file.KindLABEL, files.TypePDF, true},
		{file.KindLABEL, files.TypeZPL, true},
		{file.KindLABEL, files.TypeJPEG, false},
		{file.KindPROOF_OF_DELIVERY, files.TypeJPEG, true},
		{file.KindPROOF_OF_DELIVERY, files.TypeCSV, false},
		{file.KindINVOICE, files.TypeCSV, true},
		{file.KindINVOICE, files.TypePNG, false},
		{file.KindCUSTOMS, files.TypeCSV, true},
		{file.KindOTHER, "text/html", false},
		{file.KindOTHER, "image/gif", false},
		{file.Kind("NOPE"), files.TypePDF, false},
	} {
		if got := files.Allowed(c.kind, c.ct); got != c.ok {
			t.Errorf("Allowed(%s, %s) = %v", c.kind, c.ct, got)
		}
	}
}

func TestSanitizeName(t *testing.T) {
	long := strings.Repeat("é", 200) + ".pdf"
	for _, c := range []struct{ in, want string }{
		{"label.pdf", "label.pdf"},
		{"../../etc/passwd", "passwd"},
		{`..\..\boot.ini`, "boot.ini"},
		{"a\x00b\x7fc\td.pdf", "abcd.pdf"},
		{"\u202egnp.exe", "gnp.exe"},
		{"  many   spaces  .pdf ", "many spaces .pdf"},
		{"x:y*z?.pdf", "x_y_z_.pdf"},
		{"semi;colon.pdf", "semi_colon.pdf"},
		{"...", "file"},
		{"", "file"},
		{"bad\xffutf8.pdf", "badutf8.pdf"},
		{long, strings.Repeat("é", 125) + ".pdf"},
	} {
		if got := files.SanitizeName(c.in); got != c.want {
			t.Errorf("SanitizeName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzSanitizeName: whatever a client sends, the stored name is non-empty
// valid UTF-8 of at most 255 bytes, without separators or control characters,
// and sanitising it again changes nothing.
func FuzzSanitizeName(f *testing.F) {
	for _, s := range []string{"label.pdf", "../../x", "a\x00b", "\u202e", strings.Repeat("ü", 300) + ".csv", "   ", `C:\x\y.pdf`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := files.SanitizeName(in)
		if out == "" || len(out) > 255 || !utf8.ValidString(out) {
			t.Fatalf("SanitizeName(%q) = %q", in, out)
		}
		for _, r := range out {
			if r == '/' || r == '\\' || r == '"' || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("SanitizeName(%q) = %q keeps %q", in, out, r)
			}
		}
		if again := files.SanitizeName(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
		if d := files.Disposition(out); !strings.HasPrefix(d, "attachment; filename") {
			t.Fatalf("Disposition(%q) = %q", out, d)
		}
	})
}
