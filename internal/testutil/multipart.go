package testutil

import (
	"bytes"
	"io"
	"mime/multipart"
	"testing"
)

// MultipartFile is the body and Content-Type of a form upload with data as the
// file fileName in field, as a client of POST /predict sends it.
func MultipartFile(t testing.TB, field, fileName string, data []byte) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile(field, fileName)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}
