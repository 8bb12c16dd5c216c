package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tmc/langchaingo/llms"
)

// maxErrorBody bounds how much of an error response is read for its message.
const maxErrorBody = 4 << 10

// httpClient returns a copy of base (or a new client with timeout) whose
// transport turns HTTP errors into *llms.Error values.
func httpClient(base *http.Client, timeout time.Duration) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	} else {
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		c.Timeout = timeout
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	c.Transport = statusTransport{base: rt}
	return &c
}

// statusTransport maps error statuses and transport failures to *llms.Error.
// A failure caused by the request's own context is passed through, so
// callers still see context.Canceled or context.DeadlineExceeded.
type statusTransport struct {
	base http.RoundTripper
}

func (t statusTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		if req.Context().Err() != nil {
			return nil, err
		}
		// No Cause: langchaingo's OpenAI client replaces any error wrapping a
		// net.Error with a bare string, which would lose the code.
		return nil, &llms.Error{Code: llms.ErrCodeProviderUnavailable, Provider: req.URL.Host,
			Message: "transport: " + err.Error()}
	}
	if resp.StatusCode < http.StatusBadRequest {
		return resp, nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody)) // best effort: the status decides
	resp.Body.Close()
	return nil, statusError(req.URL.Host, resp.StatusCode, body)
}

func statusError(host string, status int, body []byte) *llms.Error {
	code := llms.ErrCodeInvalidRequest
	switch {
	case status >= 500, status == http.StatusRequestTimeout:
		code = llms.ErrCodeProviderUnavailable
	case status == http.StatusTooManyRequests:
		code = llms.ErrCodeRateLimit
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		code = llms.ErrCodeAuthentication
	case status == http.StatusNotFound:
		code = llms.ErrCodeResourceNotFound
	}
	msg := fmt.Sprintf("HTTP %d", status)
	if detail := errorDetail(body); detail != "" {
		msg += ": " + detail
	}
	return &llms.Error{Code: code, Provider: host, Message: msg, Details: map[string]any{"status": status}}
}

// errorDetail extracts the message of an OpenAI ({"error":{"message":…}})
// or Ollama ({"error":"…"}) error body, or a short prefix of the raw body.
func errorDetail(body []byte) string {
	var oa struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &oa) == nil && len(oa.Error) > 0 {
		var s string
		if json.Unmarshal(oa.Error, &s) == nil {
			return clip(s)
		}
		var obj struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(oa.Error, &obj) == nil && obj.Message != "" {
			return clip(obj.Message)
		}
	}
	return clip(strings.TrimSpace(string(body)))
}

func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// doer adapts the client for langchaingo's OpenAI client: it strips the
// *url.Error that net/http puts around a transport error, which the OpenAI
// client would otherwise replace with a bare string.
type doer struct{ c *http.Client }

func (d doer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.c.Do(req)
	if err != nil {
		if le, ok := errors.AsType[*llms.Error](err); ok {
			return nil, le
		}
		return nil, err
	}
	return resp, nil
}
