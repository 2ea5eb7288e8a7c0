#!/usr/bin/env bash
# The Dockerfile checked without a container engine (CI has none, and Docker Hub is not
# reachable from every builder): its base image is this Debian release's slim image, so the
# package names checked here are the image's; the runtime stage installs the package of every
# library the built daemon and plugins link; the build stage installs debian/control's
# Build-Depends (which .ci/packages carries); its make commands exist; the container's config
# (the Dockerfile's own sed over the installed one) is valid, listens where EXPOSE says, and
# the HEALTHCHECK command, run as written, passes against the daemon the CMD starts.
# docs/operating.md "Container".
. "$(dirname "$0")/lib.sh"

DF=$ROOT/Dockerfile
[ -f "$DF" ] || fail "no Dockerfile"
# The instructions, continuation lines joined: one "STAGE INSTRUCTION ARGS" a line.
/usr/bin/python3 - "$DF" >"$T/instr" <<'PY'
import re, sys
text = re.sub(r"\\\n", " ", open(sys.argv[1]).read())
stage = -1
for line in text.splitlines():
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    word, _, rest = line.partition(" ")
    if word.upper() == "FROM":
        stage += 1
    print(stage, word.upper(), re.sub(r"\s+", " ", rest))
PY
last=$(awk '$2 == "FROM"' "$T/instr" | tail -1 | cut -d' ' -f1)
. /etc/os-release
awk '$2 == "FROM" {print $3}' "$T/instr" | sort -u >"$T/bases"
[ "$(cat "$T/bases")" = "debian:$VERSION_CODENAME-slim" ] ||
    fail "base images $(tr '\n' ' ' <"$T/bases")want debian:$VERSION_CODENAME-slim (this machine's release)"
[ "$last" -ge 1 ] || fail "want a build stage and a runtime stage"
pass "every stage is FROM debian:$VERSION_CODENAME-slim"

# apt-get install lists per stage: the words after `install` that are not options
apt_list() { # STAGE
    awk -v s="$1" '$1 == s && $2 == "RUN"' "$T/instr" | grep -o 'apt-get install [^&|;]*' |
        tr ' ' '\n' | grep -v -e '^-' -e '^apt-get$' -e '^install$' -e '^$' | sort -u
}
apt_list "$last" >"$T/runtime.pkgs"
apt_list 0 >"$T/build.pkgs"
[ -s "$T/runtime.pkgs" ] && [ -s "$T/build.pkgs" ] || fail "no apt-get install in a stage"
for p in $(cat "$T/runtime.pkgs" "$T/build.pkgs" | sort -u); do
    apt-cache show --no-all-versions "$p" >/dev/null 2>&1 || fail "no Debian package $p"
done
# the package of each library the daemon and the bundled plugins link directly (the dynamic
# loader and libc are libc6's: in every Debian image)
owner() { # PATH: its Debian package (dpkg knows a library under /lib or /usr/lib)
    local p o
    for p in "$1" "/usr$1" "$(readlink -f "$1")"; do
        o=$(dpkg -S "$p" 2>/dev/null) && { echo "${o%%:*}"; return 0; }
    done
    return 1
}
: >"$T/needed.all"
for bin in "$SIGFLOW" "$PLUGIN_BUILD"/*.so; do
    for lib in $(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        case $lib in ld-linux* | libasan* | libubsan*) continue ;; esac # sanitizers: SANITIZE=1
        path=$(ldd "$bin" | awk -v l="$lib" '$1 == l {print $3}')
        [ -n "$path" ] || fail "$bin: $lib not found"
        owner "$path" >>"$T/needed.all" || fail "no Debian package has $path"
    done
done
sort -u "$T/needed.all" | grep -vx libc6 >"$T/needed.pkgs"
[ -s "$T/needed.pkgs" ] || fail "no linked library found"
missing=$(comm -23 "$T/needed.pkgs" "$T/runtime.pkgs")
[ -z "$missing" ] || fail "the runtime stage lacks $missing (linked by the daemon or a plugin)"
grep -qx curl "$T/runtime.pkgs" || fail "the HEALTHCHECK uses curl: install it"
pass "the runtime stage installs every linked library's package: $(tr '\n' ' ' <"$T/needed.pkgs")"

sed -n '/^Build-Depends:/,/^[A-Z]/p' "$ROOT/debian/control" | sed 's/^Build-Depends://' |
    tr ',' '\n' | sed 's/(.*//; s/ //g' | grep -v -e '^$' -e '^[A-Z]' -e '^debhelper-compat' |
    sort -u >"$T/bdeps"
[ -s "$T/bdeps" ] || fail "no Build-Depends read from debian/control"
missing=$(comm -23 "$T/bdeps" "$T/build.pkgs")
[ -z "$missing" ] || fail "the build stage lacks Build-Depends $missing"
grep -qx build-essential "$T/build.pkgs" || fail "the build stage lacks build-essential"
for p in $(cat "$T/bdeps"); do
    grep -qx "$p" "$ROOT/.ci/packages" || fail "Build-Depends $p is not in .ci/packages"
