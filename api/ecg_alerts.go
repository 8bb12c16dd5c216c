package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/inference/ecg"
	"github.com/yizhu-health/yizhu/store"
)

// alertKind is the record kind of a persisted alert.
const alertKind = "alert"

// ECGAlert is a critical value (危急值) as stored and fanned out: the ECG
// core's alert with its evidence, the times of its stretch in seconds and,
// once acknowledged, who acknowledged it.
type ECGAlert struct {
	ecg.Alert
	RateHz float64 `json:"rate_hz,omitempty"`
	StartS float64 `json:"start_s"`
	EndS   float64 `json:"end_s"`
}

// AlertEvent is one message of the alert fan-out: a new alert ("alert")
// or an acknowledgement ("ack").
type AlertEvent struct {
	Type  string   `json:"type"`
	Alert ECGAlert `json:"alert"`
}

// AlertsResponse lists alerts, newest first.
type AlertsResponse struct {
	Alerts []ECGAlert `json:"alerts"`
}

// AckAlertRequest is the optional body of an acknowledgement.
type AckAlertRequest struct {
	// Note says what was done (called the chest-pain team, …); audited.
	Note string `json:"note,omitempty" validate:"max=500"`
}

// AlertHubConfig configures the alert hub.
type AlertHubConfig struct {
	Store  store.Store // required
	Logger *slog.Logger
	Now    func() time.Time
	// Webhooks are http(s) URLs that receive every new alert as a JSON
	// POST with the headers Idempotency-Key and X-Yizhu-Alert-ID set to the
	// alert ID, so a receiver can drop repeats.
	Webhooks []string
	// HTTPClient posts to the webhooks (default: a client with a 10 s
	// timeout).
	HTTPClient *http.Client
	// WebhookAttempts bounds the deliveries of one alert to one webhook
	// (default 8); WebhookBackoff is the first retry delay (default
	// 500 ms), doubled after every failure up to one minute.
	WebhookAttempts int
	WebhookBackoff  time.Duration
	// QueueSize bounds the webhook deliveries waiting (default 1024).
	QueueSize int
}

