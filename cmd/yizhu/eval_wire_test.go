package main

import (
	"testing"

	"github.com/yizhu-health/yizhu/eval"
)

// TestThresholdsNameOnlyRegisteredSuites keeps eval/thresholds.yaml and the
// suite registry in step: a section for a suite that is not wired would
// fail every gated eval with "unknown-suite".
func TestThresholdsNameOnlyRegisteredSuites(t *testing.T) {
	reg, err := evalSuites(eval.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	th, err := eval.DefaultThresholds()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range th.Gate(nil, reg.Names()) {
		t.Errorf("thresholds vs registry: %s", v)
	}
	for _, name := range reg.Names() {
		if _, ok := th[name]; !ok {
			t.Errorf("suite %q is registered but has no section in eval/thresholds.yaml", name)
		}
	}
}
