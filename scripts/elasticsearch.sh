#!/usr/bin/env bash
# Real Elasticsearch for hpmon's tests, from Maven Central (no Docker, no download site).
#
#   scripts/elasticsearch.sh fetch                      # get + unpack the server (idempotent)
#   scripts/elasticsearch.sh start [--nodes N] [--port P] [--cluster NAME] [--keep-data]
#   scripts/elasticsearch.sh stop [--cluster NAME] [--remove]  # no --cluster: every cluster;
#                                                       # --remove: delete its data and run dir
#   scripts/elasticsearch.sh status [--cluster NAME]
#   scripts/elasticsearch.sh kill-node I [--cluster NAME]   # SIGKILL node I
#   scripts/elasticsearch.sh start-node I [--cluster NAME]  # restart node I (keeps its data)
#   scripts/elasticsearch.sh url [--cluster NAME]       # print the URL(s), comma separated
#
# Environment: HPMON_ES_VERSION (default below), HPMON_ES_PORT (HTTP port of node 1,
# default 9200; node i gets PORT+i-1, transport ports PORT+100+i-1), HPMON_ES_HEAP
# (default 512m), HPMON_ES_CLUSTER (default hpmon), HPMON_ES_JAVA_HOME / ES_JAVA_HOME
# (a JDK >= 21 for 9.x; default: /usr/lib/jvm/temurin-25-jdk-amd64 or another one found),
# HPMON_ES_TIMEOUT (seconds to wait for health, default 120), HPMON_ES_USER (default hpmon-es),
# HPMON_ES_STATE_DIR (default /var/tmp/hpmon-es-<uid>), HPMON_ES_DOWNLOADS (default
# $XDG_CACHE_HOME/hpmon/elasticsearch, i.e. ~/.cache/hpmon/elasticsearch).
#
# Where things live: the engine runs as an unprivileged user (root runs it as HPMON_ES_USER),
# which may not be able to enter the clone (a 0700 or 0750 parent: root's home, a mktemp -d).
# So nothing it reads or writes is inside the clone: the unpacked server (with the shim) is in
# STATE_DIR/dist/ (shared by every clone, one directory per version and shim source), each
# clone's clusters in STATE_DIR/run-<hash of the clone's path>/ (0711 directories owned by the
# runner, node directories owned by the engine's user, 0700). STATE_DIR must be owned by the
# runner and not a link. The downloaded zip stays in DOWNLOADS (read by the runner only), so a
# new clone does not download it again.
#
# The distribution is org.elasticsearch.distribution.integ-test-zip:elasticsearch:<ver>:zip.
# It has only the modules transport-netty4, x-pack-core, x-pack-security, apm: no
# analysis-common, painless, reindex, ingest-common, mapper-extras, rest-root (GET /).
# fetch therefore builds a small test-only plugin (scripts/es/analysis-shim) that adds
# asciifolding, cjk_width, cjk_bigram, html_strip and the cjk analyzer.
set -euo pipefail

ES_VERSION="${HPMON_ES_VERSION:-9.5.0}"
ES_HEAP="${HPMON_ES_HEAP:-512m}"
ES_PORT_DEFAULT="${HPMON_ES_PORT:-9200}"
ES_CLUSTER_DEFAULT="${HPMON_ES_CLUSTER:-hpmon}"
ES_TIMEOUT="${HPMON_ES_TIMEOUT:-120}"
ES_USER="${HPMON_ES_USER:-hpmon-es}"
SHIM_NAME="hpmon-analysis-shim"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
STATE_DIR="${HPMON_ES_STATE_DIR:-/var/tmp/hpmon-es-$(id -u)}"
DOWNLOADS="${HPMON_ES_DOWNLOADS:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/hpmon/elasticsearch}"
CLONE_KEY="$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)"
DIST="$STATE_DIR/dist"
RUN_BASE="$STATE_DIR/run-$CLONE_KEY"
# before the engine moved out of the clone: read to stop or inspect clusters started from there
LEGACY_RUN_BASE="$ROOT/.cache/es-run"
LEGACY_ZIP_DIR="$ROOT/.cache/elasticsearch"

