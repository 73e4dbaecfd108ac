#!/usr/bin/env bash
# The aimux benchmark: aimux against a fixed-answer upstream, a zero-logic nginx hop and two peers
# (codex-relay, LiteLLM), all on this machine, loopback only, bounded in time.
#
#   bash bench/run.sh            # prints a markdown report; also writes bench/results/latest.md
#
# Installs what it lacks (nginx and wrk from Debian with apt-get; codex-relay from crates.io and
# LiteLLM from PyPI under .bench-tools/, which is gitignored) and builds aimux in release.
# Knobs (environment):
#   DURATION=5s            wrk run length per point (1, 16 and 64 connections)
#   LITELLM_DURATION=3s    the same for LiteLLM (it serves tens of requests/s)
#   WARMUP=1s              a 16-connection wrk run before each system's measured runs
#   SEQ_N=200              sequential requests for time-to-first-byte (LiteLLM: SEQ_N_LITELLM=30)
#   BIG_N=20               sequential 2 MB-history requests (LiteLLM: BIG_N_LITELLM=5)
#   STARTUP_RUNS=10        spawns per start-up measurement (LiteLLM: STARTUP_RUNS_LITELLM=3)
#   PEERS="codex-relay litellm"   which peers to run (empty: none)
#   AIMUX_BIN=path         measure this binary instead of building target/release/aimux
#   CODEX_RELAY_VERSION=0.6.0  LITELLM_VERSION=1.83.14
#   OUT=bench/results/latest.md
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
TOOLS=$ROOT/.bench-tools
DURATION=${DURATION:-5s}
LITELLM_DURATION=${LITELLM_DURATION:-3s}
WARMUP=${WARMUP:-1s}
SEQ_N=${SEQ_N:-200}
SEQ_N_LITELLM=${SEQ_N_LITELLM:-30}
BIG_N=${BIG_N:-20}
BIG_N_LITELLM=${BIG_N_LITELLM:-5}
STARTUP_RUNS=${STARTUP_RUNS:-10}
STARTUP_RUNS_LITELLM=${STARTUP_RUNS_LITELLM:-3}
PEERS=${PEERS-codex-relay litellm}
CODEX_RELAY_VERSION=${CODEX_RELAY_VERSION:-0.6.0}
LITELLM_VERSION=${LITELLM_VERSION:-1.83.14}
OUT=${OUT:-$BENCH/results/latest.md}
CONNS=(1 16 64)

