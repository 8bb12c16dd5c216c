package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// sseKeepAlive is how often relaySSE writes a comment on an idle event
// stream, so that proxies do not close it.
const sseKeepAlive = 15 * time.Second

// sseSend writes one server-sent event with v as its JSON data; an empty
// event writes a keep-alive comment instead.
type sseSend func(event string, v any) error

// startSSE writes the status and headers that open an event stream.
func startSSE(c echo.Context) {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/event-stream; charset=utf-8")
	h.Set(echo.HeaderCacheControl, "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c.Response().WriteHeader(http.StatusOK)
}

// writeEvent writes one event with its encoded JSON data and flushes it
// to the client.
func writeEvent(w *echo.Response, event string, data []byte) error {
	if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
		return err
	}
	w.Flush()
	return nil
}

// serveSSE opens the event stream and runs loop with its send function.
func serveSSE(c echo.Context, loop func(send sseSend) error) error {
	startSSE(c)
	c.Response().Flush()
	w := c.Response()
	return loop(func(event string, v any) error {
		if event == "" {
			if _, err := w.Write([]byte(": ping\n\n")); err != nil {
				return err
			}
			w.Flush()
			return nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return writeEvent(w, event, b)
	})
}

// relaySSE sends each value received on ch as the event and data that
// event makes of it, until ctx is done, ch is closed or a send fails (the
// client went away); every sseKeepAlive it sends a keep-alive comment. It
// returns nil in each case: the stream just ends.
func relaySSE[T any](ctx context.Context, send sseSend, ch <-chan T, event func(T) (string, any)) error {
	ping := time.NewTicker(sseKeepAlive)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ping.C:
			if err := send("", nil); err != nil {
				return nil
			}
		case v, ok := <-ch:
			if !ok {
				return nil
			}
			if err := send(event(v)); err != nil {
				return nil
			}
		}
	}
}
