#!/bin/sh
# announce.sh SECONDS MESSAGE COMMAND [ARG...] runs COMMAND and, if it is
# still running after SECONDS (a first build on a cold Go build cache),
# prints MESSAGE once, so that a long first run says what it is doing.
# It exits with COMMAND's status.
secs=$1 msg=$2
shift 2
(sleep "$secs" >/dev/null 2>&1 && echo "$msg") &
timer=$!
"$@"
status=$?
kill "$timer" 2>/dev/null
exit "$status"
