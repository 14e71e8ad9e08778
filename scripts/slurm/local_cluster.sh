#!/usr/bin/env bash
# A throw-away single-node Slurm cluster on localhost, for tests that submit real jobs.
#
#   scripts/slurm/local_cluster.sh install   # Debian's slurm-wlm + munge (idempotent)
#   scripts/slurm/local_cluster.sh start     # munged, slurmctld, slurmd; waits for an idle node
#   scripts/slurm/local_cluster.sh status    # sinfo + squeue, or "not running"
#   scripts/slurm/local_cluster.sh stop      # stops only what `start` started (by recorded PID)
#   scripts/slurm/local_cluster.sh env       # prints `export SLURM_CONF=...` for eval
#
# Everything (config, munge key and socket, state, spool, logs, PID files) lives under
# $SYNSIM_SLURM_DIR (default /tmp/synsim-slurm), so the cluster never touches the system's
# /etc/munge or /run/munge and never collides with a munged/slurmd that something else runs.
# The only file written outside that directory is /etc/slurm/slurm.conf, the path the Debian
# client commands (sbatch, sinfo, ...) read by default; it is written only when absent or
# when it is one of ours (first line is $MARKER), and removed again by `stop`. Clients
# work either way with SLURM_CONF=$SYNSIM_SLURM_DIR/etc/slurm.conf.
#
# install/start/stop must run as root: the daemons run as root (SlurmUser=root) and
# install uses apt-get. Jobs may be submitted by any user.
#
# If `start` fails it prints the daemons' log tails and stops what it had started.
#
# Environment knobs:
#   SYNSIM_SLURM_DIR         private directory (default /tmp/synsim-slurm)
#   SYNSIM_SLURM_CTLD_PORT   slurmctld port (default 6817)
#   SYNSIM_SLURM_SLURMD_PORT slurmd port (default 6818)
#   SYNSIM_SLURM_TIMEOUT     seconds `start` waits for an idle node (default 60)
#   SYNSIM_SLURM_APT_TIMEOUT seconds each apt-get call may take (default 900)
set -euo pipefail

DIR=${SYNSIM_SLURM_DIR:-/tmp/synsim-slurm}
CTLD_PORT=${SYNSIM_SLURM_CTLD_PORT:-6817}
SLURMD_PORT=${SYNSIM_SLURM_SLURMD_PORT:-6818}
WAIT_SECS=${SYNSIM_SLURM_TIMEOUT:-60}
APT_TIMEOUT=${SYNSIM_SLURM_APT_TIMEOUT:-900}

CONF=$DIR/etc/slurm.conf
SYSTEM_CONF=/etc/slurm/slurm.conf
MARKER='# synsim local_cluster.sh: generated, safe to delete'
RUN=$DIR/run          # PID files
LOG=$DIR/log          # daemon logs
MUNGE=$DIR/munge      # munge key, socket, seed
MUNGE_SOCKET=$MUNGE/munge.socket.2
MUNGED_PID=$RUN/munged.pid
SLURMCTLD_PID=$RUN/slurmctld.pid
SLURMD_PID=$RUN/slurmd.pid

# The node is named after the short host name because slurmd finds "its" NodeName by
# matching gethostname(); we also pass -N to slurmd so this holds even if they differ.
NODE=$(hostname -s)

