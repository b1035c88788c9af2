#!/usr/bin/env bash
# Runs the test suite once per Keras backend, each in its own pytest process (the backend is
# fixed when keras is imported). Extra arguments go to pytest. Exits non-zero if any backend failed.
set -u
cd "$(dirname "$0")/.."
status=0
echo "================ layering (import-linter, pyproject.toml) ================"
lint-imports || status=1
for backend in ${KERAS_AE_TEST_BACKENDS:-tensorflow jax torch}; do
    echo "================ KERAS_BACKEND=$backend ================"
    KERAS_BACKEND=$backend python -m pytest tests -q -p no:cacheprovider "$@" || status=1
done
exit $status
