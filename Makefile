# The two commands: `make run` and `make test`. Both install what is missing first.
.PHONY: setup build run test lint bench

setup:
	@bash scripts/setup.sh

build: setup
	cargo build --workspace --bins

run: build
	cargo run -p earshot-cli --bin earshot -- serve

lint: setup
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --document-private-items --quiet

test: lint
	cargo build --workspace --bins
	bash scripts/with-audio.sh cargo test --workspace

bench: setup
	cargo bench -p earshot-tests --bench intake
	bash scripts/with-audio.sh cargo bench -p earshot-playback --bench playback