say() { printf 'local_cluster: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

need_root() { [ "$(id -u)" -eq 0 ] || die "must run as root"; }

# Slurm clients and daemons must all read the same config. Only set once the file exists:
# every Slurm client (even `sbatch --version`) parses the config first and, when the file
# is missing, retries for 60 s before failing.
use_conf() { [ -e "$CONF" ] && export SLURM_CONF=$CONF; }

# ---------------------------------------------------------------------------------------
# install
# ---------------------------------------------------------------------------------------

have_slurm() {
    command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 &&
        command -v sbatch >/dev/null 2>&1 && command -v munged >/dev/null 2>&1
}

apt_install() {
    DEBIAN_FRONTEND=noninteractive timeout "$APT_TIMEOUT" \
        apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        slurm-wlm munge
}

cmd_install() {
    need_root
    if have_slurm; then
        say "slurm and munge already installed ($(slurmd -V 2>/dev/null || echo '?'))"
        return 0
    fi
    # Package postinst scripts would otherwise try to start munge/slurmd/slurmctld through
    # invoke-rc.d with the packaged config (which does not exist for slurm); such daemons
    # would also not be ours to stop. policy-rc.d exit 101 = "action forbidden". Only put
    # one in place (and remove it) when the system does not already have one.
    local policy=/usr/sbin/policy-rc.d placed_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        placed_policy=1
        # Removed again even if apt-get is interrupted or times out.
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    # Run `apt-get update` only if the package is unknown to the cached lists, or if the
    # install fails with the cached lists (stale lists give 404s on the mirrors).
    local rc=0
    if ! apt-cache show slurm-wlm >/dev/null 2>&1; then
        say "apt-get update (slurm-wlm not in the package lists)"
        DEBIAN_FRONTEND=noninteractive timeout "$APT_TIMEOUT" apt-get update -q || rc=$?
    fi
    if [ "$rc" -eq 0 ]; then
        apt_install || {
            say "install failed with the cached lists; apt-get update and retry"
            rc=0
            DEBIAN_FRONTEND=noninteractive timeout "$APT_TIMEOUT" apt-get update -q || rc=$?
            [ "$rc" -ne 0 ] || apt_install || rc=$?
        }
    fi
    [ "$placed_policy" -eq 0 ] || { rm -f "$policy"; trap - EXIT; }
    [ "$rc" -eq 0 ] || die "apt-get failed (exit $rc)"
    have_slurm || die "installed, but slurmctld/slurmd/sbatch/munged still missing from PATH"
    say "installed $(slurmd -V)"
}

# ---------------------------------------------------------------------------------------
# process helpers
# ---------------------------------------------------------------------------------------

# pid_of FILE NAME: prints the PID in FILE if that process is alive and is NAME (guards
# against a stale PID file whose number has since been reused by another process).
pid_of() {
    local file=$1 name=$2 pid comm
    [ -s "$file" ] || return 1
    pid=$(tr -dc '0-9' <"$file")
    [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    [ "$comm" = "$name" ] || return 1
    echo "$pid"
}

# wait_for_pidfile FILE NAME SECS: daemons write their PID file after forking.
wait_for_pidfile() {
    local file=$1 name=$2 secs=$3 i=0
    while [ "$i" -lt $((secs * 10)) ]; do
        pid_of "$file" "$name" >/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# stop_pid FILE NAME: TERM, wait up to 15 s, then KILL; removes FILE.
stop_pid() {
    local file=$1 name=$2 pid i=0
    if pid=$(pid_of "$file" "$name"); then
        say "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 150 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "$name (pid $pid) ignored SIGTERM; SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            i=0
            while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 50 ]; do
                sleep 0.1
                i=$((i + 1))
            done
        fi
    fi
    rm -f "$file"
}

# Prints the PIDs of slurmstepd processes that belong to *this* cluster, each followed by
# its descendants (the job's processes). A slurmstepd keeps slurmd's log file open and
# sits in its directory, both under $DIR, which tells it apart from any other cluster's.
our_stepds() {
    local p pid f target mine
    for p in /proc/[0-9]*; do
        [ "$(cat "$p/comm" 2>/dev/null)" = slurmstepd ] || continue
        mine=0
        for f in "$p/cwd" "$p"/fd/*; do
            target=$(readlink "$f" 2>/dev/null) || continue
            case "$target" in "$DIR"/*) mine=1; break ;; esac
        done
        [ "$mine" -eq 1 ] || continue
        pid=${p#/proc/}
        echo "$pid"
        descendants "$pid"
    done
}

# descendants PID: every process below PID, from the parent field of /proc/*/stat.
descendants() {
    local parent=$1 p ppid
    for p in /proc/[0-9]*; do
        # Field 4 of stat is the parent PID; strip "pid (comm) state " first, since comm
        # may contain spaces.
        ppid=$(sed -n 's/^.*) [A-Za-z] \([0-9]*\) .*$/\1/p' "$p/stat" 2>/dev/null) || continue
        if [ "$ppid" = "$parent" ]; then
            echo "${p#/proc/}"
            descendants "${p#/proc/}"
        fi
    done
}

tail_logs() {
    local f
    for f in "$LOG"/munged.log "$LOG"/slurmctld.log "$LOG"/slurmd.log; do
        [ -e "$f" ] || continue
        printf '\n----- last 30 lines of %s -----\n' "$f" >&2
        tail -n 30 "$f" >&2 || true
    done
}

# ---------------------------------------------------------------------------------------
# start
# ---------------------------------------------------------------------------------------

plugin_dir() {
    local d
    for d in /usr/lib/x86_64-linux-gnu/slurm-wlm /usr/lib/*/slurm-wlm /usr/lib/slurm-wlm \
        /usr/lib64/slurm /usr/lib/slurm; do
        [ -d "$d" ] && { echo "$d"; return 0; }
    done
    return 1
}

# Newest resource selector this Slurm ships: cons_tres (>= 19.05), else cons_res, else
# linear. All three work for a one-node cluster; cons_* lets array tasks share the node
# one CPU each instead of one job per node.
select_type() {
    local d
    d=$(plugin_dir) || { echo select/linear; return; }
    if [ -e "$d/select_cons_tres.so" ]; then echo select/cons_tres
    elif [ -e "$d/select_cons_res.so" ]; then echo select/cons_res
    else echo select/linear
    fi
}

# RealMemory a bit under what slurmd detects (5 % or at least 256 MB less, >= 100 MB),
# so rounding in the hardware probe can never make the node look smaller than configured.
real_memory() {
    local mb
    mb=$(slurmd -C 2>/dev/null | tr ' ' '\n' | sed -n 's/^RealMemory=\([0-9]*\)$/\1/p' | head -n1)
    if [ -z "$mb" ]; then
        mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
    fi
    local slack=$((mb / 20))
    [ "$slack" -ge 256 ] || slack=256
    mb=$((mb - slack))
    [ "$mb" -ge 100 ] || mb=100
    echo "$mb"
}

write_conf() {
    local cpus mem sel params
    cpus=$(nproc)
    mem=$(real_memory)
    sel=$(select_type)
    # Consumable resources are CPUs (the node is declared by CPU count only); memory is
    # not tracked so jobs need no --mem.
    case "$sel" in select/linear) params= ;; *) params=CR_CPU ;; esac
    cat >"$CONF" <<EOF
$MARKER
# Single-node cluster on localhost for tests; see scripts/slurm/local_cluster.sh.
ClusterName=synsim
# Controller and node are the same host, reached over loopback.
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
# Daemons run as root; no dedicated slurm user is needed.
SlurmUser=root
SlurmdUser=root
# Private munged (own key and socket under $MUNGE); cred/munge uses the same socket.
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
# No cgroups anywhere: the sandbox may lack (delegated) cgroup v2. linuxproc tracks job
# processes through the parent/child tree in /proc; task/none does no binding/limits;
# jobacct_gather/none samples nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SwitchType=switch/none
# No accounting database, no job completion log.
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
# State, spool, logs and PID files stay in the private directory.
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$SLURMCTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# A node that was DOWN (e.g. slurmd restarted) becomes usable again when it registers.
ReturnToService=2
# Trust slurm.conf over the hardware probe: a node reporting fewer resources than
# configured is not drained.
SlurmdParameters=config_overrides
SchedulerType=sched/backfill
# A job whose dependency can never be met (e.g. afterok on a failed job) is cancelled
# instead of pending forever, so a waiting test fails fast rather than hanging.
DependencyParameters=kill_invalid_depend
# No mail is ever sent; the default MailProg (/bin/mail) is not installed.
MailProg=/bin/true
SelectType=$sel
${params:+SelectTypeParameters=$params}
# Quick turnaround for tests: finished jobs leave squeue (and scontrol show job) after
# 30 s, the node is considered dead after 60 s of silence.
MinJobAge=30
# Cancelled jobs get SIGKILL 5 s after SIGTERM (default 30 s), so stopping is quick.
KillWait=5
SlurmdTimeout=60
SlurmctldTimeout=60
# The one node and the one (default) partition.
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    # Let the default client path point at this config, unless it belongs to someone else.
    if [ -e "$SYSTEM_CONF" ] && [ "$(head -n1 "$SYSTEM_CONF" 2>/dev/null)" != "$MARKER" ]; then
        say "note: $SYSTEM_CONF exists and is not ours; clients need SLURM_CONF=$CONF"
    else
        mkdir -p "$(dirname "$SYSTEM_CONF")"
        cp "$CONF" "$SYSTEM_CONF.tmp.$$"
        mv "$SYSTEM_CONF.tmp.$$" "$SYSTEM_CONF"
    fi
}

start_munged() {
    if pid_of "$MUNGED_PID" munged >/dev/null; then
        return 0
    fi
    # munged insists on a key owned by its user and unreadable by others, and on socket
    # and key directories that are not writable by others.
    if [ ! -s "$MUNGE/munge.key" ]; then
        if command -v mungekey >/dev/null 2>&1; then
            mungekey --create --keyfile="$MUNGE/munge.key" --force
        else
            dd if=/dev/urandom of="$MUNGE/munge.key" bs=1 count=1024 2>/dev/null
        fi
    fi
    chmod 600 "$MUNGE/munge.key"
    rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
    : >"$LOG/munged.log"  # fresh log per run, so error tails show this run only
    # --force: start anyway on permission warnings about directories we do not control
    # (e.g. a group-writable parent of $SYNSIM_SLURM_DIR); not needed on a stock /tmp.
    munged --force \
        --key-file="$MUNGE/munge.key" \
        --socket="$MUNGE_SOCKET" \
        --seed-file="$MUNGE/munged.seed" \
        --log-file="$LOG/munged.log" \
        --pid-file="$MUNGED_PID" ||
        { tail_logs; die "munged failed to start"; }
    wait_for_pidfile "$MUNGED_PID" munged 10 || { tail_logs; die "munged wrote no PID file"; }
    # A round trip proves the key and socket work before Slurm depends on them.
    munge --socket="$MUNGE_SOCKET" -n | unmunge --socket="$MUNGE_SOCKET" >/dev/null ||
        { tail_logs; die "munge/unmunge round trip failed"; }
}

node_state() {
    sinfo -h -N -n "$NODE" -o '%t' 2>/dev/null | head -n1
}

cmd_start() {
    need_root
    have_slurm || die "slurm is not installed; run: $0 install"
    # If start fails part-way, stop whatever it already started (by PID file) so a failed
    # test run leaves no daemons behind; the logs stay in $LOG.
    trap 'rc=$?; if [ "$rc" -ne 0 ]; then say "start failed; cleaning up"; cmd_stop || true; fi' EXIT
    mkdir -p "$DIR/etc" "$RUN" "$LOG" "$DIR/state" "$DIR/spool" "$MUNGE"
    # World-readable so non-root users can reach the munge socket and read slurm.conf;
    # the key itself is 0600.
    chmod 755 "$DIR" "$DIR/etc" "$MUNGE"
    write_conf
    use_conf
    start_munged

    if ! pid_of "$SLURMCTLD_PID" slurmctld >/dev/null; then
        # -c: start from empty state (no jobs/node states left over from a previous run).
        : >"$LOG/slurmctld.log"
        slurmctld -c -f "$CONF" || { tail_logs; die "slurmctld failed to start"; }
        wait_for_pidfile "$SLURMCTLD_PID" slurmctld 20 ||
            { tail_logs; die "slurmctld did not come up"; }
    fi
    if ! pid_of "$SLURMD_PID" slurmd >/dev/null; then
        # -c: discard leftover job state in the spool; -N: register under our NodeName.
        : >"$LOG/slurmd.log"
        slurmd -c -N "$NODE" -f "$CONF" || { tail_logs; die "slurmd failed to start"; }
        wait_for_pidfile "$SLURMD_PID" slurmd 20 || { tail_logs; die "slurmd did not come up"; }
    fi

    # Wait until the node is usable. `*` suffix = not responding yet; down/drain get a
    # resume (ReturnToService=2 usually makes that unnecessary).
    local deadline=$((SECONDS + WAIT_SECS)) state=
    while [ "$SECONDS" -lt "$deadline" ]; do
        state=$(node_state || true)
        case "$state" in
            idle | mix | mixed | alloc | allocated | comp | completing)
                say "node $NODE is $state; cluster ready (SLURM_CONF=$CONF)"
                trap - EXIT
                return 0 ;;
            down | drain | drained | draining | drng | fail)
                scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true ;;
        esac
        pid_of "$SLURMCTLD_PID" slurmctld >/dev/null || { tail_logs; die "slurmctld exited"; }
        pid_of "$SLURMD_PID" slurmd >/dev/null || { tail_logs; die "slurmd exited"; }
        sleep 1
    done
    sinfo -N -l >&2 || true
    scontrol show node "$NODE" >&2 || true
    tail_logs
    die "node $NODE not usable after ${WAIT_SECS}s (last state: '${state:-none}')"
}

# ---------------------------------------------------------------------------------------
# stop / status
# ---------------------------------------------------------------------------------------

cmd_stop() {
    need_root
    use_conf || true
    # Cancel what is still queued or running while the controller is up, so no job steps
    # outlive slurmd.
    if pid_of "$SLURMCTLD_PID" slurmctld >/dev/null && [ -e "$CONF" ]; then
        local jobs i=0
        jobs=$(squeue -h -o %i 2>/dev/null | sort -u | tr '\n' ' ' || true)
        # shellcheck disable=SC2086  # one argument per job id
        [ -z "${jobs// /}" ] || scancel --full $jobs >/dev/null 2>&1 || true
        # KillWait (5 s) is the grace between SIGTERM and SIGKILL for cancelled jobs.
        while [ "$i" -lt 20 ] && [ -n "$(squeue -h -o %i 2>/dev/null)" ]; do
            sleep 1
            i=$((i + 1))
        done
    fi
    stop_pid "$SLURMD_PID" slurmd
    # Any step daemon of ours still alive, with its job processes (e.g. a job that ignored
    # the cancel, or slurmd gone before it could reap it).
    local p
    for p in $(our_stepds); do
        say "killing leftover job process $p ($(cat "/proc/$p/comm" 2>/dev/null || echo gone))"
        kill -KILL "$p" 2>/dev/null || true
    done
    stop_pid "$SLURMCTLD_PID" slurmctld
    stop_pid "$MUNGED_PID" munged
    # Remove the default-path copy only if it is still this cluster's config.
    if [ -e "$CONF" ] && cmp -s "$CONF" "$SYSTEM_CONF"; then
        rm -f "$SYSTEM_CONF"
    fi
    say "stopped"
}

cmd_status() {
    if pid_of "$SLURMCTLD_PID" slurmctld >/dev/null && use_conf; then
        local d
        for d in munged slurmctld slurmd; do
            printf '%-9s %s\n' "$d" "$(pid_of "$RUN/$d.pid" "$d" || echo 'not running')"
        done
        sinfo -N -l || true
        squeue || true
    else
        echo "not running"
    fi
}

case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) echo "export SLURM_CONF=$CONF" ;;
    *)
        echo "usage: $0 {install|start|stop|status|env}" >&2
        exit 2 ;;
esac
