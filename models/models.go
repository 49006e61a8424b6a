// Package models embeds the models agegender runs, so the binary needs no
// model file: our own age/gender presets (their cards are README.md beside
// this file) and the YuNet face detector (Apache-2.0, LICENSE.yunet).
package models

import (
	_ "embed"
	"strings"
)

// A Preset is an age/gender model embedded in the binary, picked by name
// with --model.
type Preset struct {
	// Name is how --model, version and /health spell it.
	Name string
	// File is where the model lies in the repository.
	File string
	// About says in a line what the preset is for.
	About string
	data  []byte
}

// Bytes returns the preset's ONNX file. The slice is shared: don't modify it.
func (p Preset) Bytes() []byte { return p.data }

// Label names the preset in messages and output.
func (p Preset) Label() string { return p.Name + " (embedded " + p.File + ")" }

// DefaultPreset is the preset used when --model is not given: the more
// accurate one, since the fast one misses some of the accuracy targets
// (models/README.md).
const DefaultPreset = "accurate"

//go:embed accurate.onnx
var accurate []byte

//go:embed fast.onnx
var fast []byte

// Presets lists the embedded presets, the default first.
func Presets() []Preset {
	return []Preset{
		{Name: "accurate", File: "models/accurate.onnx", data: accurate,
			About: "model v4: faceres-deep fine-tuned, the most accurate (default)"},
		{Name: "fast", File: "models/fast.onnx", data: fast,
			About: "model v4-fast: distilled from v4 at a smaller input, for throughput"},
	}
}

// LookupPreset returns the embedded preset called name.
func LookupPreset(name string) (Preset, bool) {
	for _, p := range Presets() {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

// PresetNames lists the presets' names for messages: "accurate, fast".
func PresetNames() string {
	var names []string
	for _, p := range Presets() {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

// PresetList names the presets with what each is for, for --model's help:
// "accurate (...) or fast (...)".
func PresetList() string {
	var parts []string
	for _, p := range Presets() {
		parts = append(parts, p.Name+" ("+p.About+")")
	}
	return strings.Join(parts, " or ")
}

// Default returns the default preset.
func Default() Preset {
	p, _ := LookupPreset(DefaultPreset)
	return p
}

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
