package eval

import (
	"time"

	"github.com/yizhu-health/yizhu/eval/metrics"
)

// Helpers that fill a Report from eval/metrics results under stable metric
// names, so every suite reports the same quantity the same way.

func (r *Report) set(name string, v float64) {
	if r.Metrics == nil {
		r.Metrics = make(map[string]float64)
	}
	r.Metrics[name] = v
}

// AddClassification scores single-label predictions: it sets accuracy,
// macro_precision, macro_recall, macro_f1, micro_f1, the PerClass table
// (precision, recall, f1, support per label) and the confusion matrix.
func (r *Report) AddClassification(gold, pred []string) error {
	c, err := metrics.NewConfusion(gold, pred)
	if err != nil {
		return err
	}
	a := c.Averages()
	r.set("accuracy", a.Accuracy)
	r.set("macro_precision", a.MacroPrecision)
	r.set("macro_recall", a.MacroRecall)
	r.set("macro_f1", a.MacroF1)
	r.set("micro_f1", a.MicroF1)
	t := &Table{Title: "Per class", Columns: []string{"precision", "recall", "f1", "support"}, Chart: "f1"}
	for _, s := range c.PerClass() {
		t.Rows = append(t.Rows, Row{Key: s.Label, Values: []float64{s.Precision, s.Recall, s.F1, float64(s.Support)}})
	}
	r.PerClass = t
	r.Confusion = c
	return nil
}

// AddTriage sets triage_accuracy, under_triage_rate, over_triage_rate and
// mean_abs_level_error from rates.
func (r *Report) AddTriage(rates metrics.TriageRates) {
	r.set("triage_accuracy", rates.Accuracy)
	r.set("under_triage_rate", rates.UnderTriage)
	r.set("over_triage_rate", rates.OverTriage)
	r.set("mean_abs_level_error", rates.MeanAbsError)
}

// AddBeats sets the EC57 gross and average QRS statistics
// (gross_sensitivity, gross_positive_predictivity, average_sensitivity,
// average_positive_predictivity) and one PerRecord row per record with its
// sensitivity, positive predictivity and TP/FN/FP counts.
func (r *Report) AddBeats(recs []metrics.RecordBeats) {
	s := metrics.SummarizeBeats(recs)
	r.set("gross_sensitivity", s.GrossSe)
	r.set("gross_positive_predictivity", s.GrossPP)
	r.set("average_sensitivity", s.AverageSe)
	r.set("average_positive_predictivity", s.AveragePP)
	t := &Table{Title: "Per record (EC57 beat-by-beat, 150 ms window)", Columns: []string{"sensitivity", "positive_predictivity", "tp", "fn", "fp"}, Chart: "sensitivity"}
	for _, rec := range recs {
		c := rec.Counts
		t.Rows = append(t.Rows, Row{Key: rec.Record, Values: []float64{c.Sensitivity(), c.PositivePredictivity(), float64(c.TP), float64(c.FN), float64(c.FP)}})
	}
	r.PerRecord = t
}

// AddRouge sets rouge1_f1, rouge2_f1 and rougeL_f1 (and their precision
// and recall) from the mean of per-pair scores.
func (r *Report) AddRouge(scores []metrics.Rouge) {
	m := metrics.MeanRouge(scores)
	for name, s := range map[string]metrics.RougeScore{"rouge1": m.R1, "rouge2": m.R2, "rougeL": m.RL} {
		r.set(name+"_precision", s.Precision)
		r.set(name+"_recall", s.Recall)
		r.set(name+"_f1", s.F1)
	}
}

// AddLatencies records what label timed and the summary of samples.
// Latencies stay out of Metrics: they vary from run to run, and Metrics
// must not. A suite that gates on latency sets such a metric itself.
func (r *Report) AddLatencies(label string, samples []time.Duration) {
	st := metrics.Latency(samples)
	r.Latency = &st
	r.LatencyLabel = label
}
