package clinic

import (
	"context"
	"encoding/json"
)

// Tool is a capability that a core package (the guideline store, the ECG
// core) offers to the agents, described so that a model can call it:
// a name, what it does, the JSON Schema of its arguments object, and the
// function that decodes and validates the arguments and runs it. It lives
// here, not in agents, so that the packages offering tools need not import
// the agents runtime; agents.Tool is the same type.
type Tool struct {
	Name        string
	Description string
	// Parameters is the JSON Schema of the arguments object.
	Parameters map[string]any
	// Call decodes and validates the arguments and runs the tool; its
	// result is sent back to the model as JSON.
	Call func(ctx context.Context, args json.RawMessage) (any, error)
}
