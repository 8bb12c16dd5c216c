package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/yizhu-health/yizhu/clinic"
)

// maxProbeBody bounds the model list a probe reads.
const maxProbeBody = 1 << 20

// Probe asks the server cfg describes which models it serves — GET
// {base}/models for OpenAI-compatible servers, GET {base}/api/tags for
// Ollama — and checks that cfg.Model is among them, without generating
// anything. It is meant for readiness checks. Kind "none" needs no server
// and always passes. A failure is a *clinic.Error with code unavailable
// (invalid for a bad cfg).
func Probe(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Kind == "" || cfg.Kind == KindNone {
		return nil
	}
	base := strings.TrimSuffix(cfg.BaseURL, "/")
	url := base + "/models"
	if cfg.Kind == KindOllama {
		url = base + "/api/tags"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return clinic.Wrap(err, clinic.CodeInvalid, "cannot build the probe request", "无法构造探测请求")
	}
	if cfg.Kind == KindOpenAI {
		key := cfg.APIKey
		if key == "" {
			key = noKey
		}
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := httpClient(cfg.HTTPClient, cfg.Timeout).Do(req)
	if err != nil {
		return clinic.Wrap(err, clinic.CodeUnavailable,
			fmt.Sprintf("LLM server at %s does not answer", base), fmt.Sprintf("大模型服务 %s 无响应", base))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	if err != nil {
		return clinic.Wrap(err, clinic.CodeUnavailable, "LLM model list unreadable", "无法读取大模型列表")
	}
	names, err := modelNames(cfg.Kind, body)
	if err != nil {
		return clinic.Wrap(err, clinic.CodeUnavailable, "LLM model list unreadable", "无法读取大模型列表")
	}
	for _, n := range names {
		if n == cfg.Model || (cfg.Kind == KindOllama && n == cfg.Model+":latest") {
			return nil
		}
	}
	return clinic.NewError(clinic.CodeUnavailable, "model",
		fmt.Sprintf("LLM server at %s does not serve model %q", base, cfg.Model),
		fmt.Sprintf("大模型服务 %s 未提供模型 %q", base, cfg.Model))
}

func modelNames(kind string, body []byte) ([]string, error) {
	var names []string
	if kind == KindOllama {
		var tags struct {
			Models []struct {
				Name  string `json:"name"`
				Model string `json:"model"`
			} `json:"models"`
		}
		if err := json.Unmarshal(body, &tags); err != nil {
			return nil, err
		}
		for _, m := range tags.Models {
			names = append(names, m.Name, m.Model)
		}
		return names, nil
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, err
	}
	if list.Data == nil {
		return nil, errors.New(`no "data" list in the reply`)
	}
	for _, m := range list.Data {
		names = append(names, m.ID)
	}
	return names, nil
}
