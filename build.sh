#!/usr/bin/env bash
# Flowith2Api build entry point.
#   ./build.sh test    install what the tests need (when missing), build, run every test, print a summary
#   ./build.sh deps    only install the system packages the tests and the AppHost use
#   ./build.sh build   only build the solution
#   ./build.sh format  check that the code is formatted (dotnet format)
set -euo pipefail
cd "$(dirname "$0")"

results_dir="${RESULTS_DIR:-$PWD/artifacts/test-results}"

have_postgres() {
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1
}

deps() {
  local missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  have_postgres || missing+=(postgresql)
  command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)   # the web console's browser tests
  command -v node >/dev/null 2>&1 || missing+=(nodejs)       # the official Node SDKs as clients (tests/node-clients)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  if [ "$(id -u)" != "0" ]; then
    echo "Missing system packages: ${missing[*]}. Install them (sudo apt-get install -y ${missing[*]}) and run again." >&2
    exit 1
  fi
  echo "Installing ${missing[*]} ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# The official OpenAI and Anthropic Node SDKs the end-to-end tests drive, as pinned by tests/node-clients/package-lock.json.
node_clients() {
  npm ci --prefix tests/node-clients --no-audit --no-fund --loglevel=error >/dev/null
}

build() {
  dotnet build Flowith2Api.sln -c Debug -warnaserror --nologo -v minimal
}

format_check() {
  dotnet format Flowith2Api.sln --verify-no-changes --no-restore -v quiet
}

summary() {
  local passed=0 failed=0 skipped=0 total=0 file counters
  for file in "$results_dir"/*.trx; do
    [ -f "$file" ] || continue
    counters=$(grep -o '<Counters [^>]*' "$file" | head -n 1)
    total=$((total + $(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")))
    passed=$((passed + $(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")))
    failed=$((failed + $(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")))
  done
  skipped=$((total - passed - failed))
  echo "${passed} passed, ${failed} failed, ${skipped} skipped"
}

# Every log line and span of every service the tests started was checked for credential- or key-shaped text
# (tests/Flowith2Api.Tests/Infrastructure/SecretScan.cs); any finding fails the run.
secret_scan() {
  local dir="$PWD/artifacts/secret-scan"
  if ! compgen -G "$dir/summary-*.txt" >/dev/null; then
    echo "secret scan: nothing was scanned (no summary): the scan itself is broken" >&2
    return 1
  fi
  cat "$dir"/summary-*.txt | sed 's/^/secret scan: /' 
  if compgen -G "$dir/findings-*.txt" >/dev/null; then
    echo "secret scan: secrets reached logs or traces:" >&2
    head -n 50 "$dir"/findings-*.txt >&2
    return 1
  fi
  echo "secret scan: no credential, key or secret in any log line or span"
}

test_all() {
  deps
  node_clients
  build
  format_check
  rm -rf "$results_dir" "$PWD/artifacts/secret-scan"
  mkdir -p "$results_dir"
  local status=0
  # The functional tests first (their projects side by side), then the reliability suites on their own: those drive
  # the machine at full load on purpose and would starve the timing of everything running next to them.
  dotnet test tests/functional.slnf --no-build --nologo \
    --logger "trx" --results-directory "$results_dir" \
    --blame-hang-timeout 5m || status=$?
  dotnet test tests/Flowith2Api.Reliability.Tests/Flowith2Api.Reliability.Tests.csproj --no-build --nologo \
    --logger "trx" --results-directory "$results_dir" \
    --blame-hang-timeout 5m || status=$?
  summary
  secret_scan || status=1
  return "$status"
}

case "${1:-test}" in
  deps) deps; node_clients ;;
  build) build ;;
  format) format_check ;;
  test) test_all ;;
  *) echo "usage: $0 [test|deps|build|format]" >&2; exit 2 ;;
esac
