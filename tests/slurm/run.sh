#!/usr/bin/env bash
# A real single-node SLURM (Debian's slurm-wlm + munge) runs a small scan as a 4-task job array made by
# `lauekit scan sbatch`; the merged file must equal the single-machine run's (`lauekit scan compare`).
# Installs what is missing (apt), starts munged, slurmctld and slurmd, and stops them by PID at the end.
# Usage: tests/slurm/run.sh PATH/TO/lauekit   (as root)
set -euo pipefail
LAUEKIT=$(readlink -f "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GB=$(readlink -f "$ROOT/../shared/data/real/Ge_blanc")
WORK=$(mktemp -d /tmp/lauekit-slurm.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "slurm test: installing slurm-wlm and munge from apt"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

HOST=$(hostname)
mkdir -p /run/munge /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /etc/slurm
chown munge:munge /run/munge
chown slurm:slurm /var/spool/slurmctld /var/log/slurm
[ -s /etc/munge/munge.key ] || { dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  sleep 1
fi
MUNGE_PID=$(pgrep -u munge -x munged | head -1 || true)
[ -n "$MUNGE_PID" ] && PIDS+=("$MUNGE_PID")
munge -n | unmunge >/dev/null

CONF=/etc/slurm/slurm.conf
cat > "$CONF" <<CONF
ClusterName=lauekit-test
SlurmctldHost=$HOST
SlurmUser=slurm
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
ReturnToService=2
MpiDefault=none
NodeName=$HOST CPUs=$(nproc) RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
/usr/sbin/slurmctld
/usr/sbin/slurmd
sleep 1
PIDS+=("$(cat /run/slurmctld.pid)" "$(cat /run/slurmd.pid)")
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mixed' && break; sleep 1; done
sinfo

# A 4×3 scan of Ge_blanc links with a bad image, on one machine and as a 4-task array.
mkdir -p "$WORK/images"
for i in $(seq 0 11); do ln -s "$GB/Ge_blanc_0000.mccd" "$WORK/images/Ge_$(printf %04d "$i").mccd"; done
head -c 100000 "$GB/Ge_blanc_0000.mccd" > "$WORK/images/Ge_0005.mccd.part" && mv "$WORK/images/Ge_0005.mccd.part" "$WORK/images/Ge_0005.mccd.x"
rm "$WORK/images/Ge_0005.mccd" && mv "$WORK/images/Ge_0005.mccd.x" "$WORK/images/Ge_0005.mccd"
ARGS=("$WORK/images" --grid 4x3 --calib "$GB/calibGe111.det" --params "$GB/peaksearch.json" --material Ge)
"$LAUEKIT" scan "${ARGS[@]}" -o "$WORK/single.h5" --quiet || [ $? -eq 3 ]
cd "$WORK"
"$LAUEKIT" scan sbatch --tasks 4 --max-running 2 --cpus 1 --name lktest -- "${ARGS[@]}" -o "$WORK/array.h5" > job.sh
cat job.sh
sbatch --wait job.sh
# The merge is a dependent job: wait for it.
for _ in $(seq 120); do [ -f "$WORK/array.h5" ] && ! squeue -h | grep -q . && break; sleep 1; done
ls -l "$WORK"
cat lktest-*.log || true
"$LAUEKIT" scan compare "$WORK/single.h5" "$WORK/array.h5"
echo "slurm test: 1 passed, 0 failed"
