// Package natsecg consumes live ECG streams from NATS JetStream: devices
// (or a gateway in front of them) publish the messages of stream ID on the
// subject <prefix>.<ID>, and every replica of the service pulls from one
// shared durable consumer, so the replicas share the streams between them.
//
// A message is acknowledged only after its Handler returned nil, which the
// ECG feature does once the stream's analysis state is saved; a replica
// that dies before acknowledging leaves the message to be redelivered
// (after AckWait) to another replica, which finds the saved state and goes
// on. Messages of one stream are handled in order within a replica (one
// worker per stream, chosen by hashing the ID); across replicas the
// handler's saved state decides (an early chunk is retried later).
// Deliveries are not counted against a message: one lives until it is
// handled, dropped as invalid, or older than the stream's MaxAge.
//
// The message format is the ECG feature's stream message (JSON or the
// binary chunk form, see api.StreamMessage).
package natsecg

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yizhu-health/yizhu/clinic"
)

// Handler analyses one message of a stream. It returns nil when the
// message is done with (analysed and saved, or a repeat of one that was);
// an invalid or too_large *clinic.Error when the message can never be
// analysed (it is dropped); a conflict or not_found *clinic.Error when it
// must wait for an earlier message (it is retried after RetryDelay); any
// other error when it failed for now (retried with backoff).
type Handler interface {
	HandleChunk(ctx context.Context, streamID string, data []byte) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, streamID string, data []byte) error

// HandleChunk calls f.
func (f HandlerFunc) HandleChunk(ctx context.Context, streamID string, data []byte) error {
	return f(ctx, streamID, data)
}

// Defaults.
const (
	DefaultStream  = "YIZHU_ECG"
	DefaultSubject = "yizhu.ecg.chunks"
	DefaultDurable = "yizhu-ecg"
)

// Config configures a Consumer.
type Config struct {
	// Conn is the NATS connection (required); the caller closes it after
	// the Consumer.
	Conn    *nats.Conn
	Handler Handler // required
	Logger  *slog.Logger
	// Stream is the JetStream stream (default YIZHU_ECG), created as a
	// work queue on Subject.> if it does not exist.
	Stream string
	// Subject is the subject prefix (default yizhu.ecg.chunks); stream ID
	// is the subject's last token.
	Subject string
	// Durable names the consumer all replicas share (default yizhu-ecg).
	Durable string
	// AckWait is how long a delivered message may go unacknowledged
	// before it is redelivered (default 30 s); HandleTimeout bounds one
	// Handler call (default AckWait/2).
	AckWait       time.Duration
	HandleTimeout time.Duration
	// MaxDeliver bounds the deliveries of one message; 0 (the default)
	// leaves them unbounded, so that a message lives until it is handled,
	// dropped as invalid, or older than MaxAge. A bound counts every
	// redelivery of a message that waits for an earlier one (one every
	// RetryDelay), so while an earlier message keeps failing — the
	// database down for a minute — the later ones would run out and be
	// lost although nothing is wrong with them.
	MaxDeliver int
	// Workers is the number of concurrent handlers per replica (default 4).
	Workers int
	// RetryDelay is the redelivery delay of a message that waits for an
	// earlier one (default 200 ms); failures back off from it, doubling,
	// up to 30 s.
	RetryDelay time.Duration
	// MaxAge bounds how long an unconsumed message is kept (default 1 h).
	MaxAge time.Duration
}

// Consumer pulls stream messages and hands them to the Handler. Close it
// to stop.
type Consumer struct {
	cfg     Config
	log     *slog.Logger
	cc      jetstream.ConsumeContext
	work    []chan jetstream.Msg
	wg      sync.WaitGroup
	ctx     context.Context // cancelled by Close; bounds the handlers
	cancel  context.CancelFunc
	closeMu sync.Once
}

