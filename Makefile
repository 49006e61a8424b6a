# agegender: `make setup` fetches ONNX Runtime and the face detector and builds
# bin/agegender; `make test` runs every test (the same command CI runs).

PYTHON ?= /usr/bin/python3
# The preset whose export is the embedded models/agegender.onnx.
SHIPPED = v3
PRESET ?= $(SHIPPED)
DATA   ?= ../shared/data/utkface ../shared/data/utkface-more
GO     ?= go

.PHONY: setup build test test-short bench train evaluate export fixture framing crops smoke-train release-check clean

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

# Exports the trained preset; the shipped one becomes models/agegender.onnx.
export:
	$(PYTHON) training/main.py export --preset $(PRESET) --data $(DATA) \
		--out $(if $(filter $(SHIPPED),$(PRESET)),models/agegender.onnx,models/agegender-$(PRESET).onnx)

fixture:
	$(PYTHON) training/main.py fixture --preset $(PRESET) --data $(DATA)

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

smoke-train:
	$(PYTHON) training/smoke_test.py

release-check:
	scripts/release-check.sh

clean:
	rm -rf bin dist out
