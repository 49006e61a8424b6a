// Package models embeds the models agegender runs by default, so the binary
// needs no model file: our own age/gender model (its card is README.md
// beside it) and the YuNet face detector (Apache-2.0, LICENSE.yunet).
package models

import _ "embed"

// DefaultName is how the embedded model is named in messages and output.
const DefaultName = "models/agegender.onnx (embedded)"

//go:embed agegender.onnx
var defaultModel []byte

// Default returns the embedded model's bytes. The slice is shared: don't modify it.
func Default() []byte { return defaultModel }

// DetectorName is how the embedded face detector is named in messages.
const DetectorName = "models/yunet_n.onnx (embedded YuNet-n)"

// DetectorSHA256 is the checksum of yunet_n.onnx as published in
// ShiqiYu/libfacedetection.train at commit 0047ac24, onnx/yunet_n_dynamic.onnx;
// scripts/setup.sh and this package's test check the committed copy against it.
const DetectorSHA256 = "104ee26c71d5c270ce79a6b3dced91c91013260d29a6bf18f9296c5b8c4c2b12"

//go:embed yunet_n.onnx
var detector []byte

// Detector returns the embedded face detector's bytes. The slice is shared:
// don't modify it.
func Detector() []byte { return detector }
