#!/bin/sh
# quiet-downloads.sh LOG COMMAND [ARG...] runs COMMAND with its standard
# error held back: the go command's "go: downloading MODULE VERSION" lines
# (hundreds on a cold module cache, the tools modules pull cloud SDKs) go
# to LOG, with one line saying how many and where; every other line is
# printed when COMMAND ends. It exits with COMMAND's status.
log=$1
shift
err=$(mktemp "${TMPDIR:-/tmp}/orgdb-stderr.XXXXXX") || exit 2
"$@" 2>"$err"
status=$?
n=$(grep -c '^go: downloading ' "$err")
if [ "$n" -gt 0 ]; then
  grep '^go: downloading ' "$err" >>"$log"
  echo "go: downloaded $n modules on this first run (listed in $log)"
fi
grep -v '^go: downloading ' "$err" >&2
rm -f "$err"
exit "$status"
