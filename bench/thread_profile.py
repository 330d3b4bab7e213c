#!/usr/bin/env python3
"""CPU time per thread of a command (not a test): where a run's cores go, to find the thread that bounds it.

usage: bench/thread_profile.py COMMAND [ARG...]

Samples /proc/PID/task/*/stat every 0.1 s while the command runs and prints, per thread name (facefx
names its own threads: fx.gl, fx.frames, fx.analysis, fx.decode.N, fx.batch.N; codec threads carry the process
name), the threads seen, their CPU seconds and the busiest one's share of the wall time. A thread near
100 % of the wall bounds the run; the process total over the wall is the cores used. Where nvidia-smi
runs, the GPU's utilisation (the share of 100-ms samples in which a kernel ran) is averaged too.
"""
import os, subprocess, sys, time

def sample(pid, seen):
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                s = f.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        name = s[s.index("(") + 1:s.rindex(")")]
        fields = s[s.rindex(")") + 2:].split()
        ticks = int(fields[11]) + int(fields[12])   # utime + stime
        seen[tid] = (name, ticks)

def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    hz = os.sysconf("SC_CLK_TCK")
    seen = {}
    start = time.monotonic()
    try:
        smi = subprocess.Popen(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits", "-lms", "100"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    except FileNotFoundError:
        smi = None
    p = subprocess.Popen(sys.argv[1:])
    while p.poll() is None:
        sample(p.pid, seen)
        time.sleep(0.1)
    wall = time.monotonic() - start
    if smi:
        smi.terminate()
        util = [int(v) for v in smi.communicate()[0].split() if v.isdigit()]
        if util:
            print(f"GPU utilisation: mean {sum(util) / len(util):.0f} % over {len(util)} samples")
    groups = {}
    for name, ticks in seen.values():
        g = groups.setdefault(name, [0, 0.0, 0.0])
        g[0] += 1; g[1] += ticks / hz; g[2] = max(g[2], ticks / hz)
    total = sum(g[1] for g in groups.values())
    print(f"wall {wall:.2f} s, exit {p.returncode}, CPU {total:.2f} s ({total / wall:.1f} cores; last samples, short threads may be missed)")
    print(f"{'thread':<18}{'count':>6}{'CPU s':>9}{'busiest % wall':>16}")
    for name, (n, cpu, busiest) in sorted(groups.items(), key=lambda kv: -kv[1][1]):
        print(f"{name:<18}{n:>6}{cpu:>9.2f}{100 * busiest / wall:>15.0f}%")
    sys.exit(p.returncode)

main()
