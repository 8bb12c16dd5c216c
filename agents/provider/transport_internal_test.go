package provider

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tmc/langchaingo/llms"
)

func TestStatusError(t *testing.T) {
	tests := []struct {
		status int
		body   string
		code   llms.ErrorCode
		msg    string
	}{
		{status: 500, body: `{"error":{"message":"engine overloaded","type":"server_error"}}`, code: llms.ErrCodeProviderUnavailable, msg: "HTTP 500: engine overloaded"},
		{status: 404, body: `{"error":"model \"qwen\" not found, try pulling it first"}`, code: llms.ErrCodeResourceNotFound, msg: `HTTP 404: model "qwen" not found, try pulling it first`},
		{status: 408, body: ``, code: llms.ErrCodeProviderUnavailable, msg: "HTTP 408"},
		{status: 429, body: `<html>slow down</html>`, code: llms.ErrCodeRateLimit, msg: "HTTP 429: <html>slow down</html>"},
		{status: 403, body: `{}`, code: llms.ErrCodeAuthentication, msg: "HTTP 403: {}"},
		{status: 422, body: strings.Repeat("错", 300), code: llms.ErrCodeInvalidRequest, msg: "HTTP 422: " + strings.Repeat("错", 66) + "…"},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			e := statusError("h", tc.status, []byte(tc.body))
			if e.Code != tc.code || e.Message != tc.msg || e.Details["status"] != tc.status {
				t.Errorf("got code %s message %q details %v; want %s %q", e.Code, e.Message, e.Details, tc.code, tc.msg)
			}
		})
	}
}

// FuzzErrorDetail: any error body yields a short, valid UTF-8 detail.
func FuzzErrorDetail(f *testing.F) {
	for _, s := range []string{`{"error":{"message":"x"}}`, `{"error":"y"}`, `{"error":null}`, `{"error":[1]}`, "\xff\xfe", strings.Repeat("胸", 100)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d := errorDetail(body)
		if len(d) > 200+len("…") {
			t.Fatalf("detail is %d bytes", len(d))
		}
		if utf8.Valid(body) && !utf8.ValidString(d) {
			t.Fatalf("valid body %q gave invalid detail %q", body, d)
		}
	})
}
