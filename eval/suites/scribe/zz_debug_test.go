package scribe

import (
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"testing"

	"github.com/yizhu-health/yizhu/agents/scribe"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/eval/datasets"
)

func TestZZDump(t *testing.T) {
	p := os.Getenv("MIE_DUMP")
	if p == "" {
		t.Skip()
	}
	e, _ := scribe.New(scribe.Config{})
	ds, err := datasets.ReadFile(datasets.ScanMIE, "/work/shared/data/"+MIEFile, datasets.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	itemOf := mieItems(e, "/work/shared/data", ds)
	f, _ := os.Create(p)
	defer f.Close()
	enc := json.NewEncoder(f)
	for di, d := range ds {
		for wi, w := range d.Windows {
			var us []clinic.Utterance
			for _, line := range w.Utterances {
				ts := datasets.SplitTurns(line)
				if len(ts) == 0 {
					continue
				}
				us = append(us, clinic.Utterance{ID: strconv.Itoa(len(us)), Speaker: ts[0].Speaker, Text: ts[0].Text})
			}
			pred, _ := mieLabels(e.Findings(us), itemOf)
			var ps, gs []string
			for k := range pred {
				ps = append(ps, k)
			}
			gm := map[string]bool{}
			for _, l := range w.Labels {
				if l.Category == "症状" {
					gm[l.Item+"|"+collapse(l.Status)] = true
				}
			}
			for k := range gm {
				gs = append(gs, k)
			}
			sort.Strings(ps)
			sort.Strings(gs)
			enc.Encode(map[string]any{"d": di, "w": wi, "u": w.Utterances, "pred": ps, "gold": gs})
		}
	}
}
