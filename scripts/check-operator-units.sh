#!/usr/bin/env bash
# Checks the operators' systemd units (docs/operators/systemd/*.service and their .env files)
# against the binaries they run:
#  1. every option in each unit's ExecStart=, and in the values of the variables of its
#     EnvironmentFile= that ExecStart expands ($VAR and ${VAR}; commented-out example
#     assignments of those variables too), must be an option in the `--help` of the program
#     it runs (dsync-node or aivm); every such variable must be set, and a ${VAR} (one
#     argument) must not be empty;
#  2. `systemd-analyze verify` on each unit (with ExecStart's program replaced by the binary
#     given here), where systemd-analyze is installed; it must accept the unit without a word.
# Exits non-zero on any problem.
#
#   scripts/check-operator-units.sh [--dir DIR] [--verbose] [NODE_BIN [AIVM_BIN]]
#
# NODE_BIN defaults to $DSYNC_NODE or $CARGO_TARGET_DIR/release/dsync-node, AIVM_BIN to
# $DSYNC_AIVM or $CARGO_TARGET_DIR/release/aivm (CARGO_TARGET_DIR as scripts/env.sh sets it);
# DIR to docs/operators/systemd; --verbose lists every option checked. Runs nothing but
# `--help` of the binaries: no build.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=env.sh
source "$root/scripts/env.sh"

dir="$root/docs/operators/systemd"
verbose=no
while [[ $# -gt 0 ]]; do
	case "$1" in
		--dir) dir="${2:?--dir needs a directory}"; shift 2 ;;
		--verbose) verbose=yes; shift ;;
		-h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
		--) shift; break ;;
		-*) echo "check-operator-units: unknown option $1 (see --help)" >&2; exit 2 ;;
		*) break ;;
	esac
done
[[ $# -le 2 ]] || { echo "check-operator-units: at most two binaries (see --help)" >&2; exit 2; }
node_bin="${1:-$DSYNC_NODE}"
aivm_bin="${2:-${DSYNC_AIVM:-$CARGO_TARGET_DIR/release/aivm}}"

problems=0
fail() {
	echo "FAIL: $*" >&2
	problems=$((problems + 1))
}

[[ -d "$dir" ]] || { echo "check-operator-units: no directory $dir" >&2; exit 2; }
for bin in "$node_bin" "$aivm_bin"; do
	if [[ ! -x "$bin" || -d "$bin" ]]; then
		echo "check-operator-units: $bin is not an executable file (build it, or give its path)" >&2
		exit 2
	fi
done
node_bin="$(realpath "$node_bin")"
aivm_bin="$(realpath "$aivm_bin")"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The options a binary's --help defines: only lines that start an option's entry
# ("  -d, --base-path <PATH>", "      --validator"), not options named in descriptions.
help_options() { # binary, output file (long and short options, one a line)
	local help
	if ! help="$("$1" --help 2>&1)"; then
		echo "check-operator-units: $1 --help failed:" >&2
		echo "$help" >&2
		exit 2
	fi
	{
		grep -oE '^[[:space:]]+(-[A-Za-z0-9], )?--[A-Za-z0-9][A-Za-z0-9-]*' <<<"$help" |
			sed -E 's/^[[:space:]]+//; s/^-[A-Za-z0-9], //' || true
		grep -oE '^[[:space:]]+-[A-Za-z0-9],' <<<"$help" | sed -E 's/^[[:space:]]+//; s/,$//' || true
	} | sort -u >"$2"
	[[ -s "$2" ]] || { echo "check-operator-units: no options found in $1 --help" >&2; exit 2; }
}
help_options "$node_bin" "$tmp/dsync-node.options"
help_options "$aivm_bin" "$tmp/aivm.options"

# The logical lines of a unit file's KEY= entries in section SECTION: continuation lines
# (ending in a backslash) joined, comment lines skipped, as systemd reads them.
unit_values() { # file, section, key
	awk -v section="[$2]" -v key="$3" '
		function flush() { if (in_section && logical ~ "^" key "[[:space:]]*=") { sub("^" key "[[:space:]]*=[[:space:]]*", "", logical); print logical } logical = "" }
		{
			line = $0
			if (logical == "" && line ~ /^[[:space:]]*\[/) {
				header = line; gsub(/^[[:space:]]+|[[:space:]]+$/, "", header)
				in_section = (header == section); next
			}
			if (line ~ /^[[:space:]]*[#;]/) next
			if (line ~ /\\$/) { sub(/\\$/, "", line); logical = logical line " "; next }
			logical = logical line
			flush()
		}
		END { if (logical != "") flush() }' "$1"
}

# Checks one word: an option must be in the program's --help.
check_word() { # unit, program, where, word
	local word="$4" option
	case "$word" in
		--) return ;;
		--*) option="${word%%=*}" ;;
		-[A-Za-z0-9]) option="$word" ;;
		-[A-Za-z0-9]=*) option="${word%%=*}" ;;
		*) return ;;
	esac
	checked=$((checked + 1))
	[[ $verbose == no ]] || echo "  $1: $option ($3)"
	if ! grep -qxF -- "$option" "$tmp/$2.options"; then
		fail "$1: $option ($3) is not an option of $2: \`${bins[$2]} --help\` does not list it"
	fi
}

