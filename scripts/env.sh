# Sourced by the scripts: one Cargo target directory outside the work tree, shared by the
# node build and the tests, so nothing is compiled twice and the cache survives fresh clones.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}"
export DSYNC_NODE="${DSYNC_NODE:-$CARGO_TARGET_DIR/release/dsync-node}"
