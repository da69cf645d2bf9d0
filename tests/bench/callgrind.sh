#!/usr/bin/env bash
# Instruction counts (callgrind's Ir) of exactly one full handshake, one
# resumed handshake (a resumption ticket instead of public_key), and of
# exactly 1 MiB through the secure channel (AES-GCM and ChaChaPoly), both
# sides in one thread: bench-callgrind switches collection on for that
# unit only. Unlike times, these do not depend on the machine's load, so a
# change to the code can be compared exactly (on the same CPU features:
# Botan picks AES-NI/AVX2 code paths at run time).
#
#   tests/bench/callgrind.sh BENCH_CALLGRIND_EXE OUT.json WORKDIR
#
# Writes {"handshake_ir": N, "handshake_ir_runs": [N, N, N], "resumed_handshake_ir": N, "aesgcm_1mib_ir": N,
# "chachapoly_1mib_ir": N}. The 1 MiB counts repeat exactly; a handshake's
# varies by about 1% from run to run (Ed25519 verification is variable-time
# and signs fresh ephemeral keys), so it runs three times: the median is
# reported, and all three.
set -uo pipefail
exe=$1 out=$2 dir=$3
mkdir -p "$dir"

# ir NAME ARGS...: runs one unit under callgrind (bounded: 300 s) and prints its Ir total.
ir() {
  local name=$1; shift
  local file=$dir/callgrind.$name.out
  if ! timeout 300 valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$file" \
      "$exe" "$@" >"$dir/callgrind.$name.log" 2>&1; then
    echo "callgrind $name failed:" >&2; tail -n 5 "$dir/callgrind.$name.log" >&2
    echo null; return
  fi
  awk '/^totals:/ { print $2; found = 1 } END { if (!found) print "null" }' "$file"
}

runs=()
for i in 1 2 3; do runs+=("$(ir "handshake$i" handshake)"); done
hs=$(printf '%s\n' "${runs[@]}" | grep -v null | sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "null") }')
resumed=$(ir resumed handshake resumed)
aes=$(ir aesgcm 1mib 25519_AESGCM_SHA256)
chacha=$(ir chachapoly 1mib 25519_ChaChaPoly_SHA256)
printf '{"handshake_ir": %s, "handshake_ir_runs": [%s], "resumed_handshake_ir": %s, "aesgcm_1mib_ir": %s, "chachapoly_1mib_ir": %s}\n' \
  "$hs" "$(IFS=,; echo "${runs[*]}")" "$resumed" "$aes" "$chacha" > "$out"
