#!/usr/bin/env bash
# fuzz-all.sh runs every Fuzz target in the module for the given time each
# (default 10s). A crashing input is written by `go test` to
# <pkg>/testdata/fuzz/<Target>/ and fails this script.
#
# Go 1.26's fuzz coordinator can end a clean run with a bare "context
# deadline exceeded" at the -fuzztime boundary (golang/go#75804, fixed in
# Go 1.27). Such a run wrote no reproducer, so it is reported as a flake and
# retried once; a second failure, or any run that wrote a reproducer, fails.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:-10s}
fail=0
run_one() { # dir pkg target log
	go test -run "^$" -fuzz "^$3\$" -fuzztime "$t" "$2" >"$4" 2>&1
}
snapshot() { ls "$1/testdata/fuzz/$2" 2>/dev/null | sort || true; }
while read -r dir pkg; do
	for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		echo "fuzz: $pkg $f ($t)"
		log=$(mktemp)
		for try in 1 2; do
			before=$(snapshot "$dir" "$f")
			if run_one "$dir" "$pkg" "$f" "$log"; then break; fi
			after=$(snapshot "$dir" "$f")
			if [ "$before" != "$after" ] || ! grep -q 'context deadline exceeded' "$log" || [ "$try" = 2 ]; then
				cat "$log"
				fail=1
				break
			fi
			echo "fuzz: $f ended with the Go 1.26 fuzztime race (no reproducer written); retrying once"
		done
		rm -f "$log"
	done
done < <(go list -f '{{.Dir}} {{.ImportPath}}' ./...)
exit $fail
