package models

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// The committed detector is a third party's file, shipped unmodified: a
// changed byte means a corrupted or replaced copy.
func TestDetectorChecksum(t *testing.T) {
	sum := sha256.Sum256(Detector())
	if got := hex.EncodeToString(sum[:]); got != DetectorSHA256 {
		t.Fatalf("models/yunet_n.onnx sha256 %s, want %s: restore it from its source (THIRD_PARTY_NOTICES.md)", got, DetectorSHA256)
	}
}
