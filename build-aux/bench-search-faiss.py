#!/usr/bin/python3
"""The FAISS side of `likeness-cli bench search`.

Reads the data the C side wrote (raw little-endian float32 files in
--dir), times FAISS's exact indexes (IndexFlatL2, IndexFlatIP) on the
same three cases, and writes FAISS's neighbour lists next to them so the
C side can check that both found the same neighbours (up to ties):

  single  one query at a time over the whole base (median of the queries)
  batch   all --batch queries in one call (best of --repeats)
  pairs   every one of the first --pairs base rows against the others, as
          a FAISS user does it: k + 1 neighbours, then the row itself is
          dropped (the dropping is not timed)

Prints one "name value" line per figure (milliseconds). Run under
Debian's /usr/bin/python3 (python3-faiss, python3-numpy), with
OMP_NUM_THREADS and OPENBLAS_NUM_THREADS set to --threads by the caller.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np
import faiss


def load(path, rows, dim):
    return np.fromfile(path, dtype="<f4").reshape(rows, dim)


def drop_self(D, I, k):
    """Removes each row's own id from its k + 1 neighbours."""
    n = I.shape[0]
    out_i = np.empty((n, k), dtype=np.int64)
    out_d = np.empty((n, k), dtype=np.float32)
    for r in range(n):
        keep = I[r] != r
        if keep.all():
            keep[-1] = False
        out_i[r] = I[r][keep]
        out_d[r] = D[r][keep]
    return out_d, out_i


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--dim", type=int, required=True)
    ap.add_argument("--k", type=int, required=True)
    ap.add_argument("--queries", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--pairs", type=int, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    faiss.omp_set_num_threads(args.threads)
    base = load(os.path.join(args.dir, "base.f32"), args.n, args.dim)
    queries = load(os.path.join(args.dir, "queries.f32"), args.queries, args.dim)
    batch = load(os.path.join(args.dir, "batch.f32"), args.batch, args.dim)
    pairs = np.ascontiguousarray(base[: args.pairs])
    t = args.threads
    print("faiss-version", faiss.__version__)

    for metric, cls in (("l2", faiss.IndexFlatL2), ("ip", faiss.IndexFlatIP)):
        index = cls(args.dim)
        index.add(base)

        index.search(queries[:5], args.k)  # warm up
        times = []
        single_i = np.empty((args.queries, args.k), dtype=np.int64)
        single_d = np.empty((args.queries, args.k), dtype=np.float32)
        for q in range(args.queries):
            x = queries[q : q + 1]
            t0 = time.perf_counter()
            D, I = index.search(x, args.k)
            times.append(time.perf_counter() - t0)
            single_i[q] = I[0]
            single_d[q] = D[0]
        print(f"single-{metric}", statistics.median(times) * 1e3)
        single_i.tofile(os.path.join(args.dir, f"faiss-single-{metric}-t{t}.i64"))
        single_d.tofile(os.path.join(args.dir, f"faiss-single-{metric}-t{t}.f32"))

        best = float("inf")
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            D, I = index.search(batch, args.k)
            best = min(best, time.perf_counter() - t0)
        print(f"batch-{metric}", best * 1e3)
        I.tofile(os.path.join(args.dir, f"faiss-batch-{metric}-t{t}.i64"))
        D.tofile(os.path.join(args.dir, f"faiss-batch-{metric}-t{t}.f32"))

        index = cls(args.dim)
        index.add(pairs)
        best = float("inf")
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            D, I = index.search(pairs, args.k + 1)
            best = min(best, time.perf_counter() - t0)
        print(f"pairs-{metric}", best * 1e3)
        D, I = drop_self(D, I, args.k)
        I.tofile(os.path.join(args.dir, f"faiss-pairs-{metric}-t{t}.i64"))
        D.tofile(os.path.join(args.dir, f"faiss-pairs-{metric}-t{t}.f32"))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
