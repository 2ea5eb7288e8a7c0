#!/usr/bin/env bash
# No doc names a command, an option, a make target or a file that does not exist
# (tests/support/doc_refs.py over README.md and docs/*.md). The checker is first shown to
# catch each kind of slip in a planted doc.
. "$(dirname "$0")/lib.sh"

CHECK=$ROOT/tests/support/doc_refs.py
cat >"$T/planted.md" <<'MD'
Run `sigflow chek -c sigflow.ini`, then

    sigflow replay --progres -c sigflow.ini events.ndjson
    make debs
    sigflow journal -c x.ini | jq --raw-output .entity > out.txt

and read docs/nonexistent.md, conf/sigflow.ini and plugins/<dir>/plugin.mk.
MD
/usr/bin/python3 "$CHECK" "$ROOT" "$SIGFLOW" "$T/planted.md" >"$T/planted.out" && fail "the planted doc passed"
for want in '`sigflow chek`: no such command' '`sigflow replay --progres`: no such option' \
    '`make debs`: no such target' 'docs/nonexistent.md does not exist'; do
    grep -qF "$want" "$T/planted.out" || fail "the checker missed: $want ($(cat "$T/planted.out"))"
done
[ "$(wc -l <"$T/planted.out")" -eq 4 ] || fail "false positives in the planted doc: $(cat "$T/planted.out")"
pass "the checker finds a wrong command, option, make target and path (and nothing else)"

/usr/bin/python3 "$CHECK" "$ROOT" "$SIGFLOW" >"$T/out" || fail "docs name what does not exist:
$(cat "$T/out")"
pass "README.md and docs/*.md name only commands, options, make targets and files that exist"
