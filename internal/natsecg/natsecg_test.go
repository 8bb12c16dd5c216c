package natsecg_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yizhu-health/yizhu/api"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/inference/ecg/ecgsynth"
	"github.com/yizhu-health/yizhu/internal/natsecg"
	"github.com/yizhu-health/yizhu/store"
	"github.com/yizhu-health/yizhu/store/sqlite"
)

// Test server: a nats-server binary on PATH is started on a free port with
// JetStream and a temporary store; otherwise YIZHU_TEST_NATS_URL (default
// nats://127.0.0.1:4222) is used when it answers. With neither the tests
// skip, or fail when YIZHU_REQUIRE_NATS=1.
const (
	envURL     = "YIZHU_TEST_NATS_URL"
	envRequire = "YIZHU_REQUIRE_NATS"
)

func natsURL(t *testing.T) string {
	t.Helper()
	if bin, err := exec.LookPath("nats-server"); err == nil {
		return startServer(t, bin)
	}
	u := os.Getenv(envURL)
	if u == "" {
		u = "nats://127.0.0.1:4222"
	}
	nc, err := nats.Connect(u, nats.Timeout(2*time.Second))
	if err == nil {
		nc.Close()
		return u
	}
	msg := fmt.Sprintf("no nats-server on PATH and %s=%s does not answer (%v): install nats-server (Debian package) to run this test", envURL, u, err)
	if os.Getenv(envRequire) == "1" {
		t.Fatal(msg + " (" + envRequire + "=1 requires it)")
	}
	t.Skip(msg)
	return ""
}