declare -A bins=([dsync-node]="$node_bin" [aivm]="$aivm_bin")
declare -A used_env=()

shopt -s nullglob
units=("$dir"/*.service)
[[ ${#units[@]} -gt 0 ]] || { echo "check-operator-units: no .service file in $dir" >&2; exit 2; }

for unit_path in "${units[@]}"; do
	unit="$(basename "$unit_path")"
	checked=0

	# The variables its EnvironmentFile= files set, and their commented-out examples.
	declare -A value=() examples=()
	mapfile -t env_files < <(unit_values "$unit_path" Service EnvironmentFile)
	for env_file in "${env_files[@]}"; do
		env_file="${env_file#-}"
		local_env="$dir/$(basename "$env_file")"
		if [[ ! -f "$local_env" ]]; then
			fail "$unit: EnvironmentFile=$env_file has no example $(basename "$env_file") in $dir"
			continue
		fi
		used_env[$(basename "$env_file")]=1
		line_no=0
		while IFS= read -r line || [[ -n "$line" ]]; do
			line_no=$((line_no + 1))
			if [[ "$line" =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
				v="${BASH_REMATCH[2]}"
				v="${v#\"}"; v="${v%\"}"; v="${v#\'}"; v="${v%\'}"
				value[${BASH_REMATCH[1]}]="$v"
			elif [[ "$line" =~ ^[[:space:]]*#[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
				examples[${BASH_REMATCH[1]}]+="$(basename "$env_file"):$line_no:${BASH_REMATCH[2]}"$'\n'
			fi
		done <"$local_env"
	done

	mapfile -t execs < <(unit_values "$unit_path" Service ExecStart)
	if [[ ${#execs[@]} -eq 0 ]]; then
		fail "$unit: no ExecStart="
		unset value examples
		continue
	fi
	for exec in "${execs[@]}"; do
		read -ra words <<<"$exec"
		program="${words[0]}"
		program="${program##[-@+!:]}"
		program="${program##[-@+!:]}"
		name="$(basename "$program")"
		if [[ -z "${bins[$name]:-}" ]]; then
			fail "$unit: ExecStart runs $program: not dsync-node or aivm, nothing to check it against"
			continue
		fi
		for word in "${words[@]:1}"; do
			word="${word//\"/}"
			word="${word//\'/}"
			if [[ "$word" =~ ^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$ || "$word" =~ ^\$([A-Za-z_][A-Za-z0-9_]*)$ ]]; then
				var="${BASH_REMATCH[1]}"
				if [[ "$word" == '${'* ]]; then split=no; else split=yes; fi
				if [[ ! -v "value[$var]" ]]; then
					fail "$unit: ExecStart uses \$$var, which no EnvironmentFile= of the unit sets"
				elif [[ $split == no ]]; then
					# One argument: empty would pass "" to the program.
					if [[ -z "${value[$var]}" ]]; then
						fail "$unit: ExecStart passes \${$var} as one argument, but it is empty"
					else
						check_word "$unit" "$name" "value of \${$var}" "${value[$var]%% *}"
					fi
				else
					read -ra parts <<<"${value[$var]}"
					for part in "${parts[@]}"; do
						check_word "$unit" "$name" "in \$$var" "$part"
					done
				fi
				# The commented-out examples of the variable, as an operator would uncomment them.
				while IFS= read -r example; do
					[[ -n "$example" ]] || continue
					rest="${example#*:}"
					where="${example%%:*}:${rest%%:*}"
					read -ra parts <<<"${rest#*:}"
					if [[ $split == no ]]; then parts=("${parts[0]:-}"); fi
					for part in "${parts[@]}"; do
						check_word "$unit" "$name" "commented example of \$$var, $where" "$part"
					done
				done <<<"${examples[$var]:-}"
			elif [[ "$word" == *'$'* ]]; then
				# A variable inside a word (--flag=${VAR}): the option part is checked; the
				# variable must be set.
				check_word "$unit" "$name" "ExecStart" "$word"
				while [[ "$word" =~ \$\{?([A-Za-z_][A-Za-z0-9_]*) ]]; do
					var="${BASH_REMATCH[1]}"
					[[ -v "value[$var]" ]] || fail "$unit: ExecStart uses \$$var, which no EnvironmentFile= of the unit sets"
					word="${word/\$/}"
				done
			else
				check_word "$unit" "$name" "ExecStart" "$word"
			fi
		done
	done
	echo "ok so far: $unit: $checked options checked against $name --help"
	unset value examples
done

for env_path in "$dir"/*.env; do
	[[ -n "${used_env[$(basename "$env_path")]:-}" ]] ||
		fail "$(basename "$env_path"): no unit in $dir reads it (EnvironmentFile=)"
done

# systemd's own parser, on copies whose ExecStart runs the binaries given here (verify wants an
# executable program). It exits 0 on most parse errors (an unknown key, a bad value: "...,
# ignoring"), so any line it prints about the unit is a problem; lines about other units (of
# the host, pulled in by dependencies) are shown as notes.
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir "$tmp/units"
	for unit_path in "${units[@]}"; do
		unit="$(basename "$unit_path")"
		sed -E \
			-e "s#^(ExecStart=[-@+!:]*)[^[:space:]]*/dsync-node([[:space:]]|\$)#\\1${node_bin}\\2#" \
			-e "s#^(ExecStart=[-@+!:]*)[^[:space:]]*/aivm([[:space:]]|\$)#\\1${aivm_bin}\\2#" \
			"$unit_path" >"$tmp/units/$unit"
		status=0
		output="$(cd "$tmp/units" && timeout 120 systemd-analyze verify --man=no "./$unit" 2>&1)" || status=$?
		ours=0
		while IFS= read -r line; do
			[[ -n "$line" ]] || continue
			if [[ "$line" == *"$unit"* ]]; then
				fail "systemd-analyze verify: ${line//$tmp\/units\//}"
				ours=1
			else
				echo "note: systemd-analyze verify ($unit): $line"
			fi
		done <<<"$output"
		if [[ $status -ne 0 && $ours -eq 0 ]]; then
			fail "systemd-analyze verify $unit exited with $status"
		fi
		[[ $status -ne 0 || $ours -ne 0 ]] || echo "ok so far: $unit: systemd-analyze verify accepts it"
	done
else
	echo "skipped: systemd-analyze is not installed, the units were not verified by systemd's parser"
fi

if [[ $problems -gt 0 ]]; then
	echo "check-operator-units: $problems problem(s) in $dir" >&2
	exit 1
fi
echo "check-operator-units: all units in $dir pass (dsync-node: $node_bin, aivm: $aivm_bin)"
