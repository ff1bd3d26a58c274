# Sourced by the scripts that build a variant of the runtime as a Wasm file beside the node's
# (build-try-runtime.sh, build-upgrade-runtime.sh, build-fast-runtime.sh): `build_variant`.
# Needs scripts/env.sh sourced and the node built first (cargo build --release --locked
# --workspace): it reuses the node's Wasm build project and target directory, with the same
# flags, so only the runtime crate (and what the variant's features change) is compiled again.

wbuild="$CARGO_TARGET_DIR/release/wbuild"
main="$wbuild/dsync-runtime"
if [[ ! -f "$main/Cargo.toml" || ! -f "$main/Cargo.lock" ]]; then
  echo "no Wasm build project at $main: build the node first (cargo build --release)" >&2
  exit 1
fi

# build_variant <suffix> <features, as the items of a TOML list>: builds the node's Wasm project
# with those features and another package and library name (so its output never replaces the
# node's blob nor the upgrade blob), pointing at this checkout's runtime; prints the path of the
# plain Wasm file cargo wrote.
build_variant() {
  local suffix="$1" features="$2"
  local project="$wbuild/dsync-runtime-$suffix"
  local lib="dsync_runtime_${suffix//-/_}"
  mkdir -p "$project/src"
  # The node's project lists the runtime features the node turned on (`metadata-hash`, which
  # only matters to the Wasm builder); the variant has its own.
  sed -e "s/^features = \[.*\]$/features = [$features]/" \
    -e "s/^name = \"dsync_runtime\"$/name = \"$lib\"/" \
    -e "s/^name = \"dsync-runtime-blob\"$/name = \"dsync-runtime-$suffix-blob\"/" \
    -e "s|^path = .*|path = \"$PWD/runtime\"|" \
    "$main/Cargo.toml" >"$project/Cargo.toml"
  if ! grep -qxF "features = [$features]" "$project/Cargo.toml" ||
    ! grep -qxF "name = \"$lib\"" "$project/Cargo.toml"; then
    echo "unexpected Wasm project manifest $main/Cargo.toml (no features line? library not dsync_runtime?)" >&2
    return 1
  fi
  cp "$main/Cargo.lock" "$project/Cargo.lock" || return 1
  cp "$main/src/lib.rs" "$project/src/lib.rs" || return 1

  # The flags substrate-wasm-builder uses for this toolchain (wasm32v1-none), so whatever was
  # compiled for the node's blob with the same features is reused from the same target directory.
  echo "[try-runtime] building $lib (features $features)" >&2
  env -u CARGO_ENCODED_RUSTFLAGS -u RUSTC \
    CARGO_TARGET_DIR="$main/target" \
    RUSTFLAGS="-C link-arg=--export-table -C link-arg=--export=__heap_base -C link-arg=--import-memory --cfg substrate_runtime " \
    SKIP_WASM_BUILD="" \
    cargo rustc --quiet --target=wasm32v1-none --manifest-path="$project/Cargo.toml" --profile release >&2 ||
    return 1

  local wasm="$main/target/wasm32v1-none/release/$lib.wasm"
  if [[ ! -s "$wasm" ]]; then
    echo "cargo wrote no $wasm" >&2
    return 1
  fi
  echo "$wasm"
}

