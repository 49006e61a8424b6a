// Package models embeds agegender's own age/gender model, so the binary runs
// without a model file. The model card is README.md beside it.
package models

import _ "embed"

// DefaultName is how the embedded model is named in messages and output.
const DefaultName = "models/agegender.onnx (embedded)"

//go:embed agegender.onnx
var defaultModel []byte

// Default returns the embedded model's bytes. The slice is shared: don't modify it.
func Default() []byte { return defaultModel }
