# Optional CSV group-by contender for bench/workloads/written.ts: DuckDB (PyPI `duckdb`) over the same
# file. Only used when `import duckdb` works (e.g. `python3 -m pip install --target .toolchain/duckdb
# duckdb`, found through PYTHONPATH); the bench never depends on it.
#   python3 duckdb_groupby.py FILE THREADS REPS  ->  {"ns": [...], "result": "name:count:sum ...", "hwm_kb": N}
# (hwm_kb: the Python process's peak RSS, VmHWM, interpreter included)
# Time per result: connect, read_csv + GROUP BY, fetch (the Python interpreter's start is not timed).
import json, sys, time
import duckdb

path, threads, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def peak_kb():
    # VmHWM of this process's own memory (ru_maxrss is not: Linux carries it over exec from the
    # spawning process, here the bench's Bun process).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


query = "SELECT category, count(*), sum(amount) FROM read_csv(?, header = true, columns = {'id': 'BIGINT', 'category': 'VARCHAR', 'amount': 'DOUBLE'}) GROUP BY 1"
ns, rows = [], []
for i in range(reps + 1):  # the first is an untimed warm-up
    t = time.perf_counter_ns()
    con = duckdb.connect(config={"threads": threads})
    rows = con.execute(query, [path]).fetchall()
    con.close()
    if i > 0:
        ns.append(time.perf_counter_ns() - t)
result = " ".join(f"{name}:{count}:{total!r}" for name, count, total in sorted(rows))
print(json.dumps({"ns": ns, "result": result, "hwm_kb": peak_kb()}))
