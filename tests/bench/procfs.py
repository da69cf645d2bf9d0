"""CPU time and resident memory of process trees, read from /proc.

A tunnel end is a set of root PIDs plus everything they forked (sshd forks
a process per session; stunnel and authchain use threads, which /proc/PID/stat
already sums). CPU is utime+stime of each live process plus cutime+cstime
(children it has reaped), in seconds; RSS is VmRSS in KiB.
"""
import os

_TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    # The command name is in parentheses and may hold spaces: split after it.
    return text[text.rindex(")") + 2:].split()


def _children_map():
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(_stat_fields(entry)[1])
        except (OSError, ValueError, IndexError):
            continue  # gone between listdir and open
        children.setdefault(ppid, []).append(int(entry))
    return children


def tree(roots):
    """The root PIDs that are alive and all their descendants."""
    children = _children_map()
    seen, todo = [], [p for p in roots if os.path.exists(f"/proc/{p}")]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.append(pid)
        todo.extend(children.get(pid, []))
    return seen


def cpu_seconds(roots):
    total = 0
    for pid in tree(roots):
        try:
            f = _stat_fields(pid)
        except OSError:
            continue
        # Fields 14-17 of stat (1-based): utime stime cutime cstime; here 0-based after the name.
        total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    return total / _TICK


def rss_kib(roots):
    total = 0
    for pid in tree(roots):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


def max_open_files(roots):
    """The lowest soft RLIMIT_NOFILE among the processes of the trees (None: none readable)."""
    lowest = None
    for pid in tree(roots):
        try:
            with open(f"/proc/{pid}/limits") as f:
                for line in f:
                    if line.startswith("Max open files"):
                        soft = line.split()[3]
                        if soft.isdigit() and (lowest is None or int(soft) < lowest):
                            lowest = int(soft)
        except OSError:
            continue
    return lowest
