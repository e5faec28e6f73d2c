#!/bin/sh
# announce.sh SECONDS MESSAGE COMMAND [ARG...] runs COMMAND, passing its
# output (standard error merged into standard output) through line by line,
# so that a long first run says what it is doing and is never silent for a
# minute:
#
#   - if COMMAND is still running after SECONDS and has printed nothing yet
#     but "go: downloading" lines (a go command compiling on a cold Go build
#     cache), MESSAGE is printed once (an empty MESSAGE prints nothing);
#   - whenever COMMAND has printed nothing for ANNOUNCE_EVERY seconds
#     (default 30), one line says it is still running and for how long,
#     e.g. "test: still running (2m30s so far)"; the label is MESSAGE up to
#     its first colon.
#
# It exits with COMMAND's status. POSIX sh: make runs it with sh.
secs=$1 msg=$2
shift 2
every=${ANNOUNCE_EVERY:-30}
label=${msg%%:*}
[ -n "$label" ] || label=$1

# A ticker writes a line holding only SOH (never in a go command's output)
# into the same pipe every second; the reader counts them. Its sleep does
# not hold the pipe, so the reader sees the end as soon as COMMAND ends.
tick=$(printf '\001')
{
	(while sleep 1 >/dev/null 2>&1; do echo "$tick"; done) &
	timer=$!
	"$@" 2>&1
	status=$?
	kill "$timer" 2>/dev/null
	echo "${tick}exit $status"
} | {
	all=0 quiet=0 said=
	while IFS= read -r line; do
		case $line in
		*"${tick}exit "*)
			# The end, possibly after an unterminated line of output.
			rest=${line%%"${tick}exit "*}
			[ -z "$rest" ] || printf '%s\n' "$rest"
			exit "${line##*"${tick}exit "}"
			;;
		*"$tick")
			# A tick, possibly after an unterminated line of output.
			rest=${line%"$tick"}
			if [ -n "$rest" ]; then
				printf '%s\n' "$rest"
				quiet=0 said=1
			fi
			all=$((all + 1)) quiet=$((quiet + 1))
			if [ -z "$said" ] && [ "$all" -ge "$secs" ]; then
				said=1
				if [ -n "$msg" ]; then
					printf '%s\n' "$msg"
					quiet=0
				fi
			fi
			if [ "$quiet" -ge "$every" ]; then
				printf '%s: still running (%dm%02ds so far)\n' "$label" $((all / 60)) $((all % 60))
				quiet=0
			fi
			;;
		"go: downloading "*)
			# The go command fetching modules, before it compiles.
			printf '%s\n' "$line"
			quiet=0
			;;
		*)
			printf '%s\n' "$line"
			quiet=0 said=1
			;;
		esac
	done
	echo "announce.sh: lost the end of: $*" >&2
	exit 1
}
