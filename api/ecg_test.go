package api_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/yizhu-health/yizhu/api"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/inference/ecg/ecgsynth"
	"github.com/yizhu-health/yizhu/store"
)

type ecgFixture struct {
	*fixture
	ecg *api.ECG
	hub *api.AlertHub
}

func newECGFixture(t *testing.T, hubCfg api.AlertHubConfig) *ecgFixture {
	t.Helper()
	ef := &ecgFixture{}
	ef.fixture = newFixture(t, func(cfg *api.Config) {
		hubCfg.Store = cfg.Store
		hub, err := api.NewAlertHub(hubCfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { hub.Close() })
		e, err := api.NewECG(api.ECGConfig{Store: cfg.Store, Alerts: hub, CheckpointEvery: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ef.ecg, ef.hub = e, hub
		cfg.Features = append(cfg.Features, e)
	})
	return ef
}

// synth returns a seeded synthetic record (leads in mV) and its truth.
func synth(rate float64, leads []string, segs ...ecgsynth.Segment) ([][]float32, ecgsynth.Truth) {
	return ecgsynth.Generate(ecgsynth.Config{RateHz: rate, Leads: leads, Seed: 7, NoiseMV: 0.01, Segments: segs})
}

func sinusSeg(s float64) ecgsynth.Segment {
	return ecgsynth.Segment{Kind: ecgsynth.Sinus, Seconds: s, RateBPM: 75}
}

// asystoleRecord is sinus, a 6 s asystole (a critical pause), then sinus.
func asystoleRecord() ([][]float32, ecgsynth.Truth) {
	return synth(250, []string{"II", "V1"}, sinusSeg(12), ecgsynth.Segment{Kind: ecgsynth.Asystole, Seconds: 6}, sinusSeg(8))
}

func jsonUpload(leads [][]float32, names []string, rate float64) map[string]any {
	ls := []map[string]any{}
	for i, x := range leads {
		ls = append(ls, map[string]any{"name": names[i], "samples": x})
	}
	return map[string]any{"rate_hz": rate, "leads": ls, "sex": "M", "age": 60}
}

func (f *fixture) records(t *testing.T, kind string) []store.Record {
	t.Helper()
	rs, err := f.store.ListRecords(t.Context(), store.RecordFilter{Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestECGUploadJSONIsAnalysedAndPersisted(t *testing.T) {
	f := newECGFixture(t, api.AlertHubConfig{})
	leads, truth := synth(500, []string{"II", "V2"}, sinusSeg(10))
	code, body := f.do(t, "POST", "/v1/ecg/records", f.token(t, api.RoleECG), jsonUpload(leads, []string{"II", "V2"}, 500))
	if code != http.StatusCreated {
		t.Fatalf("status %d: %s", code, body)
	}
	rec := decode[api.ECGRecordResponse](t, body)
	if rec.Format != "json" || !rec.Report.Draft || rec.Report.Critical {
		t.Errorf("format %q draft %v critical %v", rec.Format, rec.Report.Draft, rec.Report.Critical)
	}
	if d := len(rec.Report.Beats) - len(truth.Beats); d < -1 || d > 1 {
		t.Errorf("%d beats reported, %d true", len(rec.Report.Beats), len(truth.Beats))
	}
	// Persisted before the answer: record, signal and audit entry.
	if n := len(f.records(t, "ecg_record")); n != 1 {
		t.Fatalf("%d ecg_record records", n)
	}
	if n := len(f.records(t, "ecg_signal")); n != 1 {
		t.Fatalf("%d ecg_signal records", n)
	}
	es, err := f.store.AuditEntries(t.Context(), store.AuditFilter{Action: "ecg.upload", Subject: "ecg:" + rec.ID})
	if err != nil || len(es) != 1 {
		t.Fatalf("upload audit: %v %v", es, err)
	}
	for _, role := range []api.Role{api.RoleDoctor, api.RoleECG} {
		code, body = f.do(t, "GET", "/v1/ecg/records/"+rec.ID, f.token(t, role), nil)
		if code != 200 {
			t.Fatalf("get as %s: %d %s", role, code, body)
		}
		if got := decode[api.ECGRecordResponse](t, body); got.ID != rec.ID || len(got.Report.Beats) != len(rec.Report.Beats) {
			t.Errorf("read back %s with %d beats", got.ID, len(got.Report.Beats))
		}
	}
	if code, _ := f.do(t, "GET", "/v1/ecg/records/nope", f.token(t, api.RoleDoctor), nil); code != 404 {
		t.Errorf("missing record: %d", code)
	}
}

// wfdbFiles writes a format-16 WFDB record (header and .dat) of leads in
// mV with gain 200 adu/mV and baseline 0.
func wfdbFiles(name string, rate float64, names []string, leads [][]float32) (hea string, dat []byte) {
	n := len(leads[0])
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d %g %d\n", name, len(leads), rate, n)
	adc := make([][]int16, len(leads))
	for l := range leads {
		adc[l] = make([]int16, n)
		sum := 0
		for i, v := range leads[l] {
			adc[l][i] = int16(v * 200)
			sum += int(adc[l][i])
		}
		fmt.Fprintf(&b, "%s.dat 16 200/mV 16 0 %d %d 0 %s\n", name, adc[l][0], int16(sum), names[l])
	}
	b.WriteString("# Age: 62\n# Sex: Male\n")
	for i := range n {
		for l := range leads {
			dat = binary.LittleEndian.AppendUint16(dat, uint16(adc[l][i]))
		}
	}
	return b.String(), dat
}

func TestECGUploadWFDBAndCSV(t *testing.T) {
	f := newECGFixture(t, api.AlertHubConfig{})
	tok := f.token(t, api.RoleDoctor)
	leads, _ := synth(360, []string{"MLII", "V5"}, sinusSeg(8))
	hea, dat := wfdbFiles("r100", 360, []string{"MLII", "V5"}, leads)

	var csv strings.Builder
	csv.WriteString("time,<b>II</b>&\n")
	for i, v := range leads[0] {
		fmt.Fprintf(&csv, "%d,%.4f\n", i, v)
	}
	tests := []struct {
		name     string
		files    []file
		fields   map[string]string
		code     int
		format   string
		errField string
	}{
		{name: "wfdb", files: []file{{"r100.dat", dat}, {"r100.hea", []byte(hea)}}, fields: map[string]string{"encounter_id": "enc-1"}, code: 201, format: "wfdb"},
		{name: "csv", files: []file{{"strip.csv", []byte(csv.String())}}, fields: map[string]string{"rate_hz": "360", "sex": "F", "age": "30"}, code: 201, format: "csv"},
		{name: "csv without rate", files: []file{{"strip.csv", []byte(csv.String())}}, code: 400, errField: "rate_hz"},
		{name: "missing dat", files: []file{{"r100.hea", []byte(hea)}}, code: 400, errField: "file"},
		{name: "truncated dat", files: []file{{"r100.dat", dat[:len(dat)/2+1]}, {"r100.hea", []byte(hea)}}, code: 400},
		// The first sample changes, so the header's checksum no longer matches.
		{name: "wrong checksum", files: []file{{"r100.dat", append([]byte{1, 0}, dat[2:]...)}, {"r100.hea", []byte(hea)}}, code: 400},
		{name: "no record file", files: []file{{"notes.txt", []byte("hello")}}, code: 400, errField: "file"},
		{name: "bad sex", files: []file{{"r100.dat", dat}, {"r100.hea", []byte(hea)}}, fields: map[string]string{"sex": "X"}, code: 400, errField: "sex"},
	}
	stored := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct, body := multipartBody(t, tc.fields, tc.files...)
			code, out := f.post(t, "/v1/ecg/records", tok, ct, body)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %s", code, tc.code, out)
			}
			if code == 201 {
				stored++
				rec := decode[api.ECGRecordResponse](t, out)
				if rec.Format != tc.format || len(rec.Report.Beats) < 8 {
					t.Errorf("format %q, %d beats", rec.Format, len(rec.Report.Beats))
				}
			} else {
				eb := decode[api.ErrorBody](t, out)
				if eb.Error.MessageZH == "" || eb.Error.Message == "" {
					t.Errorf("error not bilingual: %s", out)
				}
				if tc.errField != "" && (len(eb.Error.Fields) == 0 || eb.Error.Fields[0].Field != tc.errField) {
					t.Errorf("error field: %s, want %s", out, tc.errField)
				}
			}
			if n := len(f.records(t, "ecg_record")); n != stored {
				t.Errorf("%d records stored, want %d", n, stored)
			}
		})
	}
	t.Run("wrong role", func(t *testing.T) {
		ct, body := multipartBody(t, nil, file{"r100.dat", dat}, file{"r100.hea", []byte(hea)})
		if code, _ := f.post(t, "/v1/ecg/records", f.token(t, api.RoleKiosk), ct, body); code != 403 {
			t.Errorf("kiosk upload: %d", code)
		}
	})
}

func TestECGInterruptedUploadStoresNothing(t *testing.T) {
	f := newECGFixture(t, api.AlertHubConfig{})
	leads, _ := synth(250, []string{"II"}, sinusSeg(10))
	raw, _ := json.Marshal(jsonUpload(leads, []string{"II"}, 250))
	u, _ := url.Parse(f.ts.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	// Announce the whole body, send half of it, then hang up.
	fmt.Fprintf(conn, "POST /v1/ecg/records HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		u.Host, f.token(t, api.RoleECG), len(raw))
	conn.Write(raw[:len(raw)/2])
	conn.Close()
	// The server notices the cut when it reads the body; a later complete
	// upload is served after it, so when that one is stored the first is
	// settled.
	code, body := f.do(t, "POST", "/v1/ecg/records", f.token(t, api.RoleECG), jsonUpload(leads, []string{"II"}, 250))
	if code != 201 {
		t.Fatalf("status %d: %s", code, body)
	}
	deadline := time.Now().Add(time.Second)
	for {
		es, _ := f.store.AuditEntries(t.Context(), store.AuditFilter{Action: "ecg.upload"})
		rs := f.records(t, "ecg_record")
		sig := f.records(t, "ecg_signal")
		if len(rs) != 1 || len(sig) != 1 || len(es) != 1 {
			t.Fatalf("after an interrupted and a complete upload: %d records, %d signals, %d audit entries; want 1 each", len(rs), len(sig), len(es))
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestECGUploadBounds(t *testing.T) {
	f := newECGFixture(t, api.AlertHubConfig{})
	tok := f.token(t, api.RoleECG)
	tests := []struct {
		name string
		body any
	}{
		{"rate too low", map[string]any{"rate_hz": 100, "leads": []map[string]any{{"name": "II", "samples": []float32{0, 1}}}}},
		{"rate too high", map[string]any{"rate_hz": 2000, "leads": []map[string]any{{"name": "II", "samples": []float32{0, 1}}}}},
		{"no leads", map[string]any{"rate_hz": 250, "leads": []map[string]any{}}},
		{"ragged leads", map[string]any{"rate_hz": 250, "leads": []map[string]any{{"name": "I", "samples": []float32{0, 1}}, {"name": "II", "samples": []float32{0}}}}},
		{"unknown field", map[string]any{"rate_hz": 250, "leads": []map[string]any{{"name": "II", "samples": []float32{0, 1}}}, "x": 1}},
		{"not json", "{"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := f.do(t, "POST", "/v1/ecg/records", tok, tc.body); code != 400 {
				t.Errorf("status %d: %s", code, body)
			}
		})
	}
	if n := len(f.records(t, "ecg_record")); n != 0 {
		t.Errorf("%d records stored from bad uploads", n)
	}
}

// openSSE opens the event stream at path, closed when t ends.
func (f *fixture) openSSE(t *testing.T, path, token string) *sseReader {
	t.Helper()
	resp := sendRequest(t, "GET", f.ts.URL+path+"?access_token="+token, "", nil)
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("SSE %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return newSSEReader(resp.Body)
}

func TestECGCriticalUploadAlertsAndAck(t *testing.T) {
	var mu sync.Mutex
	var hooks []string
	var attempts atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Fail twice, then accept: the hub must retry with the same key.
		n := attempts.Add(1)
		mu.Lock()
		hooks = append(hooks, r.Header.Get("Idempotency-Key")+"|"+r.Header.Get("X-Yizhu-Delivery-Attempt"))
		mu.Unlock()
		if n <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var a api.ECGAlert
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil || a.RuleID == "" {
			t.Errorf("webhook body: %v %+v", err, a)
		}
	}))
	t.Cleanup(hook.Close)
	f := newECGFixture(t, api.AlertHubConfig{Webhooks: []string{hook.URL}, WebhookBackoff: 10 * time.Millisecond})
	doc := f.token(t, api.RoleDoctor)
	sse := f.openSSE(t, "/v1/alerts/stream", doc)

	leads, _ := asystoleRecord()
	code, body := f.do(t, "POST", "/v1/ecg/records", f.token(t, api.RoleECG), jsonUpload(leads, []string{"II", "V1"}, 250))
	if code != 201 {
		t.Fatalf("status %d: %s", code, body)
	}
	rec := decode[api.ECGRecordResponse](t, body)
	if !rec.Report.Critical || len(rec.Alerts) == 0 {
		t.Fatalf("asystole not critical: %+v", rec.Report.Findings)
	}
	a := rec.Alerts[0]
	if a.RuleID != "ecg.pause" || a.Subject != rec.ID || len(a.Evidence) == 0 || a.StartS < 11 || a.StartS > 13 {
		t.Errorf("alert %+v", a)
	}
	ev, data, err := sse.next()
	if err != nil || ev != "alert" {
		t.Fatalf("sse: %q %v", ev, err)
	}
	var got api.ECGAlert
	json.Unmarshal([]byte(data), &got)
	if got.ID != a.ID {
		t.Errorf("sse alert %s, want %s", got.ID, a.ID)
	}

	code, body = f.do(t, "GET", "/v1/alerts?unacked=1", doc, nil)
	if list := decode[api.AlertsResponse](t, body); code != 200 || len(list.Alerts) != len(rec.Alerts) {
		t.Fatalf("list: %d %s", code, body)
	}
	code, body = f.do(t, "POST", "/v1/alerts/"+a.ID+"/ack", doc, map[string]string{"note": "called the chest-pain team"})
	acked := decode[api.ECGAlert](t, body)
	if code != 200 || acked.AckedBy != "user-doctor" || acked.AckedAt.IsZero() {
		t.Fatalf("ack: %d %s", code, body)
	}
	if ev, _, _ := sse.next(); ev != "ack" {
		t.Errorf("sse after ack: %q", ev)
	}
	// A second acknowledgement changes nothing.
	code, body = f.do(t, "POST", "/v1/alerts/"+a.ID+"/ack", f.token(t, api.RoleECG), nil)
	if again := decode[api.ECGAlert](t, body); code != 200 || again.AckedBy != "user-doctor" || !again.AckedAt.Equal(acked.AckedAt) {
		t.Errorf("second ack: %d %s", code, body)
	}
	code, body = f.do(t, "GET", "/v1/alerts?unacked=1", doc, nil)
	if list := decode[api.AlertsResponse](t, body); code != 200 || len(list.Alerts) != len(rec.Alerts)-1 {
		t.Errorf("unacked after ack: %s", body)
	}
	if code, body := f.do(t, "POST", "/v1/alerts/"+strings.ReplaceAll(a.ID, ":", "%3A")+"/ack", doc, nil); code != 200 || strings.Contains(a.ID, ":") && !strings.Contains(string(body), a.ID) {
		t.Errorf("ack with the ID escaped: %d %s", code, body)
	}
	if code, _ := f.do(t, "POST", "/v1/alerts/nope/ack", doc, nil); code != 404 {
		t.Errorf("ack missing alert: %d", code)
	}
	es, _ := f.store.AuditEntries(t.Context(), store.AuditFilter{Subject: "alert:" + a.ID})
	var actions []string
	for _, e := range es {
		actions = append(actions, e.Action)
	}
	if !slices.Equal(actions, []string{"alert.raise", "alert.ack"}) {
		t.Errorf("audit of the alert: %v", actions)
	}

	// Webhook: retried until accepted, one idempotency key per alert. The
	// handler counts an attempt before it records the call, so wait on the
	// recorded calls themselves.
	want := len(rec.Alerts) + 2
	deadline := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		n := len(hooks)
		mu.Unlock()
		if n >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hooks) != want {
		t.Fatalf("webhook calls %v, want %d", hooks, want)
	}
	keys := map[string][]string{}
	for _, h := range hooks {
		k, n, _ := strings.Cut(h, "|")
		keys[k] = append(keys[k], n)
	}
	if len(keys) != len(rec.Alerts) || len(keys[hooks[0][:strings.Index(hooks[0], "|")]]) < 2 {
		t.Errorf("webhook deliveries by key: %v", keys)
	}
}

func TestAlertHubSaveIsIdempotent(t *testing.T) {
	f := newECGFixture(t, api.AlertHubConfig{})
	ch, cancel := f.hub.Subscribe()
	defer cancel()
	a := api.ECGAlert{}
	a.ID, a.RuleID, a.Subject, a.Severity = "s1:ecg.vf:100", "ecg.vf", "s1", clinic.SeverityCritical
	for i := range 3 {
		isNew, err := f.hub.Raise(t.Context(), a)
		if err != nil || isNew != (i == 0) {
			t.Fatalf("raise %d: new=%v err=%v", i, isNew, err)
		}
	}
	if len(ch) != 1 {
		t.Errorf("%d events for one alert raised three times", len(ch))
	}
	if _, err := api.NewAlertHub(api.AlertHubConfig{Store: f.store, Webhooks: []string{"ftp://x"}}); err == nil {
		t.Error("ftp webhook accepted")
	}
}

func TestWaveformSVGIsValidAndEscaped(t *testing.T) {
	f := newECGFixture(t, api.AlertHubConfig{})
	tok := f.token(t, api.RoleECG)
	leads, _ := asystoleRecord()
	names := []string{`<script>`, `V1"&'</svg>`}
	code, body := f.do(t, "POST", "/v1/ecg/records", tok, jsonUpload(leads, names, 250))
	if code != 201 {
		t.Fatalf("upload: %d %s", code, body)
	}
	rec := decode[api.ECGRecordResponse](t, body)
	for _, q := range []string{"", "?from=8&seconds=10", "?seconds=60", "?from=1000"} {
		t.Run(q, func(t *testing.T) {
			resp, svg := fetch(t, "GET", f.ts.URL+"/v1/ecg/records/"+rec.ID+"/waveform.svg"+q, tok, nil)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/svg+xml") {
				t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			counts := map[string]int{}
			dec := xml.NewDecoder(bytes.NewReader(svg))
			for {
				tok, err := dec.Token()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("invalid XML: %v", err)
				}
				if se, ok := tok.(xml.StartElement); ok {
					counts[se.Name.Local]++
					for _, a := range se.Attr {
						if a.Name.Local == "class" {
							counts["."+a.Value]++
						}
					}
				}
			}
			if strings.Contains(string(svg), "<script") {
				t.Error("lead name not escaped")
			}
			if counts["polyline"] != 2 || counts[".beat"] < 5 {
				t.Errorf("elements %v", counts)
			}
			if q == "?from=8&seconds=10" && counts[".alert"] == 0 {
				t.Errorf("the pause alert is not marked: %v", counts)
			}
		})
	}
	for _, q := range []string{"?seconds=0", "?seconds=61", "?from=-1", "?from=x"} {
		if code, _ := f.do(t, "GET", "/v1/ecg/records/"+rec.ID+"/waveform.svg"+q, tok, nil); code != 400 {
			t.Errorf("%s: %d", q, code)
		}
	}
}

func TestECGRoutesEnforceRoles(t *testing.T) {
	f := newECGFixture(t, api.AlertHubConfig{})
	mine := 0
	for _, r := range f.srv.Routes() {
		if !strings.HasPrefix(r.Path, "/v1/ecg") && !strings.HasPrefix(r.Path, "/v1/alerts") {
			continue
		}
		mine++
		if len(r.Roles) == 0 {
			t.Errorf("%s %s is public", r.Method, r.Path)
		}
		path := strings.ReplaceAll(r.Path, ":id", "x")
		if code, _ := f.do(t, r.Method, path, "", nil); code != 401 {
			t.Errorf("%s %s without a token: %d", r.Method, path, code)
		}
		for _, role := range api.Roles {
			if slices.Contains(r.Roles, role) {
				continue
			}
			if code, _ := f.do(t, r.Method, path, f.token(t, role), "{}"); code != 403 {
				t.Errorf("%s %s as %s: %d", r.Method, path, role, code)
			}
		}
	}
	if mine != 8 {
		t.Errorf("%d ECG and alert routes, want 8", mine)
	}
}

// ---- WebSocket ----

func (f *fixture) dialStream(t testing.TB, token string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.ts.URL, "http")+"/v1/ecg/streams",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func sendJSON(t testing.TB, c *websocket.Conn, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := c.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

// collect reads server messages in the background.
type collector struct {
	mu  sync.Mutex
	evs []api.StreamEvent
	got chan struct{}
}

func collect(c *websocket.Conn) *collector {
	col := &collector{got: make(chan struct{}, 1<<16)}
	go func() {
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				close(col.got)
				return
			}
			var ev api.StreamEvent
			json.Unmarshal(b, &ev)
			col.mu.Lock()
			col.evs = append(col.evs, ev)
			col.mu.Unlock()
			col.got <- struct{}{}
		}
	}()
	return col
}

