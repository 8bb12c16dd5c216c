package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"
)

func TestRelaySSE(t *testing.T) {
	tests := []struct {
		name   string
		queued []int         // values waiting on the channel
		close  bool          // the channel is closed after them
		failAt int           // the send (from 1) that fails; 0: none
		idle   time.Duration // how long the client stays after the queued values
		want   []string
	}{
		{"forwards until the channel closes", []int{1, 2, 3}, true, 0, 0, []string{"n:1", "n:2", "n:3"}},
		{"ends when the client leaves", []int{1}, false, 0, 0, []string{"n:1"}},
		{"ends at a failed send", []int{1, 2, 3}, false, 2, 0, []string{"n:1", "n:2"}},
		{"pings an idle stream", nil, false, 0, 2*sseKeepAlive + time.Second, []string{"ping", "ping"}},
		{"ends at a failed ping", nil, false, 1, 3 * sseKeepAlive, []string{"ping"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ch := make(chan int, len(tc.queued))
				for _, v := range tc.queued {
					ch <- v
				}
				if tc.close {
					close(ch)
				}
				var got []string
				send := func(event string, v any) error {
					if event == "" {
						got = append(got, "ping")
					} else {
						got = append(got, fmt.Sprintf("%s:%v", event, v))
					}
					if len(got) == tc.failAt {
						return errors.New("client gone")
					}
					if len(got) > len(tc.want)+1 {
						// A relay that misses its way out would send
						// forever; stop it so the test fails, not hangs.
						t.Errorf("sends beyond the expected ones: %v", got)
						return errors.New("too many sends")
					}
					return nil
				}
				ctx, leave := context.WithCancel(t.Context())
				done := make(chan error, 1)
				go func() {
					done <- relaySSE(ctx, send, ch, func(v int) (string, any) { return "n", v })
				}()
				time.Sleep(tc.idle)
				synctest.Wait()
				leave()
				if err := <-done; err != nil {
					t.Errorf("relaySSE: %v", err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("sends (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestServeSSEWire(t *testing.T) {
	tests := []struct {
		name    string
		sends   func(send sseSend) error
		want    string
		wantErr bool
	}{
		{"no events", func(sseSend) error { return nil }, "", false},
		{"an event and a ping", func(send sseSend) error {
			if err := send("alert", map[string]string{"id": "a1"}); err != nil {
				return err
			}
			return send("", nil)
		}, "event: alert\ndata: {\"id\":\"a1\"}\n\n: ping\n\n", false},
		{"data JSON cannot encode", func(send sseSend) error { return send("x", func() {}) }, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
			if err := serveSSE(c, tc.sends); (err != nil) != tc.wantErr {
				t.Errorf("serveSSE: error %v, want error %v", err, tc.wantErr)
			}
			if rec.Code != http.StatusOK || !rec.Flushed {
				t.Errorf("status %d, flushed %v", rec.Code, rec.Flushed)
			}
			for k, v := range map[string]string{"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if got := rec.Body.String(); got != tc.want {
				t.Errorf("body %q, want %q", got, tc.want)
			}
		})
	}
}
