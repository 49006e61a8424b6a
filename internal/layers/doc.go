// Package layers holds no code. Its test keeps the rule of
// docs/ARCHITECTURE.md that only internal/predict talks to ONNX Runtime: the
// packages listed there must build without cgo and be testable with a fake
// estimator.
package layers
