#!/usr/bin/env bash
# Runs every native fuzz target in the module for a short time each
# (FUZZTIME, default 3s): a smoke run in CI; run longer by hand.
set -euo pipefail
fuzztime=${FUZZTIME:-3s}
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' || true)
	for t in $targets; do
		echo "fuzz: $pkg $t ($fuzztime)"
		go test -run='^$' -fuzz="^${t}\$" -fuzztime="$fuzztime" "$pkg" >/tmp/nlkit-fuzz.log 2>&1 || {
			cat /tmp/nlkit-fuzz.log
			echo "fuzz: $pkg $t FAILED" >&2
			exit 1
		}
	done
done
