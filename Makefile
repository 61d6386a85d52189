# The two commands: `make run` and `make test`. Both install what is missing first.
.PHONY: setup ui build run test lint ui-test bench fuzz screenshots package package-test bench-release

setup:
	@bash scripts/setup.sh

# The desktop app embeds ui/dist at compile time, so the UI is built before any cargo step.
ui: setup
	npm --prefix ui run build --silent

build: ui
	cargo build --workspace --bins

run: build
	cargo run -p earshot-desktop --bin earshot-desktop

ui-test: setup
	npm --prefix ui run check
	npm --prefix ui test

lint: ui
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --document-private-items --quiet

# EARSHOT_STRICT: a test that cannot run its real part (no root for a tmpfs,
# no sound server) fails instead of skipping.
test: lint ui-test
	cargo build --workspace --bins
	EARSHOT_STRICT=1 bash scripts/with-audio.sh bash scripts/with-display.sh cargo test --workspace
	$(MAKE) package-test

# Refreshes the README's pictures (docs/*.png) from the desktop end-to-end
# test; `make test` writes its screenshots to the target dir only.
screenshots: build
	EARSHOT_SCREENSHOTS="$(CURDIR)/docs" bash scripts/with-audio.sh bash scripts/with-display.sh \
		cargo test -p earshot-tests --test desktop

# Fuzzes every target for SECONDS (default 60) each, or one: make fuzz TARGET=jwt SECONDS=600.
# The corpus starts from the committed seeds; fuzz/corpus and fuzz/artifacts are not tracked.
fuzz:
	@SECONDS_PER_TARGET=$(or $(SECONDS),60) bash scripts/fuzz.sh $(TARGET)

bench: build
	cargo bench -p earshot-tests --bench intake
	cargo bench -p earshot-tests --bench forward
	cargo bench -p earshot-tests --bench store
	bash scripts/with-display.sh cargo bench -p earshot-tests --bench lists
	bash scripts/with-audio.sh cargo bench -p earshot-playback --bench playback
	cargo bench -p earshot-audio --bench analysis

# The release .deb and .rpm (with the `earshot` CLI, its man pages and
# completions) in $(or $(CARGO_TARGET_DIR),target)/release/bundle/. AppImage
# is left out: its bundler downloads linuxdeploy at build time.
package: ui
	bash scripts/package.sh

# Installs the .deb on a clean Debian 12 root made with debootstrap (needs
# root and the Debian mirror) and checks the CLI and the app there. The last
# step of `make test` (docs/testing.md#the-package-test says what it costs).
package-test: package
	EARSHOT_STRICT=1 bash scripts/with-display.sh cargo test -p earshot-tests --test package -- --ignored --nocapture

# The release build's start-up, memory and sizes against a minimal Tauri
# window (docs/benchmarks.md#release-build).
bench-release: package
	cargo build --release --locked -p earshot-desktop --example baseline --features bench-baseline
	bash scripts/with-display.sh cargo bench -p earshot-tests --bench release