done
pass "the build stage installs debian/control's Build-Depends, all in .ci/packages"

# the build stage's make commands exist (make -n: what they would run, nothing run)
awk '$1 == 0 && $2 == "RUN"' "$T/instr" | grep -o 'make [^&]*' >"$T/makes"
[ -s "$T/makes" ] || fail "the build stage runs no make"
while read -r cmd; do
    (cd "$ROOT" && eval "$cmd -n BUILD=$T/b") >/dev/null 2>"$T/make.err" ||
        fail "'$cmd' fails: $(head -3 "$T/make.err")"
done < <(sed "s|DESTDIR=[^ ]*|DESTDIR=$T/out|" "$T/makes")
pass "the build stage's make commands exist"

# the container's config: the Dockerfile's sed over the installed one
sedexpr=$(awk '$1 == 0 && $2 == "RUN"' "$T/instr" | grep -o "sed -i .*sigflow\.ini" |
    grep -o "\-e '[^']*'" | sed "s/^-e '//; s/'\$//")
[ -n "$sedexpr" ] || fail "no sed over sigflow.ini in the build stage"
sed -e 's|@PREFIX@|/usr|g' -e 's|@SYSCONFDIR@|/etc|g' -e 's|@LOCALSTATEDIR@|/var|g' \
    "$ROOT/packaging/sigflow.ini.in" >"$T/installed.ini"
cp "$T/installed.ini" "$T/container.ini"
while read -r e; do sed -i -e "$e" "$T/container.ini"; done <<<"$sedexpr"
listen() { sed -n "s/^$1 *= *//p" "$T/container.ini"; }
for k in ingest admin; do
    case $(listen $k) in 0.0.0.0:*) ;; *) fail "container $k = $(listen $k), want 0.0.0.0:PORT" ;; esac
done
expose=$(awk -v s="$last" '$1 == s && $2 == "EXPOSE" {$1 = $2 = ""; print}' "$T/instr" | xargs -n1 | sort)
ports=$(printf '%s\n' "$(listen ingest)" "$(listen admin)" | sed 's/.*://' | sort)
[ "$expose" = "$ports" ] || fail "EXPOSE $(echo $expose) but the config listens on $(echo $ports)"
vol=$(awk -v s="$last" '$1 == s && $2 == "VOLUME" {print $3}' "$T/instr")
[ "$vol" = "$(sed -n 's/^state_dir *= *//p' "$T/container.ini")" ] || fail "VOLUME $vol is not state_dir"
user=$(awk -v s="$last" '$1 == s && $2 == "USER" {print $3}' "$T/instr")
[ -n "$user" ] && [ "$user" != root ] && [ "$user" != 0 ] || fail "USER: '$user', want a non-root user"
awk -v s="$last" '$1 == s && $2 == "RUN"' "$T/instr" | grep -q "useradd [^&]*$user\b" ||
    fail "USER $user is never created"
pass "the container's config listens on 0.0.0.0 at the EXPOSEd ports; VOLUME is state_dir; USER $user"

# CMD as written (config path, ports and state moved into $T) and HEALTHCHECK against it
ADMIN_PORT=$(listen admin | sed 's/.*://')
hc=$(awk -v s="$last" '$1 == s && $2 == "HEALTHCHECK"' "$T/instr" | sed 's/.* CMD //')
grep -q "127.0.0.1:$ADMIN_PORT/healthz" <<<"$hc" || fail "HEALTHCHECK does not ask the admin /healthz: $hc"
A=$(free_port) I=$(free_port)
sed -i -e "s|^admin *=.*|admin = 127.0.0.1:$A|" -e "s|^ingest *=.*|ingest = 127.0.0.1:$I|" \
    -e "s|^state_dir *=.*|state_dir = $T/var|" \
    -e "s|^\[sigflow\]|[sigflow]\nplugin_dir = $PLUGIN_BUILD|" "$T/container.ini"
entry=$(awk -v s="$last" '$1 == s && $2 == "ENTRYPOINT" {$1 = $2 = ""; print}' "$T/instr")
cmd=$(awk -v s="$last" '$1 == s && $2 == "CMD" {$1 = $2 = ""; print}' "$T/instr")
args=$(/usr/bin/python3 -c 'import json, sys; print(" ".join(json.loads(sys.argv[1]) + json.loads(sys.argv[2])))' "$entry" "$cmd")
[ "${args%% *}" = sigflow ] || fail "the image does not start sigflow: $args"
args=${args#sigflow }
args=${args//\/etc\/sigflow\/sigflow.ini/$T/container.ini}
"$SIGFLOW" $args >"$T/daemon.out" 2>"$T/daemon.log" &
DAEMON_PID=$!
wait_for 20 grep -q running "$T/daemon.log" || fail "the image's CMD did not start: $(tail -3 "$T/daemon.log")"
bash -c "${hc//127.0.0.1:$ADMIN_PORT/127.0.0.1:$A}" >/dev/null || fail "the HEALTHCHECK failed: $hc"
stop_daemon
pass "the image's CMD starts the daemon on an empty volume and its HEALTHCHECK passes"
