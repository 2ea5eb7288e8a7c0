#!/usr/bin/env bash
# `sigflow check` on the delivery keys the core owns (when, hours, timezone, urgent_above,
# mode/every/at, link.NAME) and on template-typed plugin options: each mistake is reported
# at its FILE:LINE, and a correct section passes.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
base() {
    cat <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
[decision]
name = d
question = Will it churn?
threshold = 0.5
deliver = out
[signal logins]
event = login
measure = count
window = 1d
cap = 2
[connector in]
plugin = file
path = /dev/null
[delivery out]
plugin = console
format = text
INI
}

# check_refuses KEYLINE EXPECTED: KEYLINE appended to [delivery out] is reported at its line.
check_refuses() {
    { base; echo "$1"; } >"$T/bad.ini"
    local line
    line=$(grep -nF -- "$1" "$T/bad.ini" | head -1 | cut -d: -f1)
    "$SIGFLOW" check -c "$T/bad.ini" >"$T/bad.out" 2>&1 && fail "accepted: $1"
    grep -qF "$T/bad.ini:$line:" "$T/bad.out" || fail "no $T/bad.ini:$line: for '$1': $(cat "$T/bad.out")"
    grep -qF -- "$2" "$T/bad.out" || fail "'$1': expected '$2' in: $(cat "$T/bad.out")"
}

{
    base
    cat <<'INI'
template = {{title}} {{entity}} {{#reasons}}{{text}} {{/reasons}}{{link.crm}}
when = score >= 0.9 and attr.plan = "pro" and signal.logins > 0.5
hours = Mon-Fri 09:00-18:00, Sat 10:00-12:00
timezone = Europe/Berlin
urgent_above = 0.97
link.crm = https://crm.example.com/accounts/{{entity}}
INI
} >"$T/good.ini"
"$SIGFLOW" check -c "$T/good.ini" >"$T/good.out" 2>&1 || fail "valid delivery keys refused: $(cat "$T/good.out")"
pass "check accepts when, hours, timezone, urgent_above and link.NAME"

check_refuses 'template = {{entity}} {{scor}}' 'unknown name {{scor}} (did you mean `score`?)'
check_refuses 'when = score >= 0.9 and signal.nosuch > 0' 'no [signal nosuch] in the decision'
check_refuses 'when = plan = pro' 'expected score, attr.NAME or signal.NAME'
check_refuses 'hours = Mon-Fri 18:00-09:00' 'must end after it starts'
check_refuses 'timezone = Europe/Atlantis' 'unknown time zone `Europe/Atlantis`'
check_refuses 'timezone = {{attr.zone' '{{ without }}'
check_refuses 'urgent_above = 2' 'between 0 and 1'
check_refuses 'link.crm = https://x/{{entty}}' 'unknown name {{entty}}'
check_refuses 'mode = digest' 'cannot send digests'
check_refuses 'every = 1d' 'applies to mode = digest only'
pass "check reports each bad delivery key and template at its FILE:LINE"
