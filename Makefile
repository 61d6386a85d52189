# The two commands: `make run` and `make test`. Both install what is missing first.
.PHONY: setup ui build run test lint ui-test bench

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

test: lint ui-test
	cargo build --workspace --bins
	bash scripts/with-audio.sh bash scripts/with-display.sh cargo test --workspace

bench: build
	cargo bench -p earshot-tests --bench intake
	bash scripts/with-display.sh cargo bench -p earshot-tests --bench lists
	bash scripts/with-audio.sh cargo bench -p earshot-playback --bench playback
