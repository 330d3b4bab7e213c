# facefx — the two set-up commands are `make demo` and `make test` (see README).
SWIFT ?= swift
DEMO_IN ?= samples/face.mp4
DEMO_OUT ?= out/face-demo.mp4

.PHONY: deps build release demo test dist dist-check fuzz clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Runs the main job on the sample clip: installs missing packages, builds in release mode, renders.
demo: release
	@mkdir -p out
	.build/release/facefx $(DEMO_IN) $(DEMO_OUT) --filter mask --csv out/face-demo.csv --overwrite
	@echo "wrote $(DEMO_OUT) and out/face-demo.csv"

# The whole test suite (CI calls this through .ci/run).
# FACEFX_NN_BAKE=0: fixed kernels for every facefx the tests start (see BakedKernelWarmup).
test: deps
	$(SWIFT) build --build-tests
	FACEFX_NN_BAKE=0 $(SWIFT) test --skip-build --disable-swift-testing

# The release tarball for machines without Swift or FFmpeg: dist/facefx-<version>-linux-x86_64.tar.xz
# (scripts/dist.sh; README "Install from the release tarball").
dist: deps
	scripts/dist.sh

# Builds the tarball, unpacks it into an empty folder and runs the sample render and analyze from
# there, without the system's FFmpeg on the library path (scripts/dist-check.sh).
dist-check: deps
	tarball=$$(scripts/dist.sh) && scripts/dist-check.sh "$$tarball"

# The long fuzzing run (tools/fuzz: mutated media and filter packs through every command); findings
# (crash, hang, messy error) are kept in out/fuzz-findings. make test runs a small fixed-seed corpus.
FUZZ_COUNT ?= 1000
fuzz: build
	@mkdir -p out
	tools/fuzz --count $(FUZZ_COUNT) --keep out/fuzz-findings | tee out/fuzz-report.txt

clean:
	rm -rf .build .build-dist out dist
