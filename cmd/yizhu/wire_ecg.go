package main

import (
	"context"
	"fmt"
	"time"

	"github.com/yizhu-health/yizhu/api"
	"github.com/yizhu-health/yizhu/inference/ecg"
	"github.com/yizhu-health/yizhu/internal/natsecg"
)

// wireECG builds the ECG feature: uploads, the device WebSocket, the
// monitor feed and the alert hub (SSE fan-out and webhooks). It registers
// the ecg.analyze agent tool, so it is listed before the agents that use
// it, and, when YIZHU_NATS_URL is set, starts the JetStream consumer that
// this replica shares with the others.
func wireECG(ctx context.Context, d *deps) (api.Feature, error) {
	hub, err := api.NewAlertHub(api.AlertHubConfig{Store: d.store, Logger: d.log, Webhooks: d.cfg.AlertWebhooks})
	if err != nil {
		return nil, fmt.Errorf("ecg: alert hub: %w", err)
	}
	d.onClose(hub.Close)
	feature, err := api.NewECG(api.ECGConfig{Store: d.store, Alerts: hub, Logger: d.log})
	if err != nil {
		return nil, fmt.Errorf("ecg: %w", err)
	}
	tool := ecg.AnalyzeTool()
	d.tools[tool.Name] = tool

	if d.cfg.NATSURL != "" {
		nc, err := natsecg.Connect(d.cfg.NATSURL, "yizhu "+version, 10*time.Second)
		if err != nil {
			return nil, &configError{"YIZHU_NATS_URL", err.Error()}
		}
		cons, err := natsecg.Start(ctx, natsecg.Config{Conn: nc, Handler: feature, Logger: d.log})
		if err != nil {
			nc.Close()
			return nil, &configError{"YIZHU_NATS_URL", err.Error()}
		}
		d.checks = append(d.checks, api.Check{Name: "nats", Required: true, Detail: redactURL(d.cfg.NATSURL),
			Check: func(ctx context.Context) error {
				if !nc.IsConnected() {
					return fmt.Errorf("not connected to NATS (%s)", nc.Status())
				}
				return nc.FlushWithContext(ctx)
			}})
		d.onClose(func() error {
			cons.Close()
			nc.Close()
			return nil
		})
		d.log.Info("ecg: consuming streams from NATS JetStream", "stream", natsecg.DefaultStream,
			"subject", natsecg.DefaultSubject+".<stream_id>", "durable", natsecg.DefaultDurable)
	}
	return feature, nil
}
