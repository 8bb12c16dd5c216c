// Command loadtest drives kiosk triage sessions against a running
// `yizhu serve` over HTTP and reports the latency of every turn (create
// and each answer, the SSE event read in full) and the server's memory per
// idle session. It uses only the public API: an anonymous kiosk token from
// POST /v1/auth/kiosk, the triage routes and GET /metrics.
//
//	go run ./internal/loadtest -url http://127.0.0.1:8080 -sessions 200 -think 1s
//
// -sessions sessions run at once for -duration, each starting a new
// session when it finishes; -think is the pause before each answer (0 =
// closed loop: the next request as soon as the last answer arrives).
// -idle N then opens N sessions left waiting on their first question and
// reports the change in the server's heap (go_memstats_heap_inuse_bytes)
// and resident memory per session. scripts/loadtest-triage.sh starts a
// server and runs both.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type turn struct {
	Kind     string `json:"kind"`
	Question *struct {
		ID string `json:"id"`
	} `json:"question"`
}

type session struct {
	ID   string `json:"id"`
	Turn turn   `json:"turn"`
}

// complaints cycle over the sessions: routine, follow-up-heavy and a few
// red flags, Chinese and English.
var complaints = []string{
	"肚子痛两天", "咳嗽三天，有黄痰", "头痛，失眠一个月", "膝盖疼半年", "胃胀反酸", "I have had a rash on my arm for a week",
	"发烧两天，嗓子痛", "尿频尿痛两天", "头晕，心慌", "胸口痛一小时，出冷汗", "腰痛三天", "cough and fever for 3 days",
}

type client struct {
	base  string
	token string
	http  *http.Client
}

func (c *client) post(ctx context.Context, path string, body any) ([]byte, int, time.Duration, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, 0, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+path, bytes.NewReader(raw))
	if err != nil {
		return nil, 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return b, resp.StatusCode, time.Since(start), err
}

// sseTurn decodes the data line of a one-event SSE body.
func sseTurn(b []byte) (turn, error) {
	var t turn
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			return t, json.Unmarshal([]byte(v), &t)
		}
	}
	return t, errors.New("no data line")
}

type stats struct {
	mu       sync.Mutex
	lat      []time.Duration
	errs     atomic.Int64
	sessions atomic.Int64
	firstErr atomic.Value
}

func (s *stats) fail(err error) {
	s.errs.Add(1)
	s.firstErr.CompareAndSwap(nil, err.Error())
}

// run plays one session to its end; it returns false when ctx ended.
func (c *client) run(ctx context.Context, i int, think time.Duration, st *stats) bool {
	var mine []time.Duration
	defer func() {
		st.mu.Lock()
		st.lat = append(st.lat, mine...)
		st.mu.Unlock()
	}()
	age := 20 + i%60
	b, code, d, err := c.post(ctx, "/v1/triage/sessions", map[string]any{"text": complaints[i%len(complaints)], "age": age})
	if ctx.Err() != nil {
		return false
	}
	if err != nil || code != http.StatusCreated {
		st.fail(fmt.Errorf("create: status %d err %v: %.200s", code, err, b))
		return true
	}
	mine = append(mine, d)
	var s session
	if err := json.Unmarshal(b, &s); err != nil {
		st.fail(err)
		return true
	}
	t := s.Turn
	for n := 0; t.Kind == "question" && t.Question != nil && n < 8; n++ {
		if think > 0 {
			select {
			case <-time.After(think):
			case <-ctx.Done():
				return false
			}
		}
		ans := map[string]string{"question_id": t.Question.ID, "choice": "no"}
		if t.Question.ID == "rephrase" {
			ans = map[string]string{"question_id": "rephrase", "text": "头痛两天"}
		}
		b, code, d, err := c.post(ctx, "/v1/triage/sessions/"+s.ID+"/messages", ans)
		if ctx.Err() != nil {
			return false
		}
		if err != nil || code != http.StatusOK {
			st.fail(fmt.Errorf("answer: status %d err %v: %.200s", code, err, b))
			return true
		}
		mine = append(mine, d)
		if t, err = sseTurn(b); err != nil {
			st.fail(err)
			return true
		}
	}
	st.sessions.Add(1)
	return true
}

