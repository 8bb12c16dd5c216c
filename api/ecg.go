package api

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing/fstest"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/inference/ecg"
	"github.com/yizhu-health/yizhu/inference/ecg/wfdb"
	"github.com/yizhu-health/yizhu/store"
)

// Record kinds of the ECG feature.
const (
	ecgRecordKind = "ecg_record" // the report and metadata of an upload
	ecgSignalKind = "ecg_signal" // its samples, for the waveform
)

// ECGConfig configures the ECG feature.
type ECGConfig struct {
	// Store keeps uploads, stream states and (through Alerts) alerts.
	// Required.
	Store store.Store
	// Alerts persists and fans out critical values. Required; the caller
	// closes it.
	Alerts *AlertHub
	Logger *slog.Logger
	Now    func() time.Time
	// Rules is the critical-value rule set (nil: the ECG core's default).
	Rules *ecg.Rules
	// MainsHz is the powerline frequency suppressed when a stream or
	// upload does not name one: 50 (default) or 60.
	MainsHz float64
	// MaxUploadBytes bounds an upload (default 16 MiB).
	MaxUploadBytes int64
	// TailSeconds of signal are kept in a stream's saved state so that
	// another replica can rebuild its analyser (default 5).
	TailSeconds float64
	// CheckpointEvery is how often a WebSocket stream saves its state
	// (default 2 s); NATS streams save after every chunk.
	CheckpointEvery time.Duration
	// OriginPatterns are the extra origins allowed to open a stream
	// WebSocket from a browser (the server's own origin always is).
	OriginPatterns []string
}

// ECG is the ECG feature: record uploads with their pre-read report and
// waveform, live streams over WebSocket (and, through HandleChunk, from
// NATS JetStream), an ECG monitor feed, and the alert endpoints of its
// AlertHub. It is safe for concurrent use.
type ECG struct {
	cfg ECGConfig
	log *slog.Logger
	now func() time.Time
	hub *AlertHub
	mon *monitor

	mu       sync.Mutex
	sessions map[string]*session    // WebSocket streams connected to this replica
	nats     map[string]*natsStream // queued streams this replica analysed
}

// NewECG returns the ECG feature.
func NewECG(cfg ECGConfig) (*ECG, error) {
	if cfg.Store == nil || cfg.Alerts == nil {
		return nil, clinic.Errorf(clinic.CodeInvalid, "api.NewECG: Store and Alerts are required")
	}
	if cfg.MainsHz == 0 {
		cfg.MainsHz = 50
	}
	if cfg.MainsHz != 50 && cfg.MainsHz != 60 {
		return nil, clinic.NewError(clinic.CodeInvalid, "mains_hz", "mains frequency must be 50 or 60 Hz", "工频须为 50 或 60 Hz")
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 16 << 20
	}
	if cfg.TailSeconds <= 0 {
		cfg.TailSeconds = 5
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = 2 * time.Second
	}
	if cfg.Rules == nil {
		r, err := ecg.DefaultRules()
		if err != nil {
			return nil, err
		}
		cfg.Rules = r
	}
	e := &ECG{cfg: cfg, log: cfg.Logger, now: cfg.Now, hub: cfg.Alerts, mon: newMonitor(),
		sessions: map[string]*session{}, nats: map[string]*natsStream{}}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	return e, nil
}

var (
	ecgUploaders = []Role{RoleECG, RoleDoctor}
	ecgReaders   = []Role{RoleECG, RoleDoctor}
	ecgDevices   = []Role{RoleECG}
)

