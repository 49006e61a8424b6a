// Package layers holds no code. Its tests keep the rules of
// docs/ARCHITECTURE.md: only internal/predict talks to ONNX Runtime (the
// packages listed there must build without cgo and be testable with a fake
// estimator), the packages at the bottom of the table (internal/input,
// internal/storage) depend on none above them, and the size bounds.
package layers
