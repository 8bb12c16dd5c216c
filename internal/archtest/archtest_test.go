// Package archtest checks the module's import graph against the layering
// rules of DESIGN.md and STYLE.md §2.1: the domain imports nothing of ours,
// adapters never import each other, only cmd/yizhu and agents/provider touch
// vendor LLM clients, and api, agents and eval never reach an adapter.
package archtest

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/yizhu-health/yizhu"

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Standard   bool
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", "list", "-deps=false", "-json", mod+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var ps []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		ps = append(ps, p)
	}
	if len(ps) < 5 {
		t.Fatalf("go list found only %d packages", len(ps))
	}
	return ps
}

func rel(p string) string {
	if p == mod {
		return "."
	}
	return strings.TrimPrefix(p, mod+"/")
}

func under(p string, dirs ...string) bool {
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

var (
	vendorLLM = []string{"github.com/tmc/langchaingo/llms/openai", "github.com/tmc/langchaingo/llms/ollama",
		"github.com/tmc/langchaingo/embeddings"}
	adapters = []string{"store/sqlite", "store/postgres"}
)

// rule says which module packages and which external modules a package
// (selected by dir prefix) may import directly, and which packages it must
// not depend on even transitively.
type rule struct {
	dirs      []string
	allowMod  []string // module dirs it may import; nil = any
	allowExt  []string // external import path prefixes it may import; nil = any
	forbidDep []string // module dirs or external paths it must not depend on
}

var rules = []rule{
	{dirs: []string{"clinic"}, allowMod: []string{}, allowExt: []string{}},
	{dirs: []string{"prompts"}, allowMod: []string{"clinic"}, allowExt: []string{"gopkg.in/yaml.v3"}},
	{dirs: []string{"qc"}, allowMod: []string{"clinic", "qc"}, allowExt: []string{"gopkg.in/yaml.v3"}},
	{dirs: []string{"inference/ecg/dsp"}, allowMod: []string{}, allowExt: []string{}},
	// validator/v10 checks the ecg.analyze tool's arguments, as every
	// structured input is checked.
	{dirs: []string{"inference"}, allowMod: []string{"clinic", "inference"}, allowExt: []string{"gopkg.in/yaml.v3", "github.com/go-playground/validator/v10"}},
	{dirs: []string{"store"}, forbidDep: append([]string{"agents", "api", "rag", "eval", "cmd", "github.com/tmc/langchaingo"}, adapters...)},
	{dirs: []string{"store/sqlite"}, forbidDep: []string{"store/postgres", "github.com/jackc/pgx", "agents", "api", "rag"}},
	{dirs: []string{"store/postgres"}, forbidDep: []string{"store/sqlite", "modernc.org/sqlite", "agents", "api", "rag"}},
	{dirs: []string{"rag"}, forbidDep: append([]string{"agents", "api", "eval", "cmd", "github.com/tmc/langchaingo"}, adapters...)},
	{dirs: []string{"agents"}, forbidDep: append(append([]string{"api", "eval", "cmd"}, adapters...), vendorLLM...)},
	{dirs: []string{"api"}, forbidDep: append(append([]string{"cmd", "eval"}, adapters...), vendorLLM...)},
	{dirs: []string{"eval"}, forbidDep: append([]string{"api", "cmd"}, vendorLLM...)},
}

// exceptions are packages whose job is to be the adapter the rules keep out.
var exceptions = map[string]bool{
	"agents/provider": true, // the one place vendor LLM clients are built
	"agents/llmtest":  true, // test double of an OpenAI-compatible server
}

// ruleFor returns the most specific rule for a package.
func ruleFor(p string) (rule, bool) {
	best, bestLen, found := rule{}, -1, false
	for _, r := range rules {
		for _, d := range r.dirs {
			if under(p, d) && len(d) > bestLen {
				best, bestLen, found = r, len(d), true
			}
		}
	}
	return best, found
}

func TestImportGraph(t *testing.T) {
	ps := listPackages(t)
	for _, p := range ps {
		name := rel(p.ImportPath)
		if exceptions[name] || strings.HasSuffix(name, "test") && under(name, "store", "rag") {
			continue
		}
		r, ok := ruleFor(name)
		if !ok {
			continue
		}
		for _, imp := range p.Imports {
			switch {
			case strings.HasPrefix(imp, mod+"/") || imp == mod:
				d := rel(imp)
				if r.allowMod != nil && !slices.ContainsFunc(r.allowMod, func(a string) bool { return under(d, a) }) {
					t.Errorf("%s imports %s; allowed: %v", name, d, r.allowMod)
				}
			case isStd(imp):
			default:
				if r.allowExt != nil && !slices.ContainsFunc(r.allowExt, func(a string) bool { return strings.HasPrefix(imp, a) }) {
					t.Errorf("%s imports external %s; allowed: %v", name, imp, r.allowExt)
				}
			}
		}
		for _, dep := range p.Deps {
			d := dep
			if strings.HasPrefix(dep, mod+"/") {
				d = rel(dep)
			}
			for _, f := range r.forbidDep {
				if under(d, f) && !exceptions[d] && !under(name, f) {
					t.Errorf("%s depends on %s (forbidden: %s)", name, d, f)
				}
			}
		}
	}
}

// agentEdges are the allowed imports between agents, each with its reason.
var agentEdges = map[[2]string]string{
	// The scribe reads the triage agent's published pre-consultation
	// summary (triage.Summary) and reuses its symptom lexicon, so that a
	// symptom the kiosk recorded is named the same way in the record.
	{"scribe", "triage"}: "pre-consultation summary and shared symptom lexicon",
}

// TestAgentsAreIndependent: one agent never imports another, but for the
// edges listed in agentEdges.
func TestAgentsAreIndependent(t *testing.T) {
	for _, p := range listPackages(t) {
		name := rel(p.ImportPath)
		if !strings.HasPrefix(name, "agents/") || exceptions[name] {
			continue
		}
		self := strings.SplitN(name, "/", 3)[1]
		for _, imp := range p.Imports {
			d := rel(imp)
			other := ""
			if strings.HasPrefix(d, "agents/") {
				other = strings.SplitN(d, "/", 3)[1]
			}
			if _, ok := agentEdges[[2]string{self, other}]; ok {
				continue
			}
			if other != "" && !exceptions[d] && other != self {
				t.Errorf("agent package %s imports another agent %s", name, d)
			}
		}
	}
}

func isStd(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".")
}