T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log() { printf 'bench [%3ds]: %s\n' "$(($(date +%s) - T_START))" "$*" >&2; }
die() { printf 'bench: FATAL: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Work dir, results file, cleanup

WORK=$(mktemp -d /tmp/aimux-bench.XXXXXX) || die "mktemp failed"
chmod 755 "$WORK"   # nginx workers run as nobody and read the canned answers from here
RESULTS=$WORK/results.tsv
: >"$RESULTS"
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    done
    if [[ -n ${KEEP_WORK:-} ]]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# rec ROW METRIC VALUE: one measurement (bench/report.py renders them)
rec() { printf '%s\t%s\t%s\n' "$1" "$2" "${3//$'\t'/ }" >>"$RESULTS"; }
# na ROW REASON: the row could not be measured; the table says "n/a (REASON)"
na() { log "n/a for $1: $2"; rec "$1" na "$2"; }
is_na() { awk -F'\t' -v r="$1" '$1 == r && $2 == "na" { f = 1 } END { exit !f }' "$RESULTS"; }

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# wait_port PORT SECONDS PID
wait_port() {
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        port_open "$1" && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
# wait_file FILE SECONDS PID
wait_file() {
    local i
    for ((i = 0; i < $2 * 100; i++)); do
        [[ -s $1 ]] && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.01
    done
    return 1
}
# start NAME CMD...: run in the background (output in $WORK/NAME.log); sets LAST_PID
start() {
    local name=$1
    shift
    "$@" >"$WORK/$name.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}
last_lines() { tail -n "${2:-3}" "$1" 2>/dev/null | tr '\n\t' '  ' | cut -c1-200; }

# Sum of VmRSS (kB) of a process and its descendants.
tree_pids() {
    local all=$1 frontier=$1 next p
    while [[ -n $frontier ]]; do
        next=""
        for p in $frontier; do next+=" $(ps -o pid= --ppid "$p" 2>/dev/null | tr -d ' ' | tr '\n' ' ')"; done
        next=$(echo $next)
        [[ -n $next ]] && all+=" $next"
        frontier=$next
    done
    echo "$all"
}
vmrss_sum() { # VMRSS = VmRSS (kB) of the given PIDs, summed; no fork (runs in a 0.1 s sampling loop)
    local p k v _
    VMRSS=0
    for p in "$@"; do
        while read -r k v _; do
            [[ $k == VmRSS: ]] && { VMRSS=$((VMRSS + v)); break; }
        done 2>/dev/null <"/proc/$p/status"
    done
}
rss_kb() { vmrss_sum $(tree_pids "$1"); echo "$VMRSS"; }

# ---------------------------------------------------------------------------------------------
# Tools

SUDO=""
[[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null && SUDO="sudo"
APT_UPDATED=""
apt_install() { # apt_install PKG... (first that installs wins)
    local pkg
    if [[ -z $APT_UPDATED ]]; then
        log "apt-get update"
        $SUDO apt-get update -qq >"$WORK/apt-update.log" 2>&1 || log "apt-get update failed (see below)"
        APT_UPDATED=1
    fi
    for pkg in "$@"; do
        log "apt-get install -y $pkg"
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$pkg" >"$WORK/apt-$pkg.log" 2>&1 && return 0
        log "apt-get install $pkg failed: $(last_lines "$WORK/apt-$pkg.log")"
    done
    return 1
}

command -v python3 >/dev/null || die "python3 is required (the fixture generator and the measuring client)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || { apt_install nginx-light nginx; NGINX=$(command -v nginx || echo /usr/sbin/nginx); }
[[ -x $NGINX ]] || die "nginx is required and could not be installed (apt-get install nginx-light)"
command -v wrk >/dev/null || apt_install wrk
command -v wrk >/dev/null || die "wrk is required and could not be installed (apt-get install wrk)"

mkdir -p "$TOOLS"
RELAY_BIN=$TOOLS/codex-relay/bin/codex-relay
LITELLM_VENV=$TOOLS/litellm
want_peer() { [[ " $PEERS " == *" $1 "* ]]; }

if want_peer codex-relay; then
    have=$("$RELAY_BIN" --version 2>/dev/null | awk '{print $2}')
    if [[ $have != "$CODEX_RELAY_VERSION" ]]; then
        if command -v cargo >/dev/null; then
            log "installing codex-relay $CODEX_RELAY_VERSION from crates.io (a few minutes, once)"
            cargo install codex-relay --version "$CODEX_RELAY_VERSION" --locked --force \
                --root "$TOOLS/codex-relay" >"$TOOLS/codex-relay-install.log" 2>&1 ||
                na relay "install failed: $(last_lines "$TOOLS/codex-relay-install.log" 1)"
        else
            na relay "cargo not found, cannot install codex-relay"
        fi
    fi
else
    na relay "skipped (PEERS)"
fi

if want_peer litellm; then
    have=$("$LITELLM_VENV/bin/python" -c 'import importlib.metadata as m;print(m.version("litellm"))' 2>/dev/null)
    if [[ $have != "$LITELLM_VERSION" ]]; then
        log "installing litellm[proxy]==$LITELLM_VERSION from PyPI into .bench-tools/litellm (once)"
        { [[ -x $LITELLM_VENV/bin/pip ]] || python3 -m venv "$LITELLM_VENV"; } >"$TOOLS/litellm-install.log" 2>&1 &&
            "$LITELLM_VENV/bin/pip" install -q "litellm[proxy]==$LITELLM_VERSION" >>"$TOOLS/litellm-install.log" 2>&1 ||
            na litellm "install failed: $(last_lines "$TOOLS/litellm-install.log" 1)"
    fi
else
    na litellm "skipped (PEERS)"
fi

AIMUX=${AIMUX_BIN:-$ROOT/target/release/aimux}
# Absolute, since the start-up runs start it from the work directory (a bare name is looked up).
if [[ $AIMUX != /* ]]; then
    if [[ $AIMUX == */* ]]; then AIMUX=$PWD/$AIMUX; else AIMUX=$(command -v "$AIMUX" || echo "$AIMUX"); fi
fi
if [[ -z ${AIMUX_BIN:-} ]]; then
    log "cargo build --release (aimux)"
    if ! (cd "$ROOT" && cargo build --release --quiet) >"$WORK/build.log" 2>&1; then
        na bridge "build failed: $(last_lines "$WORK/build.log" 2)"
    fi
fi
[[ -x $AIMUX ]] || is_na bridge || na bridge "no aimux binary at $AIMUX"
if is_na bridge; then na link "$(awk -F'\t' '$1 == "bridge" && $2 == "na" { print $3; exit }' "$RESULTS")"; fi

# ---------------------------------------------------------------------------------------------
# Fixtures and the fixed-answer upstream

python3 "$BENCH/gen_fixtures.py" "$WORK" >&2 || die "fixture generator failed"
B=$WORK/bodies
EXPECTED=$WORK/expected.txt
mkdir -p "$WORK/nginx-tmp"

UP_PORT=$(free_port)
UP_LOG_PORT=$(free_port)
HOP_PORT=$(free_port)
sed -e "s|@DIR@|$WORK|g; s|@PORT@|$UP_PORT|g; s|@LOG_PORT@|$UP_LOG_PORT|g" \
    "$BENCH/nginx/upstream.conf.in" >"$WORK/upstream.conf"
sed -e "s|@DIR@|$WORK|g; s|@PORT@|$HOP_PORT|g; s|@UPSTREAM_PORT@|$UP_PORT|g" \
    "$BENCH/nginx/hop.conf.in" >"$WORK/hop.conf"
start nginx-upstream "$NGINX" -p "$WORK" -c "$WORK/upstream.conf"
UP_PID=$LAST_PID
wait_port "$UP_PORT" 10 "$UP_PID" || die "nginx upstream did not start: $(last_lines "$WORK/nginx-upstream.log") $(last_lines "$WORK/upstream.error.log")"
start nginx-hop "$NGINX" -p "$WORK" -c "$WORK/hop.conf"
HOP_PID=$LAST_PID
wait_port "$HOP_PORT" 10 "$HOP_PID" || die "nginx hop did not start: $(last_lines "$WORK/nginx-hop.log") $(last_lines "$WORK/hop.error.log")"
UP=http://127.0.0.1:$UP_PORT
HOP=http://127.0.0.1:$HOP_PORT
log "nginx upstream on $UP, hop on $HOP"

# ---------------------------------------------------------------------------------------------
# Systems under test. Each row: URL, request body per mode, and the PIDs whose memory counts.
# mode json = non-streaming request, sse = streaming request.

declare -A URL BODY_JSON BODY_SSE BODY_BIG PIDS_OF DUR SEQN BIGN

add_row() { # add_row SYSTEM URL KIND(chat|resp) [PID...]
    local sys=$1 url=$2 kind=$3
    shift 3
    URL[$sys]=$url
    BODY_JSON[$sys]=$B/${kind}_tiny_json.json
    BODY_SSE[$sys]=$B/${kind}_tiny_sse.json
    BODY_BIG[$sys]=$B/${kind}_2mb_sse.json
    PIDS_OF[$sys]="$*"
    DUR[$sys]=$DURATION
    SEQN[$sys]=$SEQ_N
    BIGN[$sys]=$BIG_N
}
# upstream and hop pick json vs sse by path, the others by the request's `stream`
add_row upstream "$UP/{mode}/v1/chat/completions" chat
add_row hop "$HOP/{mode}/v1/chat/completions" chat

export AIMUX_INTERNAL_SECRET=bench-$RANDOM$RANDOM$RANDOM
if ! is_na bridge; then
    mkdir -p "$WORK/home-bridge" "$WORK/home-link-bridge" "$WORK/home-proxy"
    # aimux bridge alone in front of the upstream (JSON when the client does not stream, as it
    # asks with `Accept`, else SSE)
    start aimux-bridge env AIMUX_HOME="$WORK/home-bridge" "$AIMUX" bridge --port 0 \
        --upstream "$UP/auto/v1" --server-info "$WORK/bridge.info"
    BRIDGE_PID=$LAST_PID
    if wait_file "$WORK/bridge.info" 10 "$BRIDGE_PID"; then
        port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$WORK/bridge.info")
        add_row bridge "http://127.0.0.1:$port/v1/responses" resp "$BRIDGE_PID"
    else
        na bridge "did not start: $(last_lines "$WORK/aimux-bridge.log")"
    fi
    # the full link: bridge -> proxy -> upstream
    printf '[providers.up]\nbase_url = "%s"\nmodels = ["m"]\n' "$UP/auto/v1" >"$WORK/home-proxy/config.toml"
    start aimux-proxy env AIMUX_HOME="$WORK/home-proxy" "$AIMUX" proxy --port 0 --server-info "$WORK/proxy.info"
    PROXY_PID=$LAST_PID
    if wait_file "$WORK/proxy.info" 10 "$PROXY_PID"; then
        pport=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$WORK/proxy.info")
        start aimux-link-bridge env AIMUX_HOME="$WORK/home-link-bridge" "$AIMUX" bridge --port 0 \
            --upstream "http://127.0.0.1:$pport/v1" --server-info "$WORK/link.info"
        LINK_PID=$LAST_PID
        if wait_file "$WORK/link.info" 10 "$LINK_PID"; then
            port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$WORK/link.info")
            add_row link "http://127.0.0.1:$port/v1/responses" resp "$LINK_PID" "$PROXY_PID"
        else
            na link "bridge did not start: $(last_lines "$WORK/aimux-link-bridge.log")"
        fi
    else
        na link "proxy did not start: $(last_lines "$WORK/aimux-proxy.log")"
    fi
fi

if ! is_na relay; then
    # codex-relay forwards `stream` as the client sent it, so it gets one instance per upstream
    # answer: relay/json talks to the JSON answer, relay/sse to the SSE one.
    mkdir -p "$WORK/relay"
    for mode in json sse; do
        p=$(free_port)
        (cd "$WORK/relay" && exec env CODEX_RELAY_UPSTREAM="$UP/$mode/v1" CODEX_RELAY_PORT="$p" \
            CODEX_RELAY_API_KEY=bench-dummy RUST_LOG=warn "$RELAY_BIN") >"$WORK/relay-$mode.log" 2>&1 &
        pid=$!
        PIDS+=("$pid")
        if wait_port "$p" 10 "$pid"; then
            eval "RELAY_${mode}_URL=http://127.0.0.1:$p/v1/responses RELAY_${mode}_PID=$pid"
        else
            na relay "did not start: $(last_lines "$WORK/relay-$mode.log")"
            break
        fi
    done
    if ! is_na relay; then
        add_row relay "{relay}" resp
    fi
fi

if ! is_na litellm; then
    # LiteLLM routes by model: m-json and m-sse are the same openai/ model on the two answers.
    # use_chat_completions_api makes its /v1/responses run the Responses -> Chat bridge (without
    # it an openai/ model is sent to the upstream's /responses). It talks to the upstream's logged
    # port so the run can show the upstream received /chat/completions.
    LL_PORT=$(free_port)
    cat >"$WORK/litellm.yaml" <<EOF
model_list:
  - model_name: m-json
    litellm_params:
      model: openai/m
      api_base: http://127.0.0.1:$UP_LOG_PORT/json/v1
      api_key: bench-dummy
      use_chat_completions_api: true
  - model_name: m-sse
    litellm_params:
      model: openai/m
      api_base: http://127.0.0.1:$UP_LOG_PORT/sse/v1
      api_key: bench-dummy
      use_chat_completions_api: true
litellm_settings:
  telemetry: false
EOF
    for f in resp_tiny_json resp_tiny_sse resp_2mb_sse; do
        mode=${f##*_}
        sed "s/\"model\":\"m\"/\"model\":\"m-$mode\"/" "$B/$f.json" >"$B/litellm_$f.json"
    done
    export LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOG=ERROR LITELLM_TELEMETRY=False
    (cd "$WORK" && exec "$LITELLM_VENV/bin/litellm" --config "$WORK/litellm.yaml" --host 127.0.0.1 \
        --port "$LL_PORT" --num_workers 1) >"$WORK/litellm.log" 2>&1 &
    LL_PID=$!
    PIDS+=("$LL_PID")
    if wait_port "$LL_PORT" 90 "$LL_PID"; then
        add_row litellm "http://127.0.0.1:$LL_PORT/v1/responses" resp "$LL_PID"
        BODY_JSON[litellm]=$B/litellm_resp_tiny_json.json
        BODY_SSE[litellm]=$B/litellm_resp_tiny_sse.json
        BODY_BIG[litellm]=$B/litellm_resp_2mb_sse.json
        DUR[litellm]=$LITELLM_DURATION
        SEQN[litellm]=$SEQ_N_LITELLM
        BIGN[litellm]=$BIG_N_LITELLM
    else
        na litellm "did not start: $(last_lines "$WORK/litellm.log")"
    fi
fi

SYSTEMS=(upstream hop bridge link relay litellm)
url_for() { # url_for SYSTEM MODE
    local u=${URL[$1]}
    if [[ $u == "{relay}" ]]; then
        local v="RELAY_${2}_URL"
        echo "${!v}"
    else
        echo "${u//\{mode\}/$2}"
    fi
}
pids_for() { # pids_for SYSTEM MODE: the processes whose RSS counts (space-separated)
    if [[ ${URL[$1]} == "{relay}" ]]; then
        local v="RELAY_${2}_PID"
        echo "${!v}"
    else
        echo "${PIDS_OF[$1]}"
    fi
}
body_for() { if [[ $2 == json ]]; then echo "${BODY_JSON[$1]}"; else echo "${BODY_SSE[$1]}"; fi; }
kind_for() { if [[ $1 == upstream || $1 == hop ]]; then echo "chat-$2"; else echo "resp-$2"; fi; }

rss_now() { # rss_now SYSTEM MODE: VmRSS (kB) of each process of the row, space-separated
    local pid s=""
    for pid in $(pids_for "$1" "$2"); do s+="$(rss_kb "$pid") "; done
    echo "$s"
}
# idle = after start-up and one request of each mode (before the 2 MB history and any load)
idle_rss() { [[ -n $(pids_for "$1" "$2") ]] && rec "$1/$2" rss_idle_kb "$(rss_now "$1" "$2")"; }

# ---------------------------------------------------------------------------------------------
# Correctness first: every row must return the canned answer, whole, before it is timed.

for sys in "${SYSTEMS[@]}"; do
    [[ -n ${URL[$sys]:-} ]] || continue
    is_na "$sys" && continue
    for mode in json sse; do
        if ! err=$(timeout 120 python3 "$BENCH/client.py" check "$(kind_for "$sys" "$mode")" \
            "$(url_for "$sys" "$mode")" "$(body_for "$sys" "$mode")" "$EXPECTED" 2>&1); then
            na "$sys/$mode" "wrong answer: ${err:0:150}"
        fi
        idle_rss "$sys" "$mode"
    done
    if ! err=$(timeout 120 python3 "$BENCH/client.py" check "$(kind_for "$sys" sse)" \
        "$(url_for "$sys" sse)" "${BODY_BIG[$sys]}" "$EXPECTED" 2>&1); then
        na "$sys/big" "wrong answer to the 2 MB history: ${err:0:150}"
    fi
done
if [[ -n ${URL[litellm]:-} ]] && ! is_na litellm; then
    if grep -q 'POST /json/v1/chat/completions' "$WORK/upstream-logged.access.log" 2>/dev/null &&
        grep -q 'POST /sse/v1/chat/completions' "$WORK/upstream-logged.access.log"; then
        log "LiteLLM: the upstream received POST /{json,sse}/v1/chat/completions (its Responses -> Chat bridge ran)"
        rec litellm verified "upstream saw $(grep -c 'chat/completions' "$WORK/upstream-logged.access.log") POST .../chat/completions"
    else
        na litellm "upstream never received /chat/completions: $(last_lines "$WORK/upstream-logged.access.log" 2)"
    fi
fi

# ---------------------------------------------------------------------------------------------
# Measurements

# cpu_ticks PID...: user and system CPU of the processes so far, in clock ticks, each summed
cpu_ticks() {
    local p s f user=0 sys=0
    for p in "$@"; do
        s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        read -r -a f <<<"${s##*) }" # fields from the 3rd on: utime is the 14th, stime the 15th
        user=$((user + f[11]))
        sys=$((sys + f[12]))
    done
    echo "$user $sys"
}
# cpu_pids_for SYSTEM MODE: the processes whose CPU counts (the nginx rows: their own nginx)
cpu_pids_for() {
    case $1 in
    upstream) echo "$UP_PID" ;;
    hop) echo "$HOP_PID" ;;
    *) pids_for "$1" "$2" ;;
    esac
}

# wrk_point SYSTEM MODE CONNS DURATION: one wrk run; at 64 connections also samples RSS
wrk_point() {
    local sys=$1 mode=$2 c=$3 d=$4 t=2 out line pid pids i
    ((c < 2)) && t=1
    out=$WORK/wrk-$sys-$mode-$c.txt
    BODY=$(body_for "$sys" "$mode") timeout 120 wrk -t"$t" -c"$c" -d"$d" --timeout 10s \
        -s "$BENCH/wrk/post.lua" "$(url_for "$sys" "$mode")" >"$out" 2>&1 &
    local wrk_pid=$!
    local cpu_tree="" user0=0 sys0=0
    if ((c == 64)); then
        for pid in $(cpu_pids_for "$sys" "$mode"); do cpu_tree+=" $(tree_pids "$pid")"; done
        read -r user0 sys0 <<<"$(cpu_ticks $cpu_tree)"
        pids=$(pids_for "$sys" "$mode")
        declare -A peak=() tree=()
        i=0
        for pid in $pids; do tree[$i]=$(tree_pids "$pid"); i=$((i + 1)); done
        while kill -0 "$wrk_pid" 2>/dev/null; do
            for i in "${!tree[@]}"; do
                vmrss_sum ${tree[$i]}
                ((VMRSS > ${peak[$i]:-0})) && peak[$i]=$VMRSS
            done
            sleep 0.1
        done
        [[ -n $pids ]] && rec "$sys/$mode" rss_load_kb "$(for i in "${!peak[@]}"; do echo -n "${peak[$i]} "; done)"
    fi
    wait "$wrk_pid"
    line=$(grep '^BENCH ' "$out")
    if [[ -z $line ]]; then
        log "wrk failed for $sys/$mode at $c connections: $(last_lines "$out")"
        rec "$sys/$mode" "wrk_fail@$c" "$(last_lines "$out" 1)"
        return
    fi
    log "$sys/$mode c=$c: ${line#BENCH }"
    for kv in ${line#BENCH }; do rec "$sys/$mode" "${kv%%=*}@$c" "${kv#*=}"; done
    if [[ -n $cpu_tree ]]; then
        # CPU per request: far steadier than req/s on a shared box, and what a change must move.
        # Split into user and kernel time: the kernel's share is the TCP path, which any hop pays.
        local user1 sys1 requests
        read -r user1 sys1 <<<"$(cpu_ticks $cpu_tree)"
        requests=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$line")
        if ((requests > 0)); then
            local per="BEGIN { printf \"%.1f\", t * 1e6 / $(getconf CLK_TCK) / $requests }"
            rec "$sys/$mode" cpu_us_per_req@64 "$(awk -v t=$((user1 - user0 + sys1 - sys0)) "$per")"
            rec "$sys/$mode" cpu_user_us_per_req@64 "$(awk -v t=$((user1 - user0)) "$per")"
        fi
    fi
}

for sys in "${SYSTEMS[@]}"; do
    [[ -n ${URL[$sys]:-} ]] || continue
    is_na "$sys" && continue
    for mode in json sse; do
        is_na "$sys/$mode" && continue
        log "measuring $sys/$mode"
        # time to first byte / first text / whole answer over sequential requests
        res=$(timeout 300 python3 "$BENCH/client.py" seq "$(url_for "$sys" "$mode")" \
            "$(body_for "$sys" "$mode")" "${SEQN[$sys]}" 2>&1) || log "seq failed for $sys/$mode: $res"
        rec "$sys/$mode" seq "$res"
        BODY=$(body_for "$sys" "$mode") timeout 60 wrk -t2 -c16 -d"$WARMUP" -s "$BENCH/wrk/post.lua" \
            "$(url_for "$sys" "$mode")" >/dev/null 2>&1
        for c in "${CONNS[@]}"; do wrk_point "$sys" "$mode" "$c" "${DUR[$sys]}"; done
        # still correct after the load?
        if ! err=$(timeout 120 python3 "$BENCH/client.py" check "$(kind_for "$sys" "$mode")" \
            "$(url_for "$sys" "$mode")" "$(body_for "$sys" "$mode")" "$EXPECTED" 2>&1); then
            rec "$sys/$mode" after_load "wrong answer after the load: ${err:0:150}"
        fi
    done
    # the 2 MB Codex history, streamed, sequential requests
    if ! is_na "$sys/big"; then
        res=$(timeout 300 python3 "$BENCH/client.py" seq "$(url_for "$sys" sse)" "${BODY_BIG[$sys]}" \
            "${BIGN[$sys]}" 2>&1) || log "2 MB seq failed for $sys: $res"
        rec "$sys/big" seq "$res"
        if [[ -n $(pids_for "$sys" sse) ]]; then
            rec "$sys/big" rss_after_kb "$(rss_now "$sys" sse)"
            # and once the process has been quiet for a while: does it give the memory back?
            sleep 3
            rec "$sys/big" rss_quiet_kb "$(rss_now "$sys" sse)"
        fi
        log "$sys 2 MB: $res"
    fi
done

# ---------------------------------------------------------------------------------------------
# Start-up time to ready

startup() { # startup ROW RUNS READY CMD...
    local row=$1 runs=$2 ready=$3 res
    shift 3
    log "start-up: $row"
    res=$(cd "$WORK" && timeout 600 python3 "$BENCH/client.py" startup --runs "$runs" --ready "$ready" --timeout 90 \
        --term-wait "${TERM_WAIT:-3}" -- "$@" 2>&1)
    rec "$row" startup "$res"
}
if [[ -n ${URL[bridge]:-} ]] && ! is_na bridge; then
    startup aimux-bridge "$STARTUP_RUNS" "file:$WORK/startup-bridge.info" env AIMUX_HOME="$WORK/home-bridge" \
        "$AIMUX" bridge --port 0 --upstream "$UP/sse/v1" --server-info "$WORK/startup-bridge.info"
fi
if [[ -n ${URL[link]:-} ]] && ! is_na link; then
    startup aimux-proxy "$STARTUP_RUNS" "file:$WORK/startup-proxy.info" env AIMUX_HOME="$WORK/home-proxy" \
        "$AIMUX" proxy --port 0 --server-info "$WORK/startup-proxy.info"
fi
if [[ -n ${URL[relay]:-} ]] && ! is_na relay; then
    p=$(free_port)
    startup codex-relay "$STARTUP_RUNS" "tcp:$p" env CODEX_RELAY_UPSTREAM="$UP/sse/v1" CODEX_RELAY_PORT="$p" \
        CODEX_RELAY_API_KEY=bench-dummy RUST_LOG=warn "$RELAY_BIN"
fi
if [[ -n ${URL[litellm]:-} ]] && ! is_na litellm; then
    p=$(free_port)
    TERM_WAIT=20 startup litellm "$STARTUP_RUNS_LITELLM" "http:http://127.0.0.1:$p/health/liveliness" \
        "$LITELLM_VENV/bin/litellm" --config "$WORK/litellm.yaml" --host 127.0.0.1 --port "$p" --num_workers 1
fi

# ---------------------------------------------------------------------------------------------
# Report

rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]] && rev+="-dirty"
{
    echo "date	$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine	$(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
    echo "load	$(cut -d' ' -f1-3 /proc/loadavg) at the end (1/5/15 min; anything above ~0.5 before the run means other work shared the cores)"
    echo "load_start	$LOAD_START"
    echo "aimux	$rev"
    echo "nginx	$("$NGINX" -v 2>&1 | sed 's/.*nginx\///')"
    echo "wrk	$(wrk -v 2>&1 | head -1 | awk '{print $2}')"
    echo "codex-relay	$("$RELAY_BIN" --version 2>/dev/null | awk '{print $2}' || true)"
    echo "litellm	$("$LITELLM_VENV/bin/python" -c 'import importlib.metadata as m;print(m.version("litellm"))' 2>/dev/null || true)"
    echo "python	$(python3 -V 2>&1 | awk '{print $2}')"
    echo "params	DURATION=$DURATION per point (LiteLLM $LITELLM_DURATION), warm-up $WARMUP, SEQ_N=$SEQ_N (LiteLLM $SEQ_N_LITELLM), BIG_N=$BIG_N (LiteLLM $BIG_N_LITELLM), STARTUP_RUNS=$STARTUP_RUNS (LiteLLM $STARTUP_RUNS_LITELLM)"
    echo "wall	$(($(date +%s) - T_START)) s"
} | while IFS=$'\t' read -r k v; do rec meta "$k" "$v"; done
mkdir -p "$(dirname "$OUT")"
cp "$RESULTS" "${OUT%.md}.tsv"
python3 "$BENCH/report.py" "$RESULTS" >"$OUT.tmp" && mv "$OUT.tmp" "$OUT" || die "report.py failed (raw results in ${OUT%.md}.tsv)"
cat "$OUT"
log "written to ${OUT#"$ROOT"/} (raw measurements: ${OUT%.md}.tsv)"
