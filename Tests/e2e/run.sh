#!/usr/bin/env bash
# End-to-end test: what a new user does after the README's first command. Builds voxgan and
# voxgan-serve (release), starts the server on the bundled model on 127.0.0.1 with a free port,
# fetches the viewer page, a chair as binvox, OBJ and PNG with curl, 100 chairs in one batch
# request, checks a JSON error and the CLI's one-line errors (a weights file described, a write
# into a missing folder, outputs through a symlink and into a FIFO, eval's paths checked first,
# a usage error naming the whole command),
# and stops the server by its PID. Only loopback traffic.
#
#   Tests/e2e/run.sh            # model: $VOXGAN_WEIGHTS, else Models/chairs32.h5, else --synthetic
#   VOXGAN_SCRATCH=.build-me Tests/e2e/run.sh   # SwiftPM scratch path (default .build)
#
# Last line: `e2e: N passed, M failed`; exit status 1 when anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

scratch="${VOXGAN_SCRATCH:-.build}"
work="$(mktemp -d "${TMPDIR:-/tmp}/voxgan-e2e.XXXXXX")"
passed=0
failed=0
server_pid=""

pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1: $2"; }

finish() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    if ((failed > 0)) && [[ -f "$work/server.log" ]]; then
        echo "--- server log (last 20 lines) ---"
        tail -n 20 "$work/server.log"
    fi
    rm -rf "$work"
    echo "e2e: $passed passed, $failed failed"
    ((failed == 0))
}
trap 'finish; exit $?' EXIT

# 1. Build the two executables the steps use (quick when `swift test -c release` ran first).
build() {
    swift build -c release --scratch-path "$scratch" --product "$1" >>"$work/build.log" 2>&1
}
if ! build voxgan-serve || ! build voxgan; then
    tail -n 30 "$work/build.log"
    fail build "swift build -c release failed"
    exit 1
fi
bin="$scratch/release"
pass build

# 2. Start the server on the bundled model (or the one asked for) and wait until ready.
if [[ -n "${VOXGAN_WEIGHTS:-}" ]]; then
    model=(--weights "$VOXGAN_WEIGHTS")
elif [[ -f Models/chairs32.h5 ]]; then
    model=()    # the server's default: the bundled Models/chairs32.h5
else
    echo "e2e: Models/chairs32.h5 is not there yet: testing with the synthetic model"
    model=(--synthetic)
fi
# The default cap on chairs per batch request (256) admits the 100 asked for below.
"$bin/voxgan-serve" --host 127.0.0.1 --port 0 --threads 2 "${model[@]}" \
    >"$work/server.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 1 600); do
    if [[ -z "$port" ]]; then
        port="$(sed -n 's#.*listening on http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$work/server.log")"
    fi
    if [[ -n "$port" ]] && grep -q "voxgan-serve: ready" "$work/server.log"; then break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.2
done
base="http://127.0.0.1:$port"
if [[ -n "$port" ]] && curl -fsS -o /dev/null "$base/readyz"; then
    pass "server ready on $base ($(sed -n 's/.*ready (\(.*\))/\1/p' "$work/server.log"))"
else
    fail server "not ready within 120 s"
    exit 1
fi

# 3. The viewer page and the three.js modules it imports.
if curl -fsS "$base/" -o "$work/index.html" && grep -q 'type="importmap"' "$work/index.html" \
    && curl -fsS -o /dev/null "$base/app.js" \
    && curl -fsS -o /dev/null "$base/vendor/three/build/three.module.js" \
    && curl -fsS -o /dev/null "$base/vendor/three/examples/jsm/controls/OrbitControls.js"; then
    pass "viewer page and three.js served"
else
    fail viewer "GET / or its scripts failed"
fi

# 4. A chair as binvox: voxgan info reads it.
if curl -fsS "$base/v1/sample?seed=1" -o "$work/chair.binvox" \
    && "$bin/voxgan" info "$work/chair.binvox" >"$work/info.txt" 2>&1; then
    pass "binvox: $(grep -m1 occupied "$work/info.txt" | tr -s ' ')"
else
    fail binvox "$(cat "$work/info.txt" 2>/dev/null | head -3)"
fi

# 5. OBJ: vertices and faces.
if curl -fsS "$base/v1/sample?seed=1&format=obj" -o "$work/chair.obj" \
    && grep -q '^v ' "$work/chair.obj" && grep -q '^f ' "$work/chair.obj"; then
    pass "obj: $(grep -c '^v ' "$work/chair.obj") vertices," \
        "$(grep -c '^f ' "$work/chair.obj") faces"
else
    fail obj "no v/f lines"
fi