log() { printf '%s\n' "$*" >&2; }
die() { log "elasticsearch.sh: $*"; exit 1; }

shim_hash() {
    cat "$SCRIPT_DIR"/es/analysis-shim/src/org/hpmon/es/shim/*.java | cksum | cut -d' ' -f1
}

es_home_for() { # version -> the unpacked server of that version with this clone's shim
    echo "$DIST/elasticsearch-$1-shim$(shim_hash)"
}
ES_HOME="$(es_home_for "$ES_VERSION")"

# STATE_DIR and the per-clone folders: owned by us, not links, enterable (not listable) by others
ensure_state_dirs() {
    local d
    for d in "$STATE_DIR" "$DIST" "$RUN_BASE"; do
        if [ ! -d "$d" ]; then mkdir -p -m 0711 "$d" 2>/dev/null || mkdir -p "$d" || die "cannot create $d"; fi
        [ -L "$d" ] && die "$d is a symbolic link; refusing to use it"
        [ -O "$d" ] || die "$d is not owned by $(id -un); remove it or set HPMON_ES_STATE_DIR"
        chmod 0711 "$d"
    done
}

# ---------------------------------------------------------------- java
java_major() { # $1 = java home -> prints major version or nothing
    local out
    out="$("$1/bin/java" -version 2>&1 | head -n1)" || return 0
    out="${out#*version \"}"; out="${out%%\"*}"; out="${out#1.}"
    printf '%s' "${out%%[.+-]*}"
}

need_java_major() {
    local major="${ES_VERSION%%.*}"
    if [ "$major" -ge 9 ]; then echo 21; else echo 17; fi
}

find_java() {
    local want cand m
    want="$(need_java_major)"
    for cand in "${HPMON_ES_JAVA_HOME:-}" "${ES_JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 \
                /usr/lib/jvm/temurin-21-jdk-amd64 "${JAVA_HOME:-}" /usr/lib/jvm/*; do
        [ -n "$cand" ] && [ -x "$cand/bin/java" ] && [ -x "$cand/bin/javac" ] || continue
        m="$(java_major "$cand")"
        if [ -n "$m" ] && [ "$m" -ge "$want" ]; then printf '%s' "$cand"; return 0; fi
    done
    die "no JDK >= $want found for Elasticsearch $ES_VERSION (set HPMON_ES_JAVA_HOME)"
}

# ---------------------------------------------------------------- fetch
cmd_fetch() {
    ensure_state_dirs
    [ -f "$ES_HOME/.hpmon-ready" ] && return 0
    # one fetch at a time per STATE_DIR (clones share the unpacked server)
    exec 9>"$STATE_DIR/.fetch.lock"
    flock 9
    [ -f "$ES_HOME/.hpmon-ready" ] && { exec 9>&-; return 0; }
    local zip="$DOWNLOADS/elasticsearch-$ES_VERSION.zip"
    mkdir -p "$DOWNLOADS"
    if [ ! -s "$zip" ] && [ -s "$LEGACY_ZIP_DIR/elasticsearch-$ES_VERSION.zip" ]; then
        cp "$LEGACY_ZIP_DIR/elasticsearch-$ES_VERSION.zip" "$zip.part-$$" && mv "$zip.part-$$" "$zip"
    fi
    if [ ! -s "$zip" ]; then
        command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
        mvn -B -q -f "$SCRIPT_DIR/es/pom.xml" dependency:copy \
            -Des.version="$ES_VERSION" -Des.outputDirectory="$DOWNLOADS" >"$DOWNLOADS/mvn.log" 2>&1 \
            || { tail -n 30 "$DOWNLOADS/mvn.log" >&2; die "maven could not fetch elasticsearch $ES_VERSION"; }
    fi
    local tmp="$DIST/.unpack-$$"
    rm -rf "$tmp" "$ES_HOME"
    mkdir -p "$tmp"
    if command -v unzip >/dev/null; then
        unzip -q "$zip" -d "$tmp"
    else
        python3 -c 'import sys,zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$zip" "$tmp"
        chmod -R a+rX "$tmp"; chmod a+x "$tmp"/elasticsearch-*/bin/*
    fi
    [ -d "$tmp/elasticsearch-$ES_VERSION" ] || die "unexpected zip layout in $zip"
    build_shim "$tmp/elasticsearch-$ES_VERSION"
    chmod -R a+rX,go-w "$tmp/elasticsearch-$ES_VERSION"
    touch "$tmp/elasticsearch-$ES_VERSION/.hpmon-ready"
    mv "$tmp/elasticsearch-$ES_VERSION" "$ES_HOME"
    rmdir "$tmp"
    exec 9>&-
}

build_shim() { # the unpacked server to add the shim to
    local home="$1" jh src out plug
    [ -d "$home/modules/analysis-common" ] && return 0   # a full distribution needs no shim
    jh="$(find_java)"
    src="$SCRIPT_DIR/es/analysis-shim"
    out="$DIST/.shim-build-$$"
    plug="$home/plugins/$SHIM_NAME"
    rm -rf "$out"; mkdir -p "$out/classes" "$plug"
    "$jh/bin/javac" --release "$(need_java_major)" -nowarn -encoding UTF-8 -cp "$home/lib/*" -d "$out/classes" \
        $(find "$src/src" -name '*.java') >"$out/javac.log" 2>&1 \
        || { cat "$out/javac.log" >&2; die "could not build the analysis shim for $ES_VERSION"; }
    "$jh/bin/jar" --create --file "$plug/$SHIM_NAME.jar" -C "$out/classes" .
    cat >"$plug/plugin-descriptor.properties" <<EOF
description=hpmon test-only shim: asciifolding, cjk_width, cjk_bigram, elision, html_strip, cjk (analysis-common is missing from integ-test-zip)
version=$ES_VERSION
name=$SHIM_NAME
classname=org.hpmon.es.shim.HpmonAnalysisShimPlugin
java.version=$(need_java_major)
elasticsearch.version=$ES_VERSION
EOF
    shim_hash >"$plug/.source-hash"
    rm -rf "$out"
}

# ---------------------------------------------------------------- helpers
is_root() { [ "$(id -u)" -eq 0 ]; }

ensure_user() {
    is_root || return 0
    id "$ES_USER" >/dev/null 2>&1 && return 0
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$ES_USER" \
        || die "could not create user $ES_USER"
}

# run a command as the unprivileged user (root) or as ourselves
as_es_user() {
    if is_root; then
        if command -v runuser >/dev/null; then runuser -u "$ES_USER" -- "$@"
        else su -s /bin/sh "$ES_USER" -c "$(printf '%q ' "$@")"; fi
    else
        "$@"
    fi
}

http_get() { # url -> prints "CODE BODY"
    if command -v curl >/dev/null; then
        local body code
        body="$(curl -s -m 10 -w '\n%{http_code}' "$1" 2>/dev/null)" || { echo "000"; return 0; }
        code="${body##*$'\n'}"; body="${body%$'\n'*}"
        printf '%s %s' "$code" "$body"
    else
        python3 - "$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
        print(r.status, r.read().decode(), end="")
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode(), end="")
except Exception:
    print("000", end="")
PY
    fi
}

# a cluster started before the engine moved out of the clone (.cache/es-run) is still found there
cluster_dir() {
    if [ ! -f "$RUN_BASE/$1/cluster.env" ] && [ -f "$LEGACY_RUN_BASE/$1/cluster.env" ]; then
        echo "$LEGACY_RUN_BASE/$1"
    else
        echo "$RUN_BASE/$1"
    fi
}
node_dir() { echo "$(cluster_dir "$1")/node-$2"; }   # cluster, index

node_pid() { # cluster index -> pid if alive and an elasticsearch process
    local pf pid
    pf="$(node_dir "$1" "$2")/es.pid"
    [ -s "$pf" ] || return 1
    pid="$(cat "$pf" 2>/dev/null)" || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'org.elasticsearch' || return 1
    echo "$pid"
}

load_cluster() { # cluster -> sets NODES PORT VERSION
    local f
    f="$(cluster_dir "$1")/cluster.env"
    [ -f "$f" ] || die "no cluster '$1' (run start first)"
    # shellcheck disable=SC1090
    . "$f"
}

cluster_urls() {
    local i urls=""
    for i in $(seq 1 "$NODES"); do urls="${urls:+$urls,}http://127.0.0.1:$((PORT + i - 1))"; done
    echo "$urls"
}

# bootstrap checks only apply to non-loopback binds (we bind 127.0.0.1 only); raising
# vm.max_map_count is still nice for larger test indices. Best effort, silent.
tune_sysctl() {
    is_root || return 0
    local cur
    cur="$(cat /proc/sys/vm/max_map_count 2>/dev/null || echo 0)"
    if [ "$cur" -lt 262144 ]; then sysctl -q -w vm.max_map_count=262144 >/dev/null 2>&1 || true; fi
}

write_node_config() { # cluster index nodes port
    local cluster="$1" i="$2" n="$3" port="$4" d conf j seeds="" masters=""
    d="$(node_dir "$cluster" "$i")"
    conf="$d/config"
    mkdir -p "$d/data" "$d/logs" "$d/tmp"
    rm -rf "$conf"
    cp -R "$ES_HOME/config" "$conf"
    for j in $(seq 1 "$n"); do
        seeds="${seeds:+$seeds, }\"127.0.0.1:$((port + 100 + j - 1))\""
        masters="${masters:+$masters, }\"node-$j\""
    done
    {
        echo "cluster.name: $cluster"
        echo "node.name: node-$i"
        echo "network.host: 127.0.0.1"
        echo "http.port: $((port + i - 1))"
        echo "transport.port: $((port + 100 + i - 1))"
        echo "path.data: $d/data"
        echo "path.logs: $d/logs"
        if [ "$n" -eq 1 ]; then
            echo "discovery.type: single-node"
        else
            echo "discovery.seed_hosts: [$seeds]"
            echo "cluster.initial_master_nodes: [$masters]"
        fi
        echo "cluster.routing.allocation.disk.threshold_enabled: false"
        echo "action.destructive_requires_name: false"
        echo "action.auto_create_index: true"
        if [ -d "$ES_HOME/modules/x-pack-security" ]; then
            echo "xpack.security.enabled: false"
        fi
        if [ -d "$ES_HOME/modules/x-pack-ml" ]; then echo "xpack.ml.enabled: false"; fi
        if [ -d "$ES_HOME/modules/ingest-geoip" ]; then echo "ingest.geoip.downloader.enabled: false"; fi
    } >"$conf/elasticsearch.yml"
    # the shipped jvm.options writes gc.log relative to ES_HOME (not writable) and
    # keeps up to 32 x 64 MB of it; keep a small one in the node's log dir instead
    sed -i -e "s#^\(.*-Xlog:gc.*\)file=[^:]*:\(.*\)\$#\1file=$d/logs/gc.log:\2#" \
           -e "s#filecount=32,filesize=64m#filecount=2,filesize=8m#" \
           -e "s#-XX:ErrorFile=.*#-XX:ErrorFile=$d/logs/hs_err_pid%p.log#" \
           -e "s#^-XX:HeapDumpPath=.*#-XX:HeapDumpPath=$d/logs#" "$conf/jvm.options"
    if is_root; then chown -R "$ES_USER:" "$d"; fi
}

launch_node() { # cluster index -> starts (daemonised) in background of caller
    local cluster="$1" i="$2" d jh
    d="$(node_dir "$cluster" "$i")"
    jh="$(find_java)"
    rm -f "$d/es.pid"
    # -d returns once the node has started (or failed); its console output goes to launcher.log
    as_es_user env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$d" LANG=C.UTF-8 \
        ES_JAVA_HOME="$jh" ES_PATH_CONF="$d/config" ES_TMPDIR="$d/tmp" \
        ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP" \
        "$ES_HOME/bin/elasticsearch" -d -p "$d/es.pid" >"$d/launcher.log" 2>&1
}

node_log_tail() { # cluster index
    local d f
    d="$(node_dir "$1" "$2")"
    log "---- node-$2: last 50 log lines ($d/logs) ----"
    f="$d/logs/$1.log"
    if [ -s "$f" ]; then tail -n 50 "$f" >&2; fi
    if [ -s "$d/launcher.log" ]; then grep -v '^[[:space:]]*at ' "$d/launcher.log" | tail -n 50 >&2; fi
}

wait_health() { # cluster nodes port status
    local cluster="$1" n="$2" port="$3" want="$4" deadline resp code i
    deadline=$(( $(date +%s) + ES_TIMEOUT ))
    while :; do
        resp="$(http_get "http://127.0.0.1:$port/_cluster/health?wait_for_status=$want&wait_for_nodes=$n&timeout=5s")"
        code="${resp%% *}"
        if [ "$code" = "200" ] && printf '%s' "$resp" | grep -q "\"cluster_name\":\"$cluster\""; then
            return 0
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            log "elasticsearch.sh: cluster '$cluster' not $want with $n node(s) after ${ES_TIMEOUT}s (last answer: ${resp:0:300})"
            for i in $(seq 1 "$n"); do node_log_tail "$cluster" "$i"; done
            return 1
        fi
        # a node that died will not come back by waiting
        for i in $(seq 1 "$n"); do
            if ! node_pid "$cluster" "$i" >/dev/null && [ -f "$(node_dir "$cluster" "$i")/.launched" ] \
               && [ ! -f "$(node_dir "$cluster" "$i")/.killed" ]; then
                log "elasticsearch.sh: node-$i of '$cluster' is not running"
                node_log_tail "$cluster" "$i"
                return 1
            fi
        done
        sleep 1
    done
}

# ---------------------------------------------------------------- commands
parse_opts() {
    OPT_NODES=1; OPT_PORT="$ES_PORT_DEFAULT"; OPT_CLUSTER=""; OPT_KEEP=0; OPT_REMOVE=0; OPT_ARGS=()
    while [ $# -gt 0 ]; do
        case "$1" in
            --nodes) OPT_NODES="${2:?--nodes N}"; shift 2 ;;
            --nodes=*) OPT_NODES="${1#*=}"; shift ;;
            --port) OPT_PORT="${2:?--port P}"; shift 2 ;;
            --port=*) OPT_PORT="${1#*=}"; shift ;;
            --cluster) OPT_CLUSTER="${2:?--cluster NAME}"; shift 2 ;;
            --cluster=*) OPT_CLUSTER="${1#*=}"; shift ;;
            --keep-data) OPT_KEEP=1; shift ;;
            --remove) OPT_REMOVE=1; shift ;;
            -*) die "unknown option $1" ;;
            *) OPT_ARGS+=("$1"); shift ;;
        esac
    done
    case "$OPT_NODES" in ''|*[!0-9]*) die "--nodes wants a number" ;; esac
    case "$OPT_PORT" in ''|*[!0-9]*) die "--port wants a number" ;; esac
    [ "$OPT_NODES" -ge 1 ] || die "--nodes must be >= 1"
}

cmd_start() {
    parse_opts "$@"
    local cluster="${OPT_CLUSTER:-$ES_CLUSTER_DEFAULT}" n="$OPT_NODES" port="$OPT_PORT" i running=0 want cdir
    case "$cluster" in ''|*[!A-Za-z0-9_.-]*) die "bad cluster name '$cluster'" ;; esac
    cmd_fetch
    ensure_user
    tune_sysctl
    cdir="$(cluster_dir "$cluster")"
    if [ -f "$cdir/cluster.env" ]; then
        ( load_cluster "$cluster"
          for i in $(seq 1 "$NODES"); do node_pid "$cluster" "$i" >/dev/null && exit 0; done; exit 1 ) && running=1
    fi
    if [ "$running" -eq 0 ] && [ "$cdir" = "$LEGACY_RUN_BASE/$cluster" ]; then
        # a stopped cluster inside the clone: its data moves out (--keep-data) or goes
        if [ "$OPT_KEEP" -eq 1 ]; then mv "$cdir" "$RUN_BASE/$cluster"; else rm -rf "$cdir"; fi
        cdir="$RUN_BASE/$cluster"
    fi
    if [ "$running" -eq 1 ]; then
        load_cluster "$cluster"
        if [ "$NODES" != "$n" ] || [ "$PORT" != "$port" ] || [ "$VERSION" != "$ES_VERSION" ]; then
            die "cluster '$cluster' already runs with $NODES node(s) on port $PORT (v$VERSION); stop it first"
        fi
    else
        [ "$OPT_KEEP" -eq 1 ] || rm -rf "$cdir"
        mkdir -p "$cdir"
        printf 'NODES=%s\nPORT=%s\nVERSION=%s\n' "$n" "$port" "$ES_VERSION" >"$cdir/cluster.env"
    fi
    if is_root; then
        # the unprivileged user must be able to reach the distribution and the run dirs
        runuser -u "$ES_USER" -- test -x "$ES_HOME/bin/elasticsearch" 2>/dev/null \
            || die "user $ES_USER cannot reach $ES_HOME (a parent of $STATE_DIR is not world-executable); set HPMON_ES_STATE_DIR to a directory it can enter"
        chown "$ES_USER:" "$cdir"
        chmod 0700 "$cdir"
    fi
    local pids=() rc=0 p
    for i in $(seq 1 "$n"); do
        node_pid "$cluster" "$i" >/dev/null && continue
        for p in $((port + i - 1)) $((port + 100 + i - 1)); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
                die "port $p is already in use (another cluster? use --port, or scripts/elasticsearch.sh stop)"
            fi
        done
        write_node_config "$cluster" "$i" "$n" "$port"
        rm -f "$(node_dir "$cluster" "$i")/.killed"
        touch "$(node_dir "$cluster" "$i")/.launched"
        # nodes of a multi-node cluster must start together: each one waits for a quorum
        launch_node "$cluster" "$i" & pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || rc=1; done
    if [ "$n" -eq 1 ]; then want=yellow; else want=green; fi
    if [ "$rc" -ne 0 ]; then
        log "elasticsearch.sh: a node of '$cluster' failed to start"
        for i in $(seq 1 "$n"); do node_pid "$cluster" "$i" >/dev/null || node_log_tail "$cluster" "$i"; done
        exit 1
    fi
    wait_health "$cluster" "$n" "$port" "$want" || exit 1
    NODES="$n"; PORT="$port"
    cluster_urls | tr ',' '\n'
}

clusters_to_act_on() { # optional cluster name
    if [ -n "${1:-}" ]; then echo "$1"; return 0; fi
    local c
    for c in "$RUN_BASE"/*/cluster.env "$LEGACY_RUN_BASE"/*/cluster.env; do
        [ -f "$c" ] && basename "$(dirname "$c")"
    done | sort -u
    return 0
}

stop_node() { # cluster index signal-first
    local pid t
    pid="$(node_pid "$1" "$2")" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for t in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; fi
}

cmd_stop() {
    parse_opts "$@"
    local cluster i pids
    for cluster in $(clusters_to_act_on "$OPT_CLUSTER"); do
        [ -f "$(cluster_dir "$cluster")/cluster.env" ] || continue
        load_cluster "$cluster"
        pids=()
        for i in $(seq 1 "$NODES"); do stop_node "$cluster" "$i" & pids+=($!); done
        for i in "${pids[@]}"; do wait "$i" || true; done
        # a throwaway cluster (the test suite's) leaves nothing behind in STATE_DIR
        if [ "$OPT_REMOVE" -eq 1 ]; then rm -rf -- "$(cluster_dir "$cluster")"; fi
    done
    if [ "$OPT_REMOVE" -eq 1 ]; then rmdir -- "$RUN_BASE" 2>/dev/null || true; fi
}

cmd_status() {
    parse_opts "$@"
    local cluster i pid rss any=0 resp
    for cluster in $(clusters_to_act_on "$OPT_CLUSTER"); do
        [ -f "$(cluster_dir "$cluster")/cluster.env" ] || continue
        load_cluster "$cluster"
        any=1
        echo "cluster $cluster: $NODES node(s), elasticsearch $VERSION"
        for i in $(seq 1 "$NODES"); do
            if pid="$(node_pid "$cluster" "$i")"; then
                rss="$(awk '/VmRSS/ {printf "%d MB", $2/1024}' "/proc/$pid/status" 2>/dev/null || true)"
                echo "  node-$i  running  pid $pid  http://127.0.0.1:$((PORT + i - 1))  rss $rss"
            else
                echo "  node-$i  stopped  http://127.0.0.1:$((PORT + i - 1))"
            fi
        done
        for i in $(seq 1 "$NODES"); do
            node_pid "$cluster" "$i" >/dev/null || continue
            resp="$(http_get "http://127.0.0.1:$((PORT + i - 1))/_cluster/health")"
            echo "  health: $(printf '%s' "${resp#* }" | grep -o '"status":"[a-z]*"' || echo unknown)"
            break
        done
    done
    [ "$any" -eq 1 ] || echo "no cluster"
}

pick_cluster_for_node_cmd() {
    if [ -n "$OPT_CLUSTER" ]; then echo "$OPT_CLUSTER"; return; fi
    local c multi=() 
    for c in $(clusters_to_act_on ""); do
        ( load_cluster "$c"; [ "$NODES" -gt 1 ] ) && multi+=("$c")
    done
    if [ "${#multi[@]}" -eq 1 ]; then echo "${multi[0]}"; else echo "$ES_CLUSTER_DEFAULT"; fi
}

cmd_kill_node() {
    parse_opts "$@"
    local i="${OPT_ARGS[0]:-}" cluster pid
    case "$i" in ''|*[!0-9]*) die "usage: kill-node I [--cluster NAME]" ;; esac
    cluster="$(pick_cluster_for_node_cmd)"
    load_cluster "$cluster"
    [ "$i" -ge 1 ] && [ "$i" -le "$NODES" ] || die "cluster '$cluster' has nodes 1..$NODES"
    pid="$(node_pid "$cluster" "$i")" || die "node-$i of '$cluster' is not running"
    touch "$(node_dir "$cluster" "$i")/.killed"
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

cmd_start_node() {
    parse_opts "$@"
    local i="${OPT_ARGS[0]:-}" cluster
    case "$i" in ''|*[!0-9]*) die "usage: start-node I [--cluster NAME]" ;; esac
    cluster="$(pick_cluster_for_node_cmd)"
    load_cluster "$cluster"
    [ "$i" -ge 1 ] && [ "$i" -le "$NODES" ] || die "cluster '$cluster' has nodes 1..$NODES"
    if ! node_pid "$cluster" "$i" >/dev/null; then
        ES_VERSION="$VERSION"; ES_HOME="$(es_home_for "$VERSION")"
        [ -d "$(node_dir "$cluster" "$i")/config" ] || write_node_config "$cluster" "$i" "$NODES" "$PORT"
        rm -f "$(node_dir "$cluster" "$i")/.killed"
        launch_node "$cluster" "$i" || { node_log_tail "$cluster" "$i"; exit 1; }
    fi
    # wait until the node has joined (the cluster may still be yellow while it recovers)
    local deadline resp
    deadline=$(( $(date +%s) + ES_TIMEOUT ))
    until resp="$(http_get "http://127.0.0.1:$((PORT + i - 1))/_cluster/health?wait_for_nodes=$NODES&timeout=5s")" \
          && [ "${resp%% *}" = "200" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || { node_log_tail "$cluster" "$i"; die "node-$i did not rejoin '$cluster'"; }
        sleep 1
    done
    echo "http://127.0.0.1:$((PORT + i - 1))"
}

cmd_url() {
    parse_opts "$@"
    load_cluster "${OPT_CLUSTER:-$ES_CLUSTER_DEFAULT}"
    cluster_urls
}

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

case "${1:-}" in
    fetch) shift; cmd_fetch ;;
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    status) shift; cmd_status "$@" ;;
    kill-node) shift; cmd_kill_node "$@" ;;
    start-node) shift; cmd_start_node "$@" ;;
    url) shift; cmd_url "$@" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
esac