// wait returns the events once one satisfies done, or fails after a
// minute.
func (col *collector) wait(t *testing.T, what string, done func(api.StreamEvent) bool) []api.StreamEvent {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		col.mu.Lock()
		for _, ev := range col.evs {
			if done(ev) {
				out := slices.Clone(col.evs)
				col.mu.Unlock()
				return out
			}
		}
		col.mu.Unlock()
		select {
		case _, ok := <-col.got:
			if !ok {
				t.Fatalf("connection closed waiting for %s", what)
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func chunkMsg(seq int64, leads [][]float32, from, to int) map[string]any {
	s := make([][]float32, len(leads))
	for l := range leads {
		s[l] = leads[l][from:to]
	}
	return map[string]any{"type": "chunk", "seq": seq, "samples": s}
}

func TestECGStreamWebSocket(t *testing.T) {
	f := newECGFixture(t, api.AlertHubConfig{})
	leads, truth := asystoleRecord()
	c := f.dialStream(t, f.token(t, api.RoleECG))
	col := collect(c)
	sendJSON(t, c, map[string]any{"type": "start", "stream_id": "amb-7", "rate_hz": 250, "leads": []string{"II", "V1"}, "sex": "M", "age": 58})
	evs := col.wait(t, "started", func(e api.StreamEvent) bool { return e.Type == "started" })
	if evs[0].StreamID != "amb-7" || *evs[0].NextSeq != 0 {
		t.Fatalf("started %+v", evs[0])
	}
	step := 125 // 0.5 s chunks
	n := len(leads[0])
	seq := int64(0)
	for off := 0; off < n; off += step {
		end := min(off+step, n)
		if seq%2 == 1 {
			// The binary form, for odd chunks.
			part := [][]float32{leads[0][off:end], leads[1][off:end]}
			if err := c.Write(t.Context(), websocket.MessageBinary, api.EncodeBinaryChunk(nil, uint32(seq), int64(off), part)); err != nil {
				t.Fatal(err)
			}
		} else {
			sendJSON(t, c, chunkMsg(seq, leads, off, end))
		}
		seq++
		if seq == 4 {
			// Bad messages in the middle: each answered by an error, none fatal.
			sendJSON(t, c, chunkMsg(1, leads, 0, 10))                                                      // repeated seq
			sendJSON(t, c, map[string]any{"type": "chunk", "seq": 9, "samples": [][]float32{{1, 2}, {1}}}) // ragged
			c.Write(t.Context(), websocket.MessageText, []byte(`{"type":"chunk","seq":`))                  // truncated
			c.Write(t.Context(), websocket.MessageBinary, []byte("EC\x01\x02garbage"))                     // short binary
			sendJSON(t, c, map[string]any{"type": "chunk", "seq": 9, "samples": [][]float32{{1}}})         // wrong lead count
		}
	}
	sendJSON(t, c, map[string]any{"type": "end"})
	evs = col.wait(t, "ended", func(e api.StreamEvent) bool { return e.Type == "ended" })
	var beats []api.BeatOut
	var errs, alerts int
	var rhythms []string
	for _, e := range evs {
		switch e.Type {
		case "beats":
			beats = append(beats, e.Beats...)
		case "error":
			errs++
			if e.Error == nil || e.Error.MessageZH == "" {
				t.Errorf("error without a message: %+v", e)
			}
		case "alert":
			alerts++
			if e.Alert.RuleID != "ecg.pause" || e.Alert.Subject != "amb-7" {
				t.Errorf("alert %+v", e.Alert)
			}
		case "rhythm":
			rhythms = append(rhythms, e.Rhythm)
		}
	}
	if errs != 5 {
		t.Errorf("%d errors for 5 bad messages", errs)
	}
	if alerts == 0 {
		t.Error("no alert for a 6 s asystole")
	}
	if d := len(beats) - len(truth.Beats); d < -2 || d > 1 {
		t.Errorf("%d beats streamed, %d true", len(beats), len(truth.Beats))
	}
	for i := 1; i < len(beats); i++ {
		if beats[i].Sample <= beats[i-1].Sample {
			t.Fatalf("beats not increasing at %d: %v", i, beats[i-1:i+1])
		}
	}
	if !slices.Contains(rhythms, "asystole") {
		t.Errorf("rhythm changes %v lack asystole", rhythms)
	}
	// The final state is saved and the alert stored.
	r, err := f.store.Record(t.Context(), "ecg_stream", "amb-7")
	if err != nil {
		t.Fatal(err)
	}
	var st api.StreamState
	json.Unmarshal(r.Body, &st)
	if st.Status != "ended" || st.NextSeq != seq || st.Samples != int64(n) || st.Beats != int64(len(beats)) {
		t.Errorf("saved state: status %s next %d samples %d beats %d", st.Status, st.NextSeq, st.Samples, st.Beats)
	}
	if rs := f.records(t, "alert"); len(rs) != alerts {
		t.Errorf("%d alerts stored, %d sent", len(rs), alerts)
	}
}

func TestECGStreamGapAndResume(t *testing.T) {
	f := newECGFixture(t, api.AlertHubConfig{})
	leads, truth := synth(250, []string{"II"}, sinusSeg(24))
	tok := f.token(t, api.RoleECG)
	start := map[string]any{"type": "start", "stream_id": "clinic-3", "rate_hz": 250, "leads": []string{"II"}}
	c := f.dialStream(t, tok)
	col := collect(c)
	sendJSON(t, c, start)
	col.wait(t, "started", func(e api.StreamEvent) bool { return e.Type == "started" })
	// 10 s in 1 s chunks, chunk 4 lost: a signal_quality event, not an error.
	for seq := int64(0); seq < 10; seq++ {
		if seq == 4 {
			continue
		}
		m := chunkMsg(seq, leads, int(seq)*250, int(seq+1)*250)
		m["start"] = seq * 250
		sendJSON(t, c, m)
	}
	evs := col.wait(t, "missing", func(e api.StreamEvent) bool { return e.Quality == "missing" })
	for _, e := range evs {
		if e.Type == "error" {
			t.Errorf("a lost chunk is not an error: %+v", e)
		}
		if e.Quality == "missing" && (e.Code != "signal_quality" || *e.Seq != 5) {
			t.Errorf("gap event %+v", e)
		}
	}
	// A second connection for the same stream is refused while the first holds it.
	c2 := f.dialStream(t, tok)
	col2 := collect(c2)
	sendJSON(t, c2, start)
	if evs := col2.wait(t, "error", func(e api.StreamEvent) bool { return e.Type == "error" }); evs[0].Error.Code != clinic.CodeConflict {
		t.Errorf("second connection: %+v", evs[0])
	}
	c.Close(websocket.StatusGoingAway, "network lost")
	// The device reconnects and resumes where the server stopped.
	deadline := time.Now().Add(time.Minute)
	var c3 *websocket.Conn
	var col3 *collector
	var next int64
	for {
		c3 = f.dialStream(t, tok)
		col3 = collect(c3)
		sendJSON(t, c3, start)
		evs := col3.wait(t, "started or error", func(e api.StreamEvent) bool { return e.Type == "started" || e.Type == "error" })
		if e := evs[0]; e.Type == "started" {
			next = *e.NextSeq
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("could not resume the stream")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if next != 10 {
		t.Fatalf("resumed at %d, want 10", next)
	}
	for seq := next; seq < 24; seq++ {
		sendJSON(t, c3, chunkMsg(seq, leads, int(seq)*250, int(seq+1)*250))
	}
	sendJSON(t, c3, map[string]any{"type": "end"})
	evs = col3.wait(t, "ended", func(e api.StreamEvent) bool { return e.Type == "ended" })
	var after []int64
	for _, e := range evs {
		for _, b := range e.Beats {
			after = append(after, b.Sample)
		}
	}
	var want int
	for _, b := range truth.Beats {
		if b.Sample > 10*250+125 {
			want++
		}
	}
	if len(after) < want-1 || len(after) > want+2 || after[0] < 10*250-125 {
		t.Errorf("after resuming: %d beats from sample %v, want about %d after 2500", len(after), after[:min(3, len(after))], want)
	}
}

// ---- the queued (NATS) path, without a broker ----

func TestHandleChunkSharesStreamsBetweenReplicas(t *testing.T) {
	f := newECGFixture(t, api.AlertHubConfig{})
	// A second replica: its own analyser cache, the same store and hub.
	other, err := api.NewECG(api.ECGConfig{Store: f.store, Alerts: f.hub})
	if err != nil {
		t.Fatal(err)
	}
	replicas := []*api.ECG{f.ecg, other}
	ctx := t.Context()
	leads, truth := asystoleRecord()
	msg := func(v any) []byte { b, _ := json.Marshal(v); return b }
	start := msg(map[string]any{"type": "start", "rate_hz": 250, "leads": []string{"II", "V1"}})
	chunk := func(seq int) []byte { return msg(chunkMsg(int64(seq), leads, seq*250, (seq+1)*250)) }

	if err := f.ecg.HandleChunk(ctx, "q1", chunk(0)); clinic.ErrorCode(err) != clinic.CodeNotFound {
		t.Fatalf("chunk before start: %v", err)
	}
	if err := f.ecg.HandleChunk(ctx, "q1", start); err != nil {
		t.Fatal(err)
	}
	if err := other.HandleChunk(ctx, "q1", start); err != nil {
		t.Fatalf("redelivered start: %v", err)
	}
	nchunks := len(leads[0]) / 250
	for seq := range nchunks {
		// Replicas alternate in runs of three; every chunk is delivered twice.
		r := replicas[(seq/3)%2]
		if err := r.HandleChunk(ctx, "q1", chunk(seq)); err != nil {
			t.Fatalf("chunk %d: %v", seq, err)
		}
		if err := replicas[(seq/3+1)%2].HandleChunk(ctx, "q1", chunk(seq)); err != nil {
			t.Fatalf("duplicate chunk %d: %v", seq, err)
		}
		if seq+2 < nchunks {
			if err := r.HandleChunk(ctx, "q1", chunk(seq+2)); clinic.ErrorCode(err) != clinic.CodeConflict {
				t.Fatalf("early chunk %d: %v, want conflict", seq+2, err)
			}
		}
	}
	if err := other.HandleChunk(ctx, "q1", msg(map[string]any{"type": "end", "seq": nchunks})); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{[]byte("{"), msg(map[string]any{"type": "chunk", "seq": 0, "samples": [][]float32{{1}}, "stream_id": "other"})} {
		if err := f.ecg.HandleChunk(ctx, "q1", bad); clinic.ErrorCode(err) != clinic.CodeInvalid {
			t.Errorf("bad message %q: %v", bad, err)
		}
	}
	r, _ := f.store.Record(ctx, "ecg_stream", "q1")
	var st api.StreamState
	json.Unmarshal(r.Body, &st)
	if st.Status != "ended" || st.NextSeq != int64(nchunks) {
		t.Fatalf("state %s at %d", st.Status, st.NextSeq)
	}
	if d := int(st.Beats) - len(truth.Beats); d < -2 || d > 2 {
		t.Errorf("%d beats over two replicas, %d true", st.Beats, len(truth.Beats))
	}
	alerts := f.records(t, "alert")
	if len(alerts) != 1 {
		t.Errorf("%d alerts stored, want the one pause", len(alerts))
	}
}

// ---- decoder ----

func TestDecodeStreamMessage(t *testing.T) {
	bin := api.EncodeBinaryChunk(nil, 7, 1000, [][]float32{{0.5, -1.25, float32(nan())}, {0, 0.001, 40}})
	tests := []struct {
		name  string
		in    []byte
		field string // "" = valid
	}{
		{"start", []byte(`{"type":"start","stream_id":"a-1","rate_hz":500,"leads":["I","II"]}`), ""},
		{"chunk", []byte(`{"type":"chunk","seq":0,"samples":[[0.1,0.2],[0.3,0.4]]}`), ""},
		{"end", []byte(`{"type":"end"}`), ""},
		{"binary", bin, ""},
		{"start without leads", []byte(`{"type":"start","rate_hz":500}`), "rate_hz"},
		{"rate outside range", []byte(`{"type":"start","rate_hz":50,"leads":["I"]}`), "rate_hz"},
		{"bad stream id", []byte(`{"type":"start","stream_id":"a.b>","rate_hz":500,"leads":["I"]}`), "stream_id"},
		{"unknown type", []byte(`{"type":"hello"}`), "type"},
		{"unknown field", []byte(`{"type":"end","x":1}`), "x"},
		{"chunk without seq", []byte(`{"type":"chunk","samples":[[1]]}`), "seq"},
		{"negative seq", []byte(`{"type":"chunk","seq":-1,"samples":[[1]]}`), "seq"},
		{"ragged", []byte(`{"type":"chunk","seq":0,"samples":[[1,2],[1]]}`), "samples"},
		{"huge value", []byte(`{"type":"chunk","seq":0,"samples":[[1e9]]}`), "samples"},
		{"too many leads", []byte(`{"type":"chunk","seq":0,"samples":[` + strings.Repeat("[1],", 16) + `[1]]}`), "samples"},
		{"trailing data", []byte(`{"type":"end"}{}`), "message"},
		{"binary short", bin[:10], "message"},
		{"binary length mismatch", bin[:len(bin)-2], "samples"},
		{"binary version", append([]byte("EC\x02"), bin[3:]...), "version"},
		{"binary no leads", append([]byte("EC\x01\x00"), bin[4:]...), "leads"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := api.DecodeStreamMessage(tc.in)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var ce *clinic.Error
			if !errors.As(err, &ce) || ce.Code != clinic.CodeInvalid || ce.Field != tc.field || ce.MessageZH == "" {
				t.Fatalf("error %#v (message %+v), want invalid on %s", err, m, tc.field)
			}
		})
	}
	m, _ := api.DecodeStreamMessage(bin)
	if *m.Seq != 7 || *m.Start != 1000 || m.Samples[0][1] != -1.25 || m.Samples[1][1] != 0.001 || m.Samples[0][2] == m.Samples[0][2] {
		t.Errorf("binary round trip: %+v", m)
	}
}

func nan() float64 { var z float64; return z / z }

func FuzzDecodeStreamMessage(f *testing.F) {
	f.Add([]byte(`{"type":"start","stream_id":"a","rate_hz":500,"leads":["I"]}`))
	f.Add([]byte(`{"type":"chunk","seq":3,"start":10,"samples":[[0.1,0.2]]}`))
	f.Add(api.EncodeBinaryChunk(nil, 1, -1, [][]float32{{1, 2, 3}}))
	f.Add([]byte("EC\x01\x01\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00\x00\x00\x80"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := api.DecodeStreamMessage(data)
		if err != nil {
			if clinic.ErrorCode(err) != clinic.CodeInvalid && clinic.ErrorCode(err) != clinic.CodeTooLarge {
				t.Fatalf("error code %s: %v", clinic.ErrorCode(err), err)
			}
			return
		}
		// A valid chunk is well formed: a seq, 1–16 equal leads of 1–4096 samples.
		if m.Type == api.MsgChunk {
			if m.Seq == nil || *m.Seq < 0 || len(m.Samples) == 0 || len(m.Samples) > 16 {
				t.Fatalf("accepted chunk %+v", m)
			}
			for _, l := range m.Samples {
				if len(l) != len(m.Samples[0]) || len(l) == 0 || len(l) > api.MaxChunkSamples {
					t.Fatalf("accepted ragged chunk")
				}
			}
		}
	})
}

// BenchmarkStreamWebSocket measures the device WebSocket path end to end
// (encode, send, decode, analyse, answer, periodic state saves to SQLite):
// one device sending 12 leads at 500 Hz in 250 ms binary chunks over
// loopback, timed until the server has analysed the last chunk.
func BenchmarkStreamWebSocket(b *testing.B) {
	f := newBenchFixture(b)
	leads, _ := ecgsynth.Generate(ecgsynth.Config{RateHz: 500, Leads: twelveLeads, Seed: 1, NoiseMV: 0.02,
		Segments: []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 60, RateBPM: 75}}})
	c := f.dialStream(b, f.benchToken)
	ctx := context.Background()
	closed := make(chan struct{})
	go func() { // drain the server's answers until it closes
		defer close(closed)
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	}()
	b1, _ := json.Marshal(map[string]any{"type": "start", "stream_id": "bench", "rate_hz": 500, "leads": twelveLeads})
	c.Write(ctx, websocket.MessageText, b1)
	const step = 125
	n := len(leads[0])
	part := make([][]float32, len(leads))
	var buf []byte
	seq := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		off := (seq * step) % (n - step)
		for l := range leads {
			part[l] = leads[l][off : off+step]
		}
		buf = api.EncodeBinaryChunk(buf[:0], uint32(seq), -1, part)
		if err := c.Write(ctx, websocket.MessageBinary, buf); err != nil {
			b.Fatal(err)
		}
		seq++
	}
	// The last chunk is analysed when the server answers the end message.
	end, _ := json.Marshal(map[string]any{"type": "end"})
	c.Write(ctx, websocket.MessageText, end)
	select {
	case <-closed:
	case <-time.After(time.Minute):
		b.Fatal("the server did not finish the stream")
	}
	b.StopTimer()
	el := b.Elapsed().Seconds()
	b.ReportMetric(float64(seq)/el, "chunks/s")
	b.ReportMetric(float64(seq*step)/el/500, "x_realtime_12lead")
}

var twelveLeads = []string{"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"}

type benchFixture struct {
	*fixture
	benchToken string
}

func newBenchFixture(b *testing.B) *benchFixture {
	b.Helper()
	bf := &benchFixture{}
	st, tokens := openStore(b), testTokens(b)
	hub, err := api.NewAlertHub(api.AlertHubConfig{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { hub.Close() })
	e, err := api.NewECG(api.ECGConfig{Store: st, Alerts: hub})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := api.New(api.Config{Store: st, Tokens: tokens, Features: []api.Feature{e}})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)
	bf.fixture = &fixture{srv: srv, ts: ts, store: st, tokens: tokens}
	bf.benchToken, _, _ = tokens.Issue("bench", api.RoleECG, "", time.Hour)
	return bf
}