func startServer(t *testing.T, bin string) string {
	t.Helper()
	dir := t.TempDir()
	// Port -1: the server takes a free port itself and writes it to a
	// ports file in dir, so that no other process can take the port in
	// between, as it could one found free here and handed on.
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", "-1", "-js", "-sd", filepath.Join(dir, "js"), "--ports_file_dir", dir)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case <-exited:
			t.Fatalf("nats-server exited at start: %v", waitErr)
		default:
		}
		u, err := serverURL(dir)
		if err == nil {
			var nc *nats.Conn
			if nc, err = nats.Connect(u, nats.Timeout(10*time.Second)); err == nil {
				js, _ := jetstream.New(nc)
				_, err = js.AccountInfo(t.Context())
				nc.Close()
				if err == nil {
					return u
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serverURL returns the client URL from the ports file that nats-server
// writes into dir once it listens.
func serverURL(dir string) (string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.ports"))
	if err != nil || len(files) != 1 {
		return "", fmt.Errorf("ports files in %s: %q (%v)", dir, files, err)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		return "", err
	}
	var ports struct {
		Nats []string `json:"nats"`
	}
	if err := json.Unmarshal(b, &ports); err != nil || len(ports.Nats) == 0 {
		return "", fmt.Errorf("ports file %s: %q (%v)", files[0], b, err)
	}
	return ports.Nats[0], nil
}

// ackWait is the replicas' AckWait, the delay before a message that was
// not acknowledged is redelivered (a crashed replica's, in the crash test).
// Half of it bounds one Handler call, and it runs from the delivery, time
// spent queued in the replica included: a shorter one lets a loaded machine
// redeliver (or time out and retry) a message that is being handled, which
// the tests that count deliveries would take for a fault.
const ackWait = 10 * time.Second

// maxDeliver is the replicas' MaxDeliver. A message that waits for an
// earlier one is redelivered every RetryDelay (20 ms here), each time
// counted, and one published after a replica crashed waits for the
// crashed replica's messages for all of ackWait: the default 200
// deliveries could run out first, and the message be dropped.
const maxDeliver = 100_000

// replica is one service instance: its own ECG analysers and NATS
// connection, sharing the store (the database) with the others.
type replica struct {
	ecg  *api.ECG
	conn *nats.Conn
	cons *natsecg.Consumer
	n    atomic.Int32 // messages handled
}

type env struct {
	url   string
	store store.Store
	hub   *api.AlertHub
}

func newEnv(t *testing.T) *env {
	t.Helper()
	u := natsURL(t)
	st, err := sqlite.Open(t.Context(), sqlite.Config{Path: filepath.Join(t.TempDir(), "y.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hub, err := api.NewAlertHub(api.AlertHubConfig{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Close() })
	return &env{url: u, store: st, hub: hub}
}

// start runs a replica; wrap, when set, wraps its handler.
func (e *env) start(t *testing.T, name string, wrap func(r *replica, h natsecg.Handler) natsecg.Handler) *replica {
	t.Helper()
	ecg, err := api.NewECG(api.ECGConfig{Store: e.store, Alerts: e.hub})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := natsecg.Connect(e.url, name, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{ecg: ecg, conn: nc}
	var h natsecg.Handler = natsecg.HandlerFunc(func(ctx context.Context, id string, data []byte) error {
		r.n.Add(1)
		return ecg.HandleChunk(ctx, id, data)
	})
	if wrap != nil {
		h = wrap(r, h)
	}
	r.cons, err = natsecg.Start(t.Context(), natsecg.Config{Conn: nc, Handler: h, AckWait: ackWait,
		RetryDelay: 20 * time.Millisecond, Workers: 3, MaxDeliver: maxDeliver})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.cons.Close()
		nc.Close()
	})
	return r
}

// jetStream opens a JetStream context on a connection of its own, closed
// when the test ends.
func (e *env) jetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(e.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// waitPulling waits until n pull requests wait on the replicas' shared
// consumer. A replica asks for messages in the background after Start, so
// without this a publish right after Start could all go to the replicas
// that asked first.
func (e *env) waitPulling(t *testing.T, n int) {
	t.Helper()
	js := e.jetStream(t)
	cons, err := js.Consumer(t.Context(), natsecg.DefaultStream, natsecg.DefaultDurable)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		waiting := 0
		info, err := cons.Info(t.Context())
		if err == nil {
			waiting = info.NumWaiting
		}
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pull requests wait on the consumer, want %d (%v)", waiting, n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// publish sends stream id: start, 1 s chunks, end.
func (e *env) publish(t *testing.T, id string, leads [][]float32, rate int) int {
	t.Helper()
	js := e.jetStream(t)
	send := func(v any) {
		b, _ := json.Marshal(v)
		if _, err := js.Publish(t.Context(), natsecg.Subject("", id), b); err != nil {
			t.Fatal(err)
		}
	}
	names := []string{"II", "V1"}[:len(leads)]
	send(map[string]any{"type": "start", "stream_id": id, "rate_hz": rate, "leads": names})
	n := len(leads[0]) / rate
	for seq := range n {
		s := make([][]float32, len(leads))
		for l := range leads {
			s[l] = leads[l][seq*rate : (seq+1)*rate]
		}
		if seq%2 == 1 {
			if _, err := js.Publish(t.Context(), natsecg.Subject("", id), api.EncodeBinaryChunk(nil, uint32(seq), int64(seq*rate), s)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		send(map[string]any{"type": "chunk", "seq": seq, "samples": s})
	}
	send(map[string]any{"type": "end", "seq": n})
	return n
}

func (e *env) state(t *testing.T, id string) (api.StreamState, bool) {
	t.Helper()
	r, err := e.store.Record(t.Context(), "ecg_stream", id)
	if err != nil {
		return api.StreamState{}, false
	}
	var st api.StreamState
	if err := json.Unmarshal(r.Body, &st); err != nil {
		t.Fatal(err)
	}
	return st, true
}

// waitEnded waits until every stream's saved state is ended.
func (e *env) waitEnded(t *testing.T, ids ...string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for _, id := range ids {
		for {
			if st, ok := e.state(t, id); ok && st.Status == "ended" {
				break
			}
			if time.Now().After(deadline) {
				st, _ := e.state(t, id)
				t.Fatalf("stream %s not ended: %+v", id, st.NextSeq)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func synth(seed uint64, segs ...ecgsynth.Segment) ([][]float32, ecgsynth.Truth) {
	return ecgsynth.Generate(ecgsynth.Config{RateHz: 250, Leads: []string{"II", "V1"}, Seed: seed, NoiseMV: 0.01, Segments: segs})
}

func sinus(s float64) ecgsynth.Segment {
	return ecgsynth.Segment{Kind: ecgsynth.Sinus, Seconds: s, RateBPM: 72}
}

func TestReplicasShareStreams(t *testing.T) {
	e := newEnv(t)
	a := e.start(t, "replica-a", nil)
	e.waitPulling(t, 1)
	b := e.start(t, "replica-b", nil)
	e.waitPulling(t, 2)
	type stream struct {
		id     string
		truth  ecgsynth.Truth
		n      int
		alerts int
	}
	var streams []stream
	for i := range 6 {
		segs := []ecgsynth.Segment{sinus(16)}
		alerts := 0
		if i == 0 {
			segs = []ecgsynth.Segment{sinus(10), {Kind: ecgsynth.Asystole, Seconds: 5}, sinus(6)}
			alerts = 1
		}
		leads, truth := synth(uint64(i+1), segs...)
		id := fmt.Sprintf("amb-%d", i)
		streams = append(streams, stream{id: id, truth: truth, n: e.publish(t, id, leads, 250), alerts: alerts})
	}
	for _, s := range streams {
		e.waitEnded(t, s.id)
		st, _ := e.state(t, s.id)
		if st.NextSeq != int64(s.n) || st.Samples != int64(s.n*250) {
			t.Errorf("%s: next %d samples %d, want %d chunks", s.id, st.NextSeq, st.Samples, s.n)
		}
		if d := int(st.Beats) - len(s.truth.Beats); d < -2 || d > 2 {
			t.Errorf("%s: %d beats, %d true", s.id, st.Beats, len(s.truth.Beats))
		}
		rs, _ := e.store.ListRecords(t.Context(), store.RecordFilter{Kind: "alert", Subject: s.id})
		if len(rs) != s.alerts {
			var ids []string
			for _, r := range rs {
				ids = append(ids, r.ID)
			}
			t.Errorf("%s: alerts %v, want %d", s.id, ids, s.alerts)
		}
	}
	na, nb := a.n.Load(), b.n.Load()
	t.Logf("replica a handled %d messages, b %d", na, nb)
	if na == 0 || nb == 0 {
		t.Errorf("one replica did all the work: a %d, b %d", na, nb)
	}
}

func TestCrashBeforeAckIsRedelivered(t *testing.T) {
	for _, tc := range []struct {
		name      string
		saveFirst bool // the replica saved the state, then died before acknowledging
	}{
		{"died before saving", false},
		{"died after saving", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			const crashSeq = 3
			var crashed atomic.Bool
			var mu sync.Mutex
			deliveries := map[string]int{} // who handled the crash chunk
			crashing := func(r *replica, h natsecg.Handler) natsecg.Handler {
				return natsecg.HandlerFunc(func(ctx context.Context, id string, data []byte) error {
					if crashed.Load() {
						return errors.New("dead") // a dead process handles nothing more
					}
					m, _ := api.DecodeStreamMessage(data)
					if m.Type == api.MsgChunk && *m.Seq == crashSeq && !crashed.Load() {
						crashed.Store(true)
						mu.Lock()
						deliveries["a"]++
						mu.Unlock()
						var err error
						if tc.saveFirst {
							err = h.HandleChunk(ctx, id, data)
						}
						r.conn.Close() // the process dies: no acknowledgement leaves it
						return err
					}
					return h.HandleChunk(ctx, id, data)
				})
			}
			e.start(t, "replica-a", crashing)
			// Everything goes to a until it dies.
			leads, truth := synth(9, sinus(12))
			n := e.publish(t, "crash-1", leads, 250)
			deadline := time.Now().Add(time.Minute)
			for !crashed.Load() {
				if time.Now().After(deadline) {
					t.Fatal("replica a never got the chunk")
				}
				time.Sleep(20 * time.Millisecond)
			}
			b := e.start(t, "replica-b", func(r *replica, h natsecg.Handler) natsecg.Handler {
				return natsecg.HandlerFunc(func(ctx context.Context, id string, data []byte) error {
					if m, _ := api.DecodeStreamMessage(data); m.Type == api.MsgChunk && *m.Seq == crashSeq {
						mu.Lock()
						deliveries["b"]++
						mu.Unlock()
					}
					return h.HandleChunk(ctx, id, data)
				})
			})
			e.waitEnded(t, "crash-1")
			st, _ := e.state(t, "crash-1")
			if st.NextSeq != int64(n) || st.Samples != int64(n*250) {
				t.Errorf("next %d samples %d, want %d chunks", st.NextSeq, st.Samples, n)
			}
			if d := int(st.Beats) - len(truth.Beats); d < -2 || d > 2 {
				t.Errorf("%d beats, %d true: a chunk was lost or counted twice", st.Beats, len(truth.Beats))
			}
			mu.Lock()
			defer mu.Unlock()
			if deliveries["a"] != 1 || deliveries["b"] != 1 {
				t.Errorf("crash chunk handled by %v, want once by a and, redelivered, once by b", deliveries)
			}
			if b.n.Load() == 0 {
				t.Error("replica b handled nothing")
			}
		})
	}
}

// TestWaitingMessageIsNotDropped: while the first message of a stream
// keeps failing (a dependency down), the next one waits, redelivered every
// RetryDelay. However many deliveries that takes, it must be handled once
// the first one succeeds; a delivery bound would have dropped it.
func TestWaitingMessageIsNotDropped(t *testing.T) {
	u := natsURL(t)
	nc, err := natsecg.Connect(u, "waiting", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	const atLeast = 400 // waits of the second message: beyond JetStream's usual bounds
	var waits atomic.Int64
	var firstDone atomic.Bool
	done := make(chan string, 2)
	h := natsecg.HandlerFunc(func(ctx context.Context, id string, data []byte) error {
		switch string(data) {
		case "1":
			if waits.Load() < atLeast {
				return errors.New("database unavailable")
			}
			firstDone.Store(true)
		case "2":
			if !firstDone.Load() {
				waits.Add(1)
				return clinic.NewError(clinic.CodeConflict, "", "waits for message 1", "等待消息 1")
			}
		default:
			return clinic.NewError(clinic.CodeInvalid, "", "unexpected message", "意外的消息")
		}
		done <- string(data)
		return nil
	})
	cons, err := natsecg.Start(t.Context(), natsecg.Config{Conn: nc, Handler: h, Stream: "WAITING", Subject: "waiting.chunks",
		Durable: "waiting", RetryDelay: time.Millisecond, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cons.Close() })
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"1", "2"} {
		if _, err := js.Publish(t.Context(), "waiting.chunks.s1", []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	timeout := time.After(2 * time.Minute)
	for _, want := range []string{"1", "2"} {
		select {
		case got := <-done:
			if got != want {
				t.Fatalf("handled %q, want %q first", got, want)
			}
		case <-timeout:
			t.Fatalf("message %s not handled (the second waited %d times)", want, waits.Load())
		}
	}
	if n := waits.Load(); n < atLeast {
		t.Fatalf("the second message waited %d times, want at least %d", n, atLeast)
	}
}