// Routes lists the ECG and alert endpoints.
func (e *ECG) Routes() []Route {
	rs := []Route{
		{Method: "POST", Path: "/v1/ecg/records", Roles: ecgUploaders, Handler: e.upload, Tag: "ecg",
			Summary: "Upload an ECG record — multipart/form-data with a WFDB header (.hea) and its signal files (.dat/.mat), or a CSV file " +
				"(one column per lead in mV, with form field rate_hz); or application/json {rate_hz, leads:[{name, samples}]} — optional fields sex (M|F), age, " +
				"encounter_id, mains_hz. The record, its pre-read report and its critical alerts are stored in one transaction before the answer.",
			Request: ECGUploadJSON{}, Response: ECGRecordResponse{}, BodyLimit: e.cfg.MaxUploadBytes},
		{Method: "GET", Path: "/v1/ecg/records/:id", Roles: ecgReaders, Handler: e.getRecord, Tag: "ecg",
			Summary: "An uploaded record's pre-read report (audited PHI access).", Response: ECGRecordResponse{}},
		{Method: "GET", Path: "/v1/ecg/records/:id/waveform.svg", Roles: ecgReaders, Handler: e.waveform, Tag: "ecg",
			Summary:     "The record's leads drawn at 25 mm/s and 10 mm/mV with beat labels, findings and alerts marked.",
			ContentType: "image/svg+xml",
			Query:       map[string]string{"from": "start time in seconds (default 0)", "seconds": "length in seconds (default 10, at most 60)"}},
		{Method: "GET", Path: "/v1/ecg/streams", Roles: ecgDevices, Handler: e.streamWS, Tag: "ecg", Stream: true,
			Summary: "WebSocket for a device's live ECG: the device sends a start message, then chunks with sequence numbers (JSON or the binary form), " +
				"then end; the server answers started, beats, rhythm, quality (signal_quality), alert and error messages."},
		{Method: "GET", Path: "/v1/ecg/monitor", Roles: ecgReaders, Handler: e.monitorSSE, Tag: "ecg", Stream: true,
			Summary:  "Server-sent events for ECG monitors: streams (the active list), samples (display lead ≤ 250 Hz), beats, rhythm, quality, alert, started, ended.",
			Response: StreamEvent{}, ContentType: "text/event-stream"},
	}
	return append(rs, e.hub.Routes()...)
}

// ECGUploadJSON is the JSON form of an upload.
type ECGUploadJSON struct {
	RateHz      float64         `json:"rate_hz" validate:"required,gte=125,lte=1000"`
	Leads       []ECGUploadLead `json:"leads" validate:"required,min=1,max=16,dive"`
	Sex         string          `json:"sex,omitempty" validate:"omitempty,oneof=M F"`
	AgeYears    *int            `json:"age,omitempty" validate:"omitempty,min=0,max=150"`
	EncounterID string          `json:"encounter_id,omitempty" validate:"omitempty,max=64"`
	MainsHz     float64         `json:"mains_hz,omitempty" validate:"omitempty,oneof=50 60"`
}

// ECGUploadLead is one lead of a JSON upload, in mV.
type ECGUploadLead struct {
	Name    string    `json:"name" validate:"required,max=16"`
	Samples []float32 `json:"samples" validate:"required,min=1"`
}

// ECGRecordResponse is a stored upload: its pre-read report (a draft for
// the reading doctor) and the critical alerts it raised.
type ECGRecordResponse struct {
	ID          string     `json:"id"`
	Format      string     `json:"format"` // wfdb | csv | json
	Name        string     `json:"name,omitempty"`
	EncounterID string     `json:"encounter_id,omitempty"`
	UploadedBy  string     `json:"uploaded_by"`
	CreatedAt   time.Time  `json:"created_at"`
	Report      ecg.Report `json:"report"`
	Alerts      []ECGAlert `json:"alerts"`
}

// ecgSignal is the stored signal of an upload: int16 µV, lead by lead.
type ecgSignal struct {
	RateHz float64  `json:"rate_hz"`
	Leads  []string `json:"leads"`
	N      int      `json:"n"`
	Data   []byte   `json:"data"`
}

// upload is everything decoded from an upload request.
type upload struct {
	rec     ecg.Record
	format  string
	name    string
	enc     string
	mainsHz float64
}

