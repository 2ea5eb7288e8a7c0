#!/usr/bin/env bash
# gen-man.sh SIGFLOW VERSION: sigflow(1) in roff, written from the same text as `sigflow
# --help` and each `sigflow COMMAND --help` (the man page cannot drift from the binary).
set -eu
bin=$1 version=$2
esc() { sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\\&'/"; }
cat <<ROFF
.TH SIGFLOW 1 "" "sigflow $version" "User Commands"
.SH NAME
sigflow \- score one business decision from your tools' events and deliver alerts
.SH SYNOPSIS
.B sigflow
.I COMMAND
.RI [ OPTIONS ]
.SH DESCRIPTION
.nf
ROFF
"$bin" --help | esc
echo ".fi"
echo ".SH COMMANDS"
for cmd in $("$bin" --help | awk '/^  [a-z]/ {print $1}'); do
    echo ".SS $cmd"
    echo ".nf"
    "$bin" "$cmd" --help 2>&1 | esc || true
    echo ".fi"
done
cat <<'ROFF'
.SH FILES
.TP
.I /etc/sigflow/sigflow.ini
the configuration (relative paths in it are resolved against its directory)
.TP
.I /var/lib/sigflow
the state: journal, scoring checkpoints, outbox (state_dir)
.SH SEE ALSO
The reference pages in the source tree: docs/quickstart.md, docs/config.md,
docs/tuning.md, docs/scoring.md.
ROFF
