package main

import (
	"context"

	"github.com/yizhu-health/yizhu/agents/scribe"
	"github.com/yizhu-health/yizhu/api"
)

// wireScribe builds the record-drafting feature: the scribe agent (the
// built-in extractive engine, with the configured LLM first when there is
// one), its routes, and the sign hook that stores how much the doctor
// changed the AI draft.
func wireScribe(_ context.Context, d *deps) (api.Feature, error) {
	eng, err := scribe.New(scribe.Config{Runner: d.runner, Logger: d.log})
	if err != nil {
		return nil, err
	}
	sc, err := api.NewScribe(api.ScribeConfig{Engine: eng, Store: d.store, Logger: d.log})
	if err != nil {
		return nil, err
	}
	d.signHooks = append(d.signHooks, sc.SignHook())
	return sc, nil
}