// AlertHub persists critical alerts, fans them out to server-sent-event
// subscribers and webhooks, and records acknowledgements. Alerts are
// identified by ID: saving an alert that is already stored does nothing,
// so a re-analysed chunk (a redelivered NATS message) never raises an alert
// twice. It is safe for concurrent use; Close stops the webhook workers.
type AlertHub struct {
	cfg    AlertHubConfig
	log    *slog.Logger
	now    func() time.Time
	client *http.Client

	mu     sync.Mutex
	subs   map[int]chan AlertEvent
	nextID int
	closed bool

	queue  chan delivery
	ctx    context.Context // cancelled by Close; owner of the worker goroutines
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type delivery struct {
	url     string
	alert   ECGAlert
	attempt int
}

// NewAlertHub returns a hub and starts its webhook workers. Webhook URLs
// must be http or https.
func NewAlertHub(cfg AlertHubConfig) (*AlertHub, error) {
	if cfg.Store == nil {
		return nil, clinic.Errorf(clinic.CodeInvalid, "api.NewAlertHub: Store is required")
	}
	for _, w := range cfg.Webhooks {
		if u, err := url.Parse(w); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, clinic.NewError(clinic.CodeInvalid, "webhooks", fmt.Sprintf("alert webhook %q is not an http(s) URL", w), "告警回调地址不是 http(s) 网址")
		}
	}
	if cfg.WebhookAttempts <= 0 {
		cfg.WebhookAttempts = 8
	}
	if cfg.WebhookBackoff <= 0 {
		cfg.WebhookBackoff = 500 * time.Millisecond
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1024
	}
	h := &AlertHub{cfg: cfg, log: cfg.Logger, now: cfg.Now, client: cfg.HTTPClient, subs: map[int]chan AlertEvent{},
		queue: make(chan delivery, cfg.QueueSize)}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.client == nil {
		h.client = &http.Client{Timeout: 10 * time.Second}
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	if len(cfg.Webhooks) > 0 {
		for range 2 {
			h.wg.Add(1)
			go h.worker()
		}
	}
	return h, nil
}

// Close stops the webhook workers (deliveries still waiting are dropped
// and logged) and ends every subscription. It is safe to call twice.
func (h *AlertHub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	for id, ch := range h.subs {
		close(ch)
		delete(h.subs, id)
	}
	h.mu.Unlock()
	h.cancel()
	h.wg.Wait()
	if n := len(h.queue); n > 0 {
		h.log.Warn("alert webhooks not delivered at shutdown", "pending", n)
	}
	return nil
}

var safeAlertID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,160}$`)

// alertID is the stored ID of the alert of rule raised on subject for the
// stretch starting at absolute sample start: the same inputs always give
// the same ID (the idempotency key of webhooks and redelivered chunks).
func alertID(subject string, rule clinic.RuleID, start int64) string {
	id := fmt.Sprintf("%s:%s:%d", subject, rule, start)
	if safeAlertID.MatchString(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "a" + hex.EncodeToString(sum[:12])
}

// Save stores a in the transaction tx and audits it. It returns false,
// and writes nothing, when an alert with that ID is already stored.
func (h *AlertHub) Save(ctx context.Context, tx store.Store, a ECGAlert) (bool, error) {
	body, err := json.Marshal(a)
	if err != nil {
		return false, fmt.Errorf("api.AlertHub.Save: %w", err)
	}
	if _, err := tx.Record(ctx, alertKind, a.ID); err == nil {
		return false, nil
	} else if clinic.ErrorCode(err) != clinic.CodeNotFound {
		return false, fmt.Errorf("api.AlertHub.Save(%s): %w", a.ID, err)
	}
	r := store.Record{Kind: alertKind, ID: a.ID, Subject: a.Subject, Body: body}
	if err := tx.PutRecord(ctx, &r); err != nil {
		if clinic.ErrorCode(err) == clinic.CodeConflict {
			return false, nil
		}
		return false, fmt.Errorf("api.AlertHub.Save(%s): %w", a.ID, err)
	}
	detail := map[string]any{"rule_id": a.RuleID, "leads": a.Leads, "values": a.Values, "start_s": a.StartS, "end_s": a.EndS}
	raw, _ := json.Marshal(detail)
	if _, err := tx.AppendAudit(ctx, store.AuditEntry{Actor: "ai:ecg", Role: "system", Action: "alert.raise",
		Subject: "alert:" + a.ID, Detail: raw}); err != nil {
		return false, fmt.Errorf("api.AlertHub.Save(%s): audit: %w", a.ID, err)
	}
	return true, nil
}

// Announce fans a stored alert out to subscribers and webhooks. Call it
// after the transaction that saved the alert committed.
func (h *AlertHub) Announce(a ECGAlert) {
	h.broadcast(AlertEvent{Type: "alert", Alert: a})
	for _, w := range h.cfg.Webhooks {
		h.enqueue(delivery{url: w, alert: a, attempt: 1})
	}
}

// Raise saves a in its own transaction and announces it if it is new.
func (h *AlertHub) Raise(ctx context.Context, a ECGAlert) (bool, error) {
	var isNew bool
	err := h.cfg.Store.InTx(ctx, func(ctx context.Context, tx store.Store) error {
		var err error
		isNew, err = h.Save(ctx, tx, a)
		return err
	})
	if err != nil {
		return false, err
	}
	if isNew {
		h.Announce(a)
	}
	return isNew, nil
}

// Alert returns a stored alert, or not_found.
func (h *AlertHub) Alert(ctx context.Context, id string) (ECGAlert, error) {
	a, _, err := loadJSON[ECGAlert](ctx, h.cfg.Store, alertKind, id, "no such alert", "告警不存在")
	return a, err
}

// List returns stored alerts, newest first: at most limit (1–500), only
// unacknowledged ones when unacked is set, only those of subject when it
// is not empty.
func (h *AlertHub) List(ctx context.Context, subject string, unacked bool, limit int) ([]ECGAlert, error) {
	rs, err := h.cfg.Store.ListRecords(ctx, store.RecordFilter{Kind: alertKind, Subject: subject})
	if err != nil {
		return nil, err
	}
	out := []ECGAlert{}
	for i := len(rs) - 1; i >= 0 && len(out) < limit; i-- {
		var a ECGAlert
		if err := json.Unmarshal(rs[i].Body, &a); err != nil {
			return nil, fmt.Errorf("api.AlertHub: decode alert %s: %w", rs[i].ID, err)
		}
		if unacked && a.AckedBy != "" {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

// Ack records that by acknowledged the alert, audits it with note and
// announces it. Acknowledging an acknowledged alert changes nothing and
// returns it as it is (the first acknowledgement stands).
func (h *AlertHub) Ack(ctx context.Context, id, by, role, note string) (ECGAlert, error) {
	var a ECGAlert
	changed := false
	err := h.cfg.Store.InTx(ctx, func(ctx context.Context, tx store.Store) error {
		var r store.Record
		var err error
		if a, r, err = loadJSON[ECGAlert](ctx, tx, alertKind, id, "no such alert", "告警不存在"); err != nil {
			return err
		}
		if a.AckedBy != "" {
			return nil
		}
		a.AckedBy, a.AckedAt = by, h.now().UTC()
		if r.Body, err = json.Marshal(a); err != nil {
			return fmt.Errorf("api.AlertHub.Ack: %w", err)
		}
		if err := tx.PutRecord(ctx, &r); err != nil {
			return err
		}
		raw, _ := json.Marshal(map[string]string{"note": note})
		if _, err := tx.AppendAudit(ctx, store.AuditEntry{Actor: by, Role: role, Action: "alert.ack",
			Subject: "alert:" + id, Detail: raw}); err != nil {
			return fmt.Errorf("api.AlertHub.Ack: audit: %w", err)
		}
		changed = true
		return nil
	})
	if err != nil {
		return ECGAlert{}, err
	}
	if changed {
		h.broadcast(AlertEvent{Type: "ack", Alert: a})
	}
	return a, nil
}

// Subscribe returns a channel of alert events and a function that ends the
// subscription. A subscriber that falls 64 events behind is dropped (its
// channel is closed) so that it reconnects and reloads the list.
func (h *AlertHub) Subscribe() (<-chan AlertEvent, func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := make(chan AlertEvent, 64)
	if h.closed {
		close(ch)
		return ch, func() {}
	}
	id := h.nextID
	h.nextID++
	h.subs[id] = ch
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if c, ok := h.subs[id]; ok {
			close(c)
			delete(h.subs, id)
		}
	}
}

func (h *AlertHub) broadcast(ev AlertEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, ch := range h.subs {
		select {
		case ch <- ev:
		default:
			h.log.Warn("alert subscriber too slow; dropped", "subscriber", id)
			close(ch)
			delete(h.subs, id)
		}
	}
}

func (h *AlertHub) enqueue(d delivery) {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		h.log.Error("alert webhook not delivered: hub closed", "alert_id", d.alert.ID, "url", redact(d.url))
		return
	}
	select {
	case h.queue <- d:
	default:
		h.log.Error("alert webhook queue full; delivery dropped", "alert_id", d.alert.ID, "url", redact(d.url))
	}
}

func (h *AlertHub) worker() {
	defer h.wg.Done()
	for {
		select {
		case <-h.ctx.Done():
			return
		case d := <-h.queue:
			h.deliver(d)
		}
	}
}

// retryable reports whether a webhook answer is worth another attempt.
func retryable(status int) bool {
	return status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
}

// deliver posts one alert; on a retryable failure it schedules the next
// attempt after the backoff (without holding the worker).
func (h *AlertHub) deliver(d delivery) {
	body, err := json.Marshal(d.alert)
	if err != nil {
		h.log.Error("alert webhook: encode", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	status, err := h.post(ctx, d, body)
	switch {
	case err == nil && status < 300:
		h.log.Info("alert webhook delivered", "alert_id", d.alert.ID, "url", redact(d.url), "attempt", d.attempt)
		return
	case err == nil && !retryable(status):
		h.log.Error("alert webhook refused", "alert_id", d.alert.ID, "url", redact(d.url), "status", status)
		return
	}
	if d.attempt >= h.cfg.WebhookAttempts {
		h.log.Error("alert webhook failed; giving up", "alert_id", d.alert.ID, "url", redact(d.url),
			"attempts", d.attempt, "status", status, "err", err)
		return
	}
	wait := h.cfg.WebhookBackoff << (d.attempt - 1)
	if wait > time.Minute || wait <= 0 {
		wait = time.Minute
	}
	h.log.Warn("alert webhook failed; retrying", "alert_id", d.alert.ID, "url", redact(d.url),
		"attempt", d.attempt, "retry_in", wait, "status", status, "err", err)
	d.attempt++
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-h.ctx.Done():
		case <-t.C:
			h.enqueue(d)
		}
	}()
}

func (h *AlertHub) post(ctx context.Context, d delivery, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", d.alert.ID)
	req.Header.Set("X-Yizhu-Alert-ID", d.alert.ID)
	req.Header.Set("X-Yizhu-Delivery-Attempt", strconv.Itoa(d.attempt))
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// redact hides credentials in a webhook URL for logs.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(invalid url)"
	}
	u.RawQuery = ""
	return u.Redacted()
}

var alertReaders = []Role{RoleDoctor, RoleECG, RoleAdmin}
var alertAckers = []Role{RoleDoctor, RoleECG}

// Routes lists the alert endpoints.
func (h *AlertHub) Routes() []Route {
	return []Route{
		{Method: "GET", Path: "/v1/alerts", Roles: alertReaders, Handler: h.list, Tag: "alerts",
			Summary:  "Stored critical alerts (危急值), newest first.",
			Response: AlertsResponse{},
			Query:    map[string]string{"unacked": "1 = only unacknowledged alerts", "subject": "only alerts of this record or stream", "limit": "maximum alerts (1–500, default 100)"}},
		{Method: "GET", Path: "/v1/alerts/stream", Roles: alertReaders, Handler: h.stream, Tag: "alerts", Stream: true,
			Summary:  "Server-sent events: one event named alert per new critical alert and one named ack per acknowledgement.",
			Response: AlertEvent{}, ContentType: "text/event-stream"},
		{Method: "POST", Path: "/v1/alerts/:id/ack", Roles: alertAckers, Handler: h.ack, Tag: "alerts", OK: http.StatusOK,
			Summary: "Acknowledge an alert (audited); the first acknowledgement stands.",
			Request: AckAlertRequest{}, Response: ECGAlert{}, BodyLimit: 8 << 10},
	}
}

func (h *AlertHub) list(c echo.Context) error {
	limit := 100
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return clinic.NewError(clinic.CodeInvalid, "limit", "limit must be 1 to 500", "limit 须为 1–500")
		}
		limit = n
	}
	as, err := h.List(c.Request().Context(), c.QueryParam("subject"), c.QueryParam("unacked") == "1", limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, AlertsResponse{Alerts: as})
}

func (h *AlertHub) ack(c echo.Context) error {
	var in AckAlertRequest
	if c.Request().ContentLength != 0 {
		if err := Bind(c, &in); err != nil {
			return err
		}
	}
	// Alert IDs hold ":"; clients may send it escaped.
	id, err := url.PathUnescape(c.Param("id"))
	if err != nil {
		return clinic.NewError(clinic.CodeInvalid, "id", "malformed alert ID", "告警 ID 格式错误")
	}
	sub, role := caller(c)
	a, err := h.Ack(c.Request().Context(), id, sub, string(role), in.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

// stream serves the alert fan-out as server-sent events until the client
// leaves, with a keep-alive comment every sseKeepAlive.
func (h *AlertHub) stream(c echo.Context) error {
	ch, cancel := h.Subscribe()
	defer cancel()
	return serveSSE(c, func(send sseSend) error {
		return relaySSE(c.Request().Context(), send, ch, func(ev AlertEvent) (string, any) { return ev.Type, ev.Alert })
	})
}

// newAlert converts an alert of the ECG core for subject, whose sample
// indices are offset from the subject's first sample, into a stored alert
// with a stable ID and absolute times.
func newAlert(a *ecg.Alert, subject string, offset int64, rateHz float64) ECGAlert {
	out := ECGAlert{Alert: *a, RateHz: rateHz}
	out.Leads = slices.Clone(a.Leads)
	out.Start, out.End = a.Start+offset, a.End+offset
	out.Subject = subject
	out.ID = alertID(subject, a.RuleID, out.Start)
	out.StartS = round3(float64(out.Start) / rateHz)
	out.EndS = round3(float64(out.End) / rateHz)
	// The core names data evidence by its own sample clock; restate it in
	// the subject's absolute time.
	out.Evidence = nil
	for _, e := range a.Evidence {
		if e.Kind != clinic.SourceData {
			out.Evidence = append(out.Evidence, e)
		}
	}
	for _, l := range out.Leads {
		out.Evidence = append(out.Evidence, clinic.Source{Kind: clinic.SourceData,
			ID:    fmt.Sprintf("ecg:%s:lead=%s:t=%.3f-%.3fs", subject, l, out.StartS, out.EndS),
			Quote: a.Details})
	}
	return out
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