func (e *ECG) upload(c echo.Context) error {
	req := c.Request()
	// Read the whole body first: an upload cut off mid-way fails here,
	// before anything is written.
	body, err := io.ReadAll(req.Body)
	if err != nil {
		if he, ok := errors.AsType[*echo.HTTPError](err); ok {
			return he
		}
		return clinic.Wrap(err, clinic.CodeInvalid, "the upload was interrupted", "上传中断，未保存任何内容")
	}
	ct, params, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	var up upload
	switch ct {
	case "multipart/form-data":
		up, err = decodeMultipart(body, params["boundary"])
	case "application/json", "":
		up, err = decodeJSONUpload(c, body)
	default:
		return clinic.NewError(clinic.CodeInvalid, "content-type", "send multipart/form-data (WFDB or CSV files) or application/json",
			"请以 multipart/form-data（WFDB 或 CSV 文件）或 application/json 上传")
	}
	if err != nil {
		return err
	}
	if up.mainsHz == 0 {
		up.mainsHz = e.cfg.MainsHz
	}
	id := newSessionID()
	up.rec.ID = id
	rep, err := ecg.AnalyzeWith(req.Context(), up.rec, ecg.Config{MainsHz: up.mainsHz, Rules: e.cfg.Rules, Clock: e.now})
	if err != nil {
		return err
	}
	uploader, _ := caller(c)
	resp := ECGRecordResponse{ID: id, Format: up.format, Name: up.name, EncounterID: up.enc, UploadedBy: uploader,
		CreatedAt: e.now().UTC(), Report: rep, Alerts: []ECGAlert{}}
	for _, a := range rep.Alerts {
		resp.Alerts = append(resp.Alerts, newAlert(a, id, 0, up.rec.RateHz))
	}
	sig := encodeSignal(up.rec)
	recBody, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("api.ECG.upload: %w", err)
	}
	sigBody, err := json.Marshal(sig)
	if err != nil {
		return fmt.Errorf("api.ECG.upload: %w", err)
	}
	var fresh []ECGAlert
	err = e.cfg.Store.InTx(req.Context(), func(ctx context.Context, tx store.Store) error {
		if err := tx.PutRecord(ctx, &store.Record{Kind: ecgRecordKind, ID: id, Subject: up.enc, Body: recBody}); err != nil {
			return err
		}
		if err := tx.PutRecord(ctx, &store.Record{Kind: ecgSignalKind, ID: id, Subject: up.enc, Body: sigBody}); err != nil {
			return err
		}
		fresh = fresh[:0]
		for _, a := range resp.Alerts {
			ok, err := e.hub.Save(ctx, tx, a)
			if err != nil {
				return err
			}
			if ok {
				fresh = append(fresh, a)
			}
		}
		_, err := tx.AppendAudit(ctx, AuditEntryFor(c, "ecg.upload", "ecg:"+id, map[string]any{
			"format": up.format, "leads": len(up.rec.Leads), "samples": up.rec.Len(), "rate_hz": up.rec.RateHz,
			"critical": rep.Critical, "alerts": len(resp.Alerts), "engine": "inference/ecg"}))
		return err
	})
	if err != nil {
		return err
	}
	for _, a := range fresh {
		e.hub.Announce(a)
	}
	e.log.InfoContext(req.Context(), "ecg record analysed", "record_id", id, "format", up.format,
		"beats", len(rep.Beats), "critical", rep.Critical)
	return c.JSON(http.StatusCreated, resp)
}

func decodeJSONUpload(c echo.Context, body []byte) (upload, error) {
	var in ECGUploadJSON
	if err := DecodeStrict(body, &in); err != nil {
		return upload{}, err
	}
	if err := ValidateStruct(c.Echo().Validator, &in); err != nil {
		return upload{}, err
	}
	rec := ecg.Record{RateHz: in.RateHz, AgeYears: -1, Sex: clinic.Sex(in.Sex)}
	if in.AgeYears != nil {
		rec.AgeYears = *in.AgeYears
	}
	for _, l := range in.Leads {
		rec.Leads = append(rec.Leads, ecg.Lead{Name: l.Name, Samples: l.Samples})
	}
	if err := rec.Validate(); err != nil {
		return upload{}, err
	}
	return upload{rec: rec, format: "json", enc: in.EncounterID, mainsHz: in.MainsHz}, nil
}

// maxUploadFiles bounds the parts of a multipart upload.
const maxUploadFiles = 32