// scrape reads the server's Prometheus text: series (name with labels) →
// value.
func (c *client) scrape(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// triageRoutes are the routes one turn hits.
var triageRoutes = []string{`route="/v1/triage/sessions"`, `route="/v1/triage/sessions/:id/messages"`}

// serverQuantile estimates quantile q of the server-side latency of the
// triage routes between two scrapes, from the request-duration histogram:
// the upper bound (seconds) of the first bucket holding q of the requests.
func serverQuantile(before, after map[string]float64, q float64) (float64, bool) {
	const name = "yizhu_http_request_duration_seconds_bucket{"
	buckets := map[float64]float64{}
	for k, v := range after {
		if !strings.HasPrefix(k, name) || !slices.ContainsFunc(triageRoutes, func(r string) bool { return strings.Contains(k, r) }) {
			continue
		}
		_, le, ok := strings.Cut(k, `le="`)
		if !ok {
			continue
		}
		le = strings.TrimSuffix(strings.TrimSuffix(le, "}"), `"`)
		bound, err := strconv.ParseFloat(le, 64)
		if err != nil {
			continue
		}
		buckets[bound] += v - before[k]
	}
	bounds := make([]float64, 0, len(buckets))
	for b := range buckets {
		bounds = append(bounds, b)
	}
	slices.Sort(bounds)
	if len(bounds) == 0 || buckets[bounds[len(bounds)-1]] == 0 {
		return 0, false
	}
	total := buckets[bounds[len(bounds)-1]] // the +Inf bucket
	for _, b := range bounds {
		if buckets[b] >= q*total {
			return b, true
		}
	}
	return 0, false
}

// fileSize is the size of a SQLite database with its WAL ("" = 0).
func fileSize(path string) int64 {
	if path == "" {
		return 0
	}
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func pct(lat []time.Duration, p float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
}

func main() {
	if err := realMain(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func realMain() error {
	base := flag.String("url", "http://127.0.0.1:8080", "server base URL")
	sessions := flag.Int("sessions", 200, "concurrent sessions")
	think := flag.Duration("think", time.Second, "pause before each answer (0 = closed loop)")
	duration := flag.Duration("duration", 30*time.Second, "how long to run")
	idle := flag.Int("idle", 0, "then open this many idle sessions and report memory per session")
	asJSON := flag.Bool("json", false, "print the result as JSON")
	dbPath := flag.String("db", "", "the server's SQLite file, to report database bytes per idle session")
	flag.Parse()
	if *sessions < 1 || *sessions > 10000 || *idle < 0 || *idle > 1000000 {
		return errors.New("sessions must be 1–10000 and idle 0–1000000")
	}
	c := &client{base: strings.TrimRight(*base, "/"),
		http: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: *sessions + 16, MaxConnsPerHost: *sessions + 16}}}
	b, code, _, err := c.post(context.Background(), "/v1/auth/kiosk", struct{}{})
	if err != nil || code != http.StatusCreated {
		return fmt.Errorf("kiosk token: status %d err %v: %.200s", code, err, b)
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(b, &tok); err != nil {
		return err
	}
	c.token = tok.Token

	res := map[string]any{"sessions": *sessions, "think_s": think.Seconds(), "duration_s": duration.Seconds()}
	m0, err := c.scrape(context.Background())
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	st := &stats{}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range *sessions {
		wg.Go(func() {
			if *think > 0 { // stagger the starts over one think time
				select {
				case <-time.After(time.Duration(w) * *think / time.Duration(*sessions)):
				case <-ctx.Done():
					return
				}
			}
			for i := w; c.run(ctx, i, *think, st); i += *sessions {
			}
		})
	}
	wg.Wait()
	cancel()
	elapsed := time.Since(start)
	slices.Sort(st.lat)
	res["turns"] = len(st.lat)
	res["finished_sessions"] = st.sessions.Load()
	res["errors"] = st.errs.Load()
	if e, ok := st.firstErr.Load().(string); ok {
		res["first_error"] = e
	}
	res["turns_per_s"] = float64(len(st.lat)) / elapsed.Seconds()
	res["p50_ms"], res["p90_ms"], res["p99_ms"] = pct(st.lat, .5), pct(st.lat, .9), pct(st.lat, .99)
	if len(st.lat) > 0 {
		res["max_ms"] = float64(st.lat[len(st.lat)-1].Microseconds()) / 1000
	}
	m1, err := c.scrape(context.Background())
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if len(st.lat) > 0 {
		// CPU the server process spent per turn: independent of how busy
		// the machine (and this load generator) is.
		res["server_cpu_ms_per_turn"] = (m1["process_cpu_seconds_total"] - m0["process_cpu_seconds_total"]) * 1000 / float64(len(st.lat))
	}
	for _, q := range []float64{.5, .99} {
		if v, ok := serverQuantile(m0, m1, q); ok {
			res[fmt.Sprintf("server_p%02.0f_ms_at_most", q*100)] = v * 1000
		}
	}

	if *idle > 0 {
		bg := context.Background()
		time.Sleep(2 * time.Second) // let the server's GC settle after the run
		b0, err := c.scrape(bg)
		if err != nil {
			return err
		}
		db0 := fileSize(*dbPath)
		var ok atomic.Int64
		sem := make(chan struct{}, 32)
		var iw sync.WaitGroup
		for i := range *idle {
			sem <- struct{}{}
			iw.Go(func() {
				defer func() { <-sem }()
				_, code, _, err := c.post(bg, "/v1/triage/sessions", map[string]any{"text": complaints[i%len(complaints)], "age": 30 + i%40})
				if err == nil && code == http.StatusCreated {
					ok.Add(1)
				}
			})
		}
		iw.Wait()
		time.Sleep(2 * time.Second) // let the server's GC settle
		b1, err := c.scrape(bg)
		if err != nil {
			return err
		}
		n := float64(ok.Load())
		res["idle_sessions"] = ok.Load()
		if n > 0 {
			// Sessions live in the store, not in the server's memory: the
			// heap delta is GC noise around zero; the database grows.
			res["heap_bytes_per_idle_session"] = (b1["go_memstats_heap_inuse_bytes"] - b0["go_memstats_heap_inuse_bytes"]) / n
			res["rss_bytes_per_idle_session"] = (b1["process_resident_memory_bytes"] - b0["process_resident_memory_bytes"]) / n
			if *dbPath != "" {
				res["db_bytes_per_idle_session"] = float64(fileSize(*dbPath)-db0) / n
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	keys := make([]string, 0, len(res))
	for k := range res {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Printf("%-30s %v\n", k, res[k])
	}
	if st.errs.Load() > 0 {
		return fmt.Errorf("%d errors", st.errs.Load())
	}
	return nil
}
