package files

import (
	"bytes"
	"mime"
	"net/http"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shipmentapp/shipmentapp/ent/file"
)

// sniffLen is how many leading bytes decide a file's content type.
const sniffLen = 512

// The content types files may have.
const (
	TypePDF  = "application/pdf"
	TypePNG  = "image/png"
	TypeJPEG = "image/jpeg"
	TypeZPL  = "application/x-zpl"
	TypeText = "text/plain"
	TypeCSV  = "text/csv"

	typeEOT = "application/vnd.ms-fontobject"
)

// allowed are the content types each kind accepts.
var allowed = map[file.Kind][]string{
	file.KindLABEL:             {TypePDF, TypePNG, TypeZPL, TypeText},
	file.KindPROOF_OF_DELIVERY: {TypePDF, TypePNG, TypeJPEG},
	file.KindINVOICE:           {TypePDF, TypeCSV},
	file.KindCUSTOMS:           {TypePDF, TypePNG, TypeJPEG, TypeCSV},
	file.KindOTHER:             {TypePDF, TypePNG, TypeJPEG, TypeZPL, TypeText, TypeCSV},
}

// Allowed reports whether kind accepts contentType.
func Allowed(kind file.Kind, contentType string) bool {
	for _, t := range allowed[kind] {
		if t == contentType {
			return true
		}
	}
	return false
}

// AllowedTypes lists the content types kind accepts.
func AllowedTypes(kind file.Kind) []string { return append([]string(nil), allowed[kind]...) }

// Detect returns the content type of a file from its first bytes (up to
// sniffLen) and its sanitised name, which only tells CSV from plain text.
// The client's declared type is never consulted. Anything that is not one
// of the types above is returned as the standard library sniffs it (for
// example text/html), for the caller to refuse.
func Detect(head []byte, name string) string {
	mt, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	// The standard library takes any file whose bytes 34 and 35 are "LP"
	// for an Embedded OpenType font; a real one has binary sizes and flags
	// before them, so plain text there is text that happened to match.
	if mt == typeEOT && plainText(head) {
		mt = "text/plain"
	}
	switch mt {
	case TypePDF, TypePNG, TypeJPEG:
		return mt
	case "text/plain":
		if !plainText(head) {
			return "application/octet-stream"
		}
		if isZPL(head) {
			return TypeZPL
		}
		if strings.EqualFold(path.Ext(name), ".csv") {
			return TypeCSV
		}
		return TypeText
	}
	return mt
}

// plainText reports whether head is UTF-8 text without control characters
// other than tab, line breaks and form feed (a cut-off last rune is fine).
func plainText(head []byte) bool {
	for i := 0; i < len(head); {
		r, size := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && size <= 1 {
			if len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:]) {
				return true
			}
			return false
		}
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' && r != '\f' {
			return false
		}
		i += size
	}
	return true
}

// isZPL reports whether text is a Zebra label: it starts, after blank
// space, with a ZPL command (^XA opens a label; ~ commands control the printer).
func isZPL(text []byte) bool {
	t := bytes.TrimLeft(text, " \t\r\n")
	return bytes.HasPrefix(t, []byte("^XA")) || (bytes.HasPrefix(t, []byte("~")) && bytes.Contains(t, []byte("^XA")))
}

// maxNameBytes bounds a stored file name.
const maxNameBytes = 255

// SanitizeName turns a client's file name into one safe to store and to
// send back in a Content-Disposition header: the last element of any path
// (either separator), without control, format (bidirectional overrides) or
// reserved characters, trimmed, at most 255 bytes with its extension kept.
// An empty result becomes "file".
func SanitizeName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	space := false
	for _, r := range name {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			continue
		case unicode.IsSpace(r):
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		case strings.ContainsRune(`"<>:|?*;`, r):
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
		space = false
	}
	name = strings.Trim(b.String(), " .")
	if len(name) > maxNameBytes {
		ext := path.Ext(name)
		if len(ext) > 16 {
			ext = ""
		}
		stem := name[:maxNameBytes-len(ext)]
		for !utf8.ValidString(stem) {
			stem = stem[:len(stem)-1]
		}
		name = strings.TrimRight(stem, " .") + ext
	}
	if name == "" {
		return "file"
	}
	return name
}