// decodeMultipart reads a WFDB record (one .hea and the signal files it
// names) or a CSV file from a multipart body.
func decodeMultipart(body []byte, boundary string) (upload, error) {
	bad := func(en, zh string) (upload, error) {
		return upload{}, clinic.NewError(clinic.CodeInvalid, "file", en, zh)
	}
	if boundary == "" {
		return bad("multipart upload without a boundary", "multipart 上传缺少 boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	files := fstest.MapFS{}
	fields := map[string]string{}
	var hea, csvName string
	for n := 0; ; n++ {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return bad("malformed multipart body", "multipart 内容格式错误")
		}
		if n >= maxUploadFiles {
			return bad("too many parts in the upload", "上传的文件过多")
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return bad("malformed multipart body", "multipart 内容格式错误")
		}
		fn := p.FileName()
		if fn == "" {
			if len(data) > 256 {
				return bad("form field "+p.FormName()+" is too long", "表单字段过长")
			}
			fields[p.FormName()] = strings.TrimSpace(string(data))
			continue
		}
		fn = path.Base(strings.ReplaceAll(fn, "\\", "/"))
		if fn == "." || fn == "/" || fn == ".." {
			return bad("bad file name", "文件名无效")
		}
		files[fn] = &fstest.MapFile{Data: data}
		switch strings.ToLower(path.Ext(fn)) {
		case ".hea":
			if hea != "" {
				return bad("upload one record: more than one .hea file", "一次只能上传一个记录（多个 .hea 文件）")
			}
			hea = fn
		case ".csv":
			csvName = fn
		}
	}
	up := upload{enc: fields["encounter_id"]}
	if len(up.enc) > 64 {
		return bad("encounter_id is too long", "encounter_id 过长")
	}
	var w *wfdb.Record
	var err error
	switch {
	case hea != "":
		up.format = "wfdb"
		w, err = wfdb.ReadRecord(files, hea)
	case csvName != "":
		up.format = "csv"
		rate, perr := strconv.ParseFloat(fields["rate_hz"], 64)
		if perr != nil {
			return upload{}, clinic.NewError(clinic.CodeInvalid, "rate_hz", "a CSV upload needs the form field rate_hz", "CSV 上传须提供 rate_hz 字段")
		}
		w, err = wfdb.ReadCSV(bytes.NewReader(files[csvName].Data), strings.TrimSuffix(csvName, path.Ext(csvName)), rate)
	default:
		return bad("the upload has neither a .hea nor a .csv file", "上传内容中没有 .hea 或 .csv 文件")
	}
	if err != nil {
		if clinic.ErrorCode(err) == clinic.CodeNotFound {
			return upload{}, &clinic.Error{Code: clinic.CodeInvalid, Field: "file", Err: err,
				Message: "a signal file named in the header is missing from the upload", MessageZH: "上传缺少头文件所列的信号文件"}
		}
		return upload{}, err
	}
	if up.rec, err = ecg.FromWFDB(w); err != nil {
		return upload{}, err
	}
	up.name = w.Name
	switch fields["sex"] {
	case "":
	case "M", "F":
		up.rec.Sex = clinic.Sex(fields["sex"])
	default:
		return upload{}, clinic.NewError(clinic.CodeInvalid, "sex", "sex must be M or F", "性别须为 M 或 F")
	}
	if s := fields["age"]; s != "" {
		age, err := strconv.Atoi(s)
		if err != nil || age < 0 || age > 150 {
			return upload{}, clinic.NewError(clinic.CodeInvalid, "age", "age must be 0 to 150", "年龄须为 0–150")
		}
		up.rec.AgeYears = age
	}
	if s := fields["mains_hz"]; s != "" {
		switch s {
		case "50", "60":
			up.mainsHz, _ = strconv.ParseFloat(s, 64)
		default:
			return upload{}, clinic.NewError(clinic.CodeInvalid, "mains_hz", "mains_hz must be 50 or 60", "工频须为 50 或 60")
		}
	}
	return up, nil
}

func encodeSignal(rec ecg.Record) ecgSignal {
	s := ecgSignal{RateHz: rec.RateHz, N: rec.Len(), Data: make([]byte, 0, 2*rec.Len()*len(rec.Leads))}
	for _, l := range rec.Leads {
		s.Leads = append(s.Leads, l.Name)
		for _, v := range l.Samples {
			s.Data = binary.LittleEndian.AppendUint16(s.Data, uint16(toMicrovolt(v)))
		}
	}
	return s
}

// lookupRecord returns a stored upload, or not_found.
func (e *ECG) lookupRecord(ctx context.Context, id string) (ECGRecordResponse, error) {
	out, _, err := loadJSON[ECGRecordResponse](ctx, e.cfg.Store, ecgRecordKind, id, "no such ECG record", "心电记录不存在")
	return out, err
}

func (e *ECG) getRecord(c echo.Context) error {
	ctx := c.Request().Context()
	out, err := e.lookupRecord(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if _, err := e.cfg.Store.AppendAudit(ctx, AuditEntryFor(c, "ecg.read", "ecg:"+out.ID, nil)); err != nil {
		return fmt.Errorf("api.ECG: audit: %w", err)
	}
	return c.JSON(http.StatusOK, out)
}

func (e *ECG) waveform(c echo.Context) error {
	ctx := c.Request().Context()
	rec, err := e.lookupRecord(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	from, secs := 0.0, 10.0
	if s := c.QueryParam("from"); s != "" {
		if from, err = strconv.ParseFloat(s, 64); err != nil || !(from >= 0 && from < 1e7) {
			return clinic.NewError(clinic.CodeInvalid, "from", "from must be a time in seconds ≥ 0", "from 须为不小于 0 的秒数")
		}
	}
	if s := c.QueryParam("seconds"); s != "" {
		if secs, err = strconv.ParseFloat(s, 64); err != nil || !(secs > 0 && secs <= 60) {
			return clinic.NewError(clinic.CodeInvalid, "seconds", "seconds must be more than 0 and at most 60", "seconds 须大于 0 且不超过 60")
		}
	}
	sig, _, err := loadJSON[ecgSignal](ctx, e.cfg.Store, ecgSignalKind, rec.ID, "", "")
	if err != nil {
		return err
	}
	if len(sig.Data) != 2*sig.N*len(sig.Leads) {
		return fmt.Errorf("api.ECG: signal %s: %d bytes for %d×%d samples", rec.ID, len(sig.Data), len(sig.Leads), sig.N)
	}
	if _, err := e.cfg.Store.AppendAudit(ctx, AuditEntryFor(c, "ecg.read", "ecg:"+rec.ID, map[string]any{"view": "waveform"})); err != nil {
		return fmt.Errorf("api.ECG: audit: %w", err)
	}
	var buf bytes.Buffer
	drawWaveform(&buf, sig, rec, from, secs)
	c.Response().Header().Set(echo.HeaderCacheControl, "private, no-store")
	return c.Blob(http.StatusOK, "image/svg+xml; charset=utf-8", buf.Bytes())
}

// ---- streams ----

// streamSource names where a stream's chunks come from.
const (
	sourceWebSocket = "websocket"
	sourceNATS      = "nats"
)

// maxStreamErrors is how many bad messages a WebSocket stream may send
// before it is closed.
const maxStreamErrors = 50

func (e *ECG) streamWS(c echo.Context) error {
	conn, err := websocket.Accept(c.Response(), c.Request(), &websocket.AcceptOptions{OriginPatterns: e.cfg.OriginPatterns})
	if err != nil {
		return nil // Accept answered the client
	}
	defer conn.CloseNow()
	conn.SetReadLimit(MaxStreamMessageBytes)
	owner, _ := caller(c)
	ws := &wsStream{e: e, conn: conn, owner: owner}
	reason := ws.run(c.Request().Context())
	ws.close(context.WithoutCancel(c.Request().Context()))
	conn.Close(websocket.StatusNormalClosure, reason)
	return nil
}

// wsStream is one device connection.
type wsStream struct {
	e         *ECG
	conn      *websocket.Conn
	owner     string
	s         *session
	errors    int
	lastSaved time.Time
	out       []StreamEvent
}

// run reads messages until the stream ends or the connection drops and
// returns the close reason.
func (w *wsStream) run(ctx context.Context) string {
	for {
		_, data, err := w.conn.Read(ctx)
		if err != nil {
			return "closed"
		}
		w.out = w.out[:0]
		done, err := w.handle(ctx, data)
		if err != nil {
			w.errors++
			ed := errorDetail(err)
			if werr := w.send(ctx, []StreamEvent{{Type: "error", Error: &ed}}); werr != nil {
				return "closed"
			}
			if w.errors >= maxStreamErrors || clinic.ErrorCode(err) == clinic.CodeInternal || clinic.ErrorCode(err) == clinic.CodeUnavailable {
				return "too many errors"
			}
			continue
		}
		if err := w.send(ctx, w.out); err != nil {
			return "closed"
		}
		if done {
			return "stream ended"
		}
	}
}

// errorDetail is the bilingual error of a stream message.
func errorDetail(err error) ErrorDetail {
	_, body := errorResponse(err)
	return body.Error
}

func (w *wsStream) send(ctx context.Context, evs []StreamEvent) error {
	for _, ev := range evs {
		if ev.Type == "samples" {
			continue // the device has its own samples
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = w.conn.Write(wctx, websocket.MessageText, b)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// handle processes one message; done is true after an end message.
func (w *wsStream) handle(ctx context.Context, data []byte) (done bool, err error) {
	m, err := DecodeStreamMessage(data)
	if err != nil {
		return false, err
	}
	e := w.e
	switch m.Type {
	case MsgStart:
		if w.s != nil {
			return false, invalidChunk("type", "the stream is already started", "心电流已开始")
		}
		s, err := e.startStream(ctx, m, sourceWebSocket, w.owner)
		if err != nil {
			return false, err
		}
		w.s, w.lastSaved = s, e.now()
		next := s.st.NextSeq
		w.out = append(w.out, StreamEvent{Type: "started", StreamID: s.st.ID, NextSeq: &next, RateHz: s.st.RateHz})
		e.mon.setActive(s.view())
		e.mon.publish([]StreamEvent{{Type: "started", StreamID: s.st.ID, RateHz: s.st.RateHz, Lead: s.st.Leads[s.dispLead]}})
		return false, nil
	case MsgChunk:
		if w.s == nil {
			return false, invalidChunk("type", "send a start message before chunks", "请先发送开始消息")
		}
		res, out, alerts, err := w.s.apply(m, false, w.out)
		w.out = out
		if err != nil {
			return false, err
		}
		if res == duplicate {
			return false, invalidChunk("seq", fmt.Sprintf("chunk %d is out of order or repeated (expected %d)", *m.Seq, w.s.st.NextSeq),
				fmt.Sprintf("数据块 %d 顺序错误或重复（应为 %d）", *m.Seq, w.s.st.NextSeq))
		}
		for _, a := range alerts {
			if _, err := e.hub.Raise(ctx, a); err != nil {
				return false, err
			}
		}
		if e.mon.watching() {
			e.mon.publish(w.out)
		}
		if now := e.now(); now.Sub(w.lastSaved) >= e.cfg.CheckpointEvery {
			w.lastSaved = now
			if err := e.checkpoint(ctx, w.s); err != nil {
				return false, err
			}
			e.mon.setActive(w.s.view())
		}
		return false, nil
	default: // MsgEnd
		if w.s == nil {
			return true, nil
		}
		out, alerts := w.s.finish(w.out)
		w.out = out
		for _, a := range alerts {
			if _, err := e.hub.Raise(ctx, a); err != nil {
				return false, err
			}
		}
		if err := e.checkpoint(ctx, w.s); err != nil {
			return false, err
		}
		w.out = append(w.out, StreamEvent{Type: "ended", StreamID: w.s.st.ID})
		return true, nil
	}
}

// close saves the final state of the connection's stream.
func (w *wsStream) close(ctx context.Context) {
	if w.s == nil {
		return
	}
	e := w.e
	st := w.s.st
	if st.Status == "active" {
		// The device went away without an end message: the state stays
		// resumable (a new connection with the same stream_id continues).
		w.s.st.Status = "disconnected"
		if err := e.checkpoint(ctx, w.s); err != nil {
			e.log.ErrorContext(ctx, "save ecg stream state", "stream_id", st.ID, "err", err)
		}
	}
	e.mu.Lock()
	delete(e.sessions, st.ID)
	e.mu.Unlock()
	e.mon.setActive(w.s.view())
	e.mon.publish([]StreamEvent{{Type: "ended", StreamID: st.ID}})
}

// checkpoint saves a WebSocket stream's state.
func (e *ECG) checkpoint(ctx context.Context, s *session) error {
	return e.cfg.Store.InTx(ctx, func(ctx context.Context, tx store.Store) error {
		_, err := e.saveState(ctx, tx, s, nil)
		return err
	})
}

// startStream opens a stream for a start message: a new one, or the
// continuation of a saved stream with the same ID and configuration that
// no connection of this replica holds.
func (e *ECG) startStream(ctx context.Context, m StreamMessage, source, owner string) (*session, error) {
	id := m.StreamID
	if id == "" {
		id = "s" + newSessionID()[:20]
	}
	e.mu.Lock()
	_, busy := e.sessions[id]
	if !busy {
		e.sessions[id] = nil // reserved
	}
	e.mu.Unlock()
	if busy {
		return nil, clinic.NewError(clinic.CodeConflict, "stream_id", "the stream is already connected", "该心电流已在连接中")
	}
	s, err := e.openSession(ctx, m, id, source, owner)
	e.mu.Lock()
	if err != nil {
		delete(e.sessions, id)
	} else {
		e.sessions[id] = s
	}
	e.mu.Unlock()
	return s, err
}

func (e *ECG) openSession(ctx context.Context, m StreamMessage, id, source, owner string) (*session, error) {
	st, version, err := e.loadState(ctx, id)
	switch {
	case err == nil:
		if !sameConfig(st, m) {
			return nil, clinic.NewError(clinic.CodeConflict, "stream_id", "a stream with this ID exists with other leads or rate", "同名心电流的导联或采样率不同")
		}
		if st.Status == "ended" {
			return nil, clinic.NewError(clinic.CodeConflict, "stream_id", "the stream has ended; start a new one", "该心电流已结束，请新建")
		}
		st.Status, st.Source = "active", source
		return newSession(st, version, e.cfg.TailSeconds, e.cfg.MainsHz, e.cfg.Rules, e.now)
	case clinic.ErrorCode(err) != clinic.CodeNotFound:
		return nil, err
	}
	st = stateFromStart(m, id, source, owner, e.now())
	s, err := newSession(st, 0, e.cfg.TailSeconds, e.cfg.MainsHz, e.cfg.Rules, e.now)
	if err != nil {
		return nil, err
	}
	err = e.cfg.Store.InTx(ctx, func(ctx context.Context, tx store.Store) error {
		if _, err := e.saveState(ctx, tx, s, nil); err != nil {
			return err
		}
		raw, _ := json.Marshal(map[string]any{"source": source, "leads": len(st.Leads), "rate_hz": st.RateHz})
		_, err := tx.AppendAudit(ctx, store.AuditEntry{Actor: ownerOr(owner), Role: string(RoleECG), Action: "ecg.stream.start",
			Subject: "ecg_stream:" + id, Detail: raw})
		return err
	})
	if clinic.ErrorCode(err) == clinic.CodeConflict {
		return nil, clinic.NewError(clinic.CodeConflict, "stream_id", "the stream was just started elsewhere; reconnect to resume it", "该心电流刚在别处开始，请重连以续传")
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func ownerOr(s string) string {
	if s == "" {
		return "device"
	}
	return s
}

func (e *ECG) monitorSSE(c echo.Context) error {
	ch, active, cancel := e.mon.subscribe()
	defer cancel()
	return serveSSE(c, func(send sseSend) error {
		if err := send("streams", StreamEvent{Type: "streams", Streams: active}); err != nil {
			return nil
		}
		return relaySSE(c.Request().Context(), send, ch, func(ev StreamEvent) (string, any) { return ev.Type, ev })
	})
}

// ---- NATS ----

// HandleChunk analyses one message of stream id delivered by a message
// queue (NATS JetStream) and returns once the stream's state, with every
// alert it raised, is saved — so the caller may acknowledge the message.
// Any replica may be handed any message: the saved state is the point of
// truth, and the analyser is rebuilt from it when another replica moved
// the stream on. It returns nil for a message already analysed (a
// redelivery), a conflict *clinic.Error when the message must wait for an
// earlier one (retry later), not_found for a chunk of a stream not started
// yet (retry later), invalid for a message that can never be analysed,
// and other errors when saving failed (retry).
func (e *ECG) HandleChunk(ctx context.Context, id string, data []byte) error {
	if !ValidStreamID(id) {
		return invalidChunk("stream_id", "stream_id must be 1–64 letters, digits, _ or -", "stream_id 须为 1–64 位字母、数字、_ 或 -")
	}
	m, err := DecodeStreamMessage(data)
	if err != nil {
		return err
	}
	if m.StreamID != "" && m.StreamID != id {
		return invalidChunk("stream_id", "the message names another stream than its subject", "消息中的 stream_id 与主题不符")
	}
	s := e.natsSession(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m.Type {
	case MsgStart:
		return e.natsStart(ctx, s, id, m)
	case MsgEnd:
		return e.natsEnd(ctx, s, id, m)
	}
	if err := e.natsSync(ctx, s, id); err != nil {
		return err
	}
	if s.ended {
		if *m.Seq < s.s.st.NextSeq {
			return nil // a redelivered chunk of a finished stream
		}
		return invalidChunk("seq", "chunk after the end of the stream", "心电流结束后的数据块")
	}
	res, out, alerts, err := s.s.apply(m, true, nil)
	if err != nil {
		if clinic.ErrorCode(err) != clinic.CodeInvalid {
			s.s = nil
		}
		return err
	}
	switch res {
	case duplicate:
		return nil
	case ahead:
		return clinic.NewError(clinic.CodeConflict, "seq", fmt.Sprintf("chunk %d waits for chunk %d", *m.Seq, s.s.st.NextSeq),
			fmt.Sprintf("数据块 %d 须等待数据块 %d", *m.Seq, s.s.st.NextSeq))
	}
	if err := e.natsSave(ctx, s, alerts); err != nil {
		return err
	}
	if e.mon.watching() {
		e.mon.publish(out)
	}
	return nil
}

// natsSave stores the state of ns's analyser with its new alerts in one
// transaction, announces the alerts stored for the first time and shows
// the stream's progress to the monitor. When saving fails the analyser has
// moved on without a saved state, so it is dropped, to be rebuilt from the
// store by the next message.
func (e *ECG) natsSave(ctx context.Context, ns *natsStream, alerts []ECGAlert) error {
	var fresh []ECGAlert
	err := e.cfg.Store.InTx(ctx, func(ctx context.Context, tx store.Store) error {
		var err error
		fresh, err = e.saveState(ctx, tx, ns.s, alerts)
		return err
	})
	if err != nil {
		ns.s = nil
		return err
	}
	for _, a := range fresh {
		e.hub.Announce(a)
	}
	e.mon.setActive(ns.s.view())
	return nil
}

// natsStream is this replica's cached analyser of a queued stream.
type natsStream struct {
	mu    sync.Mutex
	s     *session // nil: rebuild from the saved state before use
	ended bool
}

// maxNATSStreams bounds the analysers one replica caches.
const maxNATSStreams = 4096

// natsSession returns the cache entry of stream id (maybe empty). The
// cache holds at most maxNATSStreams entries; an idle one is dropped first.
func (e *ECG) natsSession(id string) *natsStream {
	e.mu.Lock()
	defer e.mu.Unlock()
	ns, ok := e.nats[id]
	if !ok {
		if len(e.nats) >= maxNATSStreams {
			for k, v := range e.nats {
				if v.mu.TryLock() {
					delete(e.nats, k)
					v.mu.Unlock()
					break
				}
			}
		}
		ns = &natsStream{}
		e.nats[id] = ns
	}
	return ns
}

// natsSync makes ns's analyser current with the saved state: the cached
// analyser is kept while its version is the stored one (another replica
// did not move the stream on); otherwise it is rebuilt from the store.
func (e *ECG) natsSync(ctx context.Context, ns *natsStream, id string) error {
	st, version, err := e.loadState(ctx, id)
	if clinic.ErrorCode(err) == clinic.CodeNotFound {
		return clinic.NewError(clinic.CodeNotFound, "stream_id", "no start message for this stream yet", "该心电流尚无开始消息")
	}
	if err != nil {
		return err
	}
	if ns.s != nil && ns.s.version == version {
		return nil
	}
	ns.ended = st.Status == "ended"
	tail := e.cfg.TailSeconds
	if ns.ended {
		st.Tail, tail = nil, 0 // nothing more to analyse
	}
	s, err := newSession(st, version, tail, e.cfg.MainsHz, e.cfg.Rules, e.now)
	if err != nil {
		return err
	}
	ns.s = s
	return nil
}

func (e *ECG) natsStart(ctx context.Context, s *natsStream, id string, m StreamMessage) error {
	st, _, err := e.loadState(ctx, id)
	if err == nil {
		if !sameConfig(st, m) {
			return clinic.NewError(clinic.CodeInvalid, "stream_id", "a stream with this ID exists with other leads or rate", "同名心电流的导联或采样率不同")
		}
		return nil // a redelivered start
	}
	if clinic.ErrorCode(err) != clinic.CodeNotFound {
		return err
	}
	st = stateFromStart(m, id, sourceNATS, "", e.now())
	inner, err := newSession(st, 0, e.cfg.TailSeconds, e.cfg.MainsHz, e.cfg.Rules, e.now)
	if err != nil {
		return err
	}
	err = e.cfg.Store.InTx(ctx, func(ctx context.Context, tx store.Store) error {
		if _, err := e.saveState(ctx, tx, inner, nil); err != nil {
			return err
		}
		raw, _ := json.Marshal(map[string]any{"source": sourceNATS, "leads": len(st.Leads), "rate_hz": st.RateHz})
		_, err := tx.AppendAudit(ctx, store.AuditEntry{Actor: "device", Role: string(RoleECG), Action: "ecg.stream.start",
			Subject: "ecg_stream:" + id, Detail: raw})
		return err
	})
	if clinic.ErrorCode(err) == clinic.CodeConflict {
		return nil // another replica stored the same start
	}
	if err != nil {
		return err
	}
	s.s, s.ended = inner, false
	e.mon.setActive(inner.view())
	e.mon.publish([]StreamEvent{{Type: "started", StreamID: id, RateHz: st.RateHz, Lead: st.Leads[inner.dispLead]}})
	return nil
}

// natsEnd finishes a stream. An end message with seq (the number of
// chunks sent) waits until every chunk before it is analysed.
func (e *ECG) natsEnd(ctx context.Context, s *natsStream, id string, m StreamMessage) error {
	st, _, err := e.loadState(ctx, id)
	if err != nil {
		if clinic.ErrorCode(err) == clinic.CodeNotFound {
			return clinic.NewError(clinic.CodeNotFound, "stream_id", "no start message for this stream yet", "该心电流尚无开始消息")
		}
		return err
	}
	if st.Status == "ended" {
		return nil
	}
	if err := e.natsSync(ctx, s, id); err != nil {
		return err
	}
	if m.Seq != nil && *m.Seq > s.s.st.NextSeq {
		return clinic.NewError(clinic.CodeConflict, "seq", fmt.Sprintf("end waits for chunk %d", s.s.st.NextSeq),
			fmt.Sprintf("结束消息须等待数据块 %d", s.s.st.NextSeq))
	}
	out, alerts := s.s.finish(nil)
	if err := e.natsSave(ctx, s, alerts); err != nil {
		return err
	}
	s.ended = true
	e.mon.publish(append(out, StreamEvent{Type: "ended", StreamID: id}))
	return nil
}
