#!/usr/bin/env bash
# The test command: the layering check (import-linter), then the suite once per Keras backend,
# each in its own pytest process (the backend is fixed when keras is imported): the layer and
# model batteries under every backend, the CLI/procedure/report modules under the one backend
# tests/conftest.py's ONE_BACKEND names (KERAS_AE_ALL_BACKENDS=1: everything everywhere). The
# backends run side by side (KERAS_AE_TEST_JOBS=1 runs them one after another); each one's output
# is printed whole, in order, when it ends. Extra arguments go to pytest. Exits non-zero if the
# layering check or any backend failed.
set -u
cd "$(dirname "$0")/.."
status=0
echo "================ layering (import-linter, pyproject.toml) ================"
lint-imports || status=1
backends=(${KERAS_AE_TEST_BACKENDS:-tensorflow jax torch})
jobs=${KERAS_AE_TEST_JOBS:-${#backends[@]}}
logs=$(mktemp -d)
run() {
    local started=$SECONDS
    KERAS_BACKEND=$1 python -m pytest tests -q -p no:cacheprovider "${@:2}" > "$logs/$1.log" 2>&1
    local rc=$?
    echo "($1: ${SECONDS}s since the suite started, $((SECONDS - started))s for this backend)" >> "$logs/$1.log"
    return $rc
}
declare -A pids
for backend in "${backends[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    run "$backend" "$@" &
    pids[$backend]=$!
done
for backend in "${backends[@]}"; do
    wait "${pids[$backend]}" || status=1
    echo "================ KERAS_BACKEND=$backend ================"
    cat "$logs/$backend.log"
done
rm -rf "$logs"
exit $status