# 6. PNG: the signature.
if curl -fsS "$base/v1/sample?seed=1&format=png&size=256" -o "$work/chair.png" \
    && [[ "$(head -c 8 "$work/chair.png" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]]; then
    pass "png: $(stat -c %s "$work/chair.png") bytes"
else
    fail png "not a PNG"
fi

# 7. A batch client: 100 chairs in one request, one tar entry each.
if curl -fsS -X POST "$base/v1/samples" -H 'Content-Type: application/json' \
        -d '{"count": 100, "seed": 1000, "format": "tar"}' -o "$work/chairs.tar" \
    && entries="$(tar -tf "$work/chairs.tar" | wc -l)" && [[ "$entries" == 100 ]]; then
    pass "batch: 100 chairs in one request ($(stat -c %s "$work/chairs.tar") bytes of tar)"
else
    fail batch "expected 100 tar entries, got ${entries:-none}"
fi

# 8. Errors are JSON naming the field.
status="$(curl -sS -o "$work/error.json" -w '%{http_code}' "$base/v1/sample?seed=abc")"
if [[ "$status" == 400 ]] && grep -q '"field":"seed"' "$work/error.json"; then
    pass "error: 400 $(head -c 100 "$work/error.json")"
else
    fail error "status $status, body $(head -c 200 "$work/error.json")"
fi

# 9. The CLI on the user's mistakes: one line each, naming the file or the whole command.
weights_file="${VOXGAN_WEIGHTS:-Models/chairs32.h5}"
if [[ -f "$weights_file" ]] && "$bin/voxgan" info "$weights_file" >"$work/weights.txt" 2>&1 \
    && grep -q '^resolution' "$work/weights.txt" && grep -q '^z ' "$work/weights.txt"; then
    pass "info on a weights file: $(grep -m1 '^z ' "$work/weights.txt" | tr -s ' ')"
elif [[ ! -f "$weights_file" ]]; then
    pass "info on a weights file: skipped (no $weights_file)"
else
    fail info "$(head -3 "$work/weights.txt")"
fi
"$bin/voxgan" convert "$work/chair.binvox" /nonexistent/chair.obj 2>"$work/write.txt"
code=$?
if [[ "$code" == 1 && "$(wc -l <"$work/write.txt")" == 1 ]] \
    && grep -q "cannot write /nonexistent/chair.obj: no such folder" "$work/write.txt"; then
    pass "write error: $(cat "$work/write.txt")"
else
    fail write "exit $code: $(cat "$work/write.txt")"
fi
# Outputs that are links or FIFOs (in our own temporary folder, never a real device): the link
# stays and its target is written; the FIFO stays a FIFO and gets the bytes; a reader that
# closes early is a one-line error, exit 1.
mkdir -p "$work/links" && : >"$work/links/target.obj" && ln -s target.obj "$work/links/link.obj"
"$bin/voxgan" convert "$work/chair.binvox" "$work/links/link.obj" >/dev/null 2>"$work/link.txt"
if [[ -L "$work/links/link.obj" && -s "$work/links/target.obj" ]]; then
    pass "output through a symlink keeps the link"
else
    fail symlink "$(cat "$work/link.txt")"
fi
mkfifo "$work/pipe.obj"
wc -c <"$work/pipe.obj" >"$work/pipe.count" &
reader=$!
"$bin/voxgan" convert "$work/chair.binvox" "$work/pipe.obj" >/dev/null 2>"$work/pipe.txt"
code=$?
wait "$reader"
head -c 16 <"$work/pipe.obj" >/dev/null &
reader=$!
"$bin/voxgan" convert "$work/chair.binvox" "$work/pipe.obj" >/dev/null 2>"$work/pipe2.txt"
code2=$?
wait "$reader"
if [[ "$code" == 0 && -p "$work/pipe.obj" && "$(cat "$work/pipe.count")" -gt 1000 \
      && "$code2" == 1 && "$(wc -l <"$work/pipe2.txt")" == 1 ]]; then
    pass "output into a FIFO: $(cat "$work/pipe.count") bytes, then $(cat "$work/pipe2.txt")"
else
    fail fifo "exit $code, $code2: $(cat "$work/pipe.txt" "$work/pipe2.txt")"
fi
started=$SECONDS
"$bin/voxgan" eval --reference /nonexistent/chairs.h5 --count 1000 2>"$work/eval.txt"
code=$?
if [[ "$code" == 1 ]] && ((SECONDS - started < 5)) && grep -q -- '--reference' "$work/eval.txt"; then
    pass "eval checks its paths first: $(cat "$work/eval.txt")"
else
    fail eval "exit $code after $((SECONDS - started)) s: $(cat "$work/eval.txt")"
fi
"$bin/voxgan" convert --no-such-option 2>"$work/usage.txt"
if grep -q "(see 'voxgan convert --help')" "$work/usage.txt"; then
    pass "usage error: $(cat "$work/usage.txt")"
else
    fail usage "$(cat "$work/usage.txt")"
fi

# 10. SIGTERM stops the server cleanly.
kill -TERM "$server_pid"
wait "$server_pid"
code=$?
server_pid=""
if [[ "$code" == 0 ]]; then pass "server stopped (exit 0)"; else fail stop "exit status $code"; fi