// Start creates the stream and the durable consumer if needed and starts
// consuming. ctx bounds the set-up only.
func Start(ctx context.Context, cfg Config) (*Consumer, error) {
	if cfg.Conn == nil || cfg.Handler == nil {
		return nil, clinic.Errorf(clinic.CodeInvalid, "natsecg.Start: Conn and Handler are required")
	}
	if cfg.Stream == "" {
		cfg.Stream = DefaultStream
	}
	if cfg.Subject == "" {
		cfg.Subject = DefaultSubject
	}
	if cfg.Durable == "" {
		cfg.Durable = DefaultDurable
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 30 * time.Second
	}
	if cfg.HandleTimeout <= 0 || cfg.HandleTimeout >= cfg.AckWait {
		cfg.HandleTimeout = cfg.AckWait / 2
	}
	if cfg.MaxDeliver <= 0 {
		cfg.MaxDeliver = -1 // JetStream: unbounded
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = 200 * time.Millisecond
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = time.Hour
	}
	c := &Consumer{cfg: cfg, log: cfg.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	js, err := jetstream.New(cfg.Conn)
	if err != nil {
		return nil, unavailable("jetstream", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := js.CreateOrUpdateStream(sctx, jetstream.StreamConfig{
		Name: cfg.Stream, Subjects: []string{cfg.Subject + ".>"}, Retention: jetstream.WorkQueuePolicy,
		Storage: jetstream.FileStorage, MaxAge: cfg.MaxAge, Description: "Yizhu ECG stream chunks",
	}); err != nil {
		return nil, unavailable("create stream "+cfg.Stream, err)
	}
	cons, err := js.CreateOrUpdateConsumer(sctx, cfg.Stream, jetstream.ConsumerConfig{
		Durable: cfg.Durable, AckPolicy: jetstream.AckExplicitPolicy, AckWait: cfg.AckWait,
		MaxDeliver: cfg.MaxDeliver, MaxAckPending: 8192, FilterSubject: cfg.Subject + ".>",
		DeliverPolicy: jetstream.DeliverAllPolicy, Description: "Yizhu ECG analysers (shared by replicas)",
	})
	if err != nil {
		return nil, unavailable("create consumer "+cfg.Durable, err)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.work = make([]chan jetstream.Msg, cfg.Workers)
	for i := range c.work {
		c.work[i] = make(chan jetstream.Msg, 64)
		c.wg.Add(1)
		go c.worker(c.work[i])
	}
	c.cc, err = cons.Consume(c.dispatch, jetstream.PullMaxMessages(256),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			c.log.Warn("nats ecg consumer", "err", err)
		}))
	if err != nil {
		c.stopWorkers()
		return nil, unavailable("consume", err)
	}
	return c, nil
}

func unavailable(op string, err error) error {
	return &clinic.Error{Code: clinic.CodeUnavailable, Message: "NATS JetStream: " + op + " failed", MessageZH: "NATS JetStream 不可用", Err: err}
}

// Subject returns the subject the messages of stream id are published on.
func Subject(prefix, id string) string {
	if prefix == "" {
		prefix = DefaultSubject
	}
	return prefix + "." + id
}

// dispatch routes a message to the worker of its stream.
func (c *Consumer) dispatch(m jetstream.Msg) {
	id := c.streamID(m.Subject())
	h := fnv.New32a()
	h.Write([]byte(id))
	select {
	case c.work[int(h.Sum32()%uint32(len(c.work)))] <- m:
	case <-c.ctx.Done():
	}
}

func (c *Consumer) streamID(subject string) string {
	return strings.TrimPrefix(subject, c.cfg.Subject+".")
}

func (c *Consumer) worker(ch chan jetstream.Msg) {
	defer c.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			return
		case m := <-ch:
			c.handle(m)
		}
	}
}

// handle runs the Handler and settles the message by its answer.
func (c *Consumer) handle(m jetstream.Msg) {
	id := c.streamID(m.Subject())
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.HandleTimeout)
	err := c.cfg.Handler.HandleChunk(ctx, id, m.Data())
	cancel()
	var settle error
	switch code := clinic.ErrorCode(err); {
	case err == nil:
		settle = m.Ack()
	case code == clinic.CodeInvalid || code == clinic.CodeTooLarge:
		c.log.Warn("ecg stream message dropped", "stream_id", id, "err", err)
		settle = m.Term()
	case code == clinic.CodeConflict || code == clinic.CodeNotFound:
		settle = m.NakWithDelay(c.cfg.RetryDelay)
	default:
		n := uint64(1)
		if md, merr := m.Metadata(); merr == nil {
			n = md.NumDelivered
		}
		delay := c.cfg.RetryDelay << min(n, 8)
		delay = min(delay, 30*time.Second)
		c.log.Error("ecg stream message failed; retrying", "stream_id", id, "delivery", n, "retry_in", delay, "err", err)
		settle = m.NakWithDelay(delay)
	}
	if settle != nil && !errors.Is(settle, nats.ErrConnectionClosed) {
		c.log.Warn("settle ecg stream message", "stream_id", id, "err", settle)
	}
}

// Close stops pulling and cancels the handlers in flight; every message
// not acknowledged by then is redelivered (after AckWait at the latest).
// It does not close the connection.
func (c *Consumer) Close() error {
	c.closeMu.Do(func() {
		c.cc.Stop()
		c.stopWorkers()
	})
	return nil
}

func (c *Consumer) stopWorkers() {
	c.cancel()
	c.wg.Wait()
}

// Connect dials url with a client name and reconnects forever; it fails
// within timeout when the server cannot be reached at start.
func Connect(url, name string, timeout time.Duration) (*nats.Conn, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.Timeout(timeout), nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(false))
	if err != nil {
		return nil, &clinic.Error{Code: clinic.CodeUnavailable, Field: "YIZHU_NATS_URL",
			Message: fmt.Sprintf("cannot connect to NATS: %v", err), MessageZH: "无法连接 NATS", Err: err}
	}
	return nc, nil
}
