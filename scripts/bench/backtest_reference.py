#!/usr/bin/env python3
"""A plain-Python loop of the futures rules of DESIGN §10, for the speed comparison in the
README (and as an independent cross-check of trade counts). Floats, no libraries.

usage: backtest_reference.py DATA_DIR [SYMBOL ...]   (default BTCUSDT ETHUSDT SOLUSDT)
Prints: bar-steps, trades, final equity, and the simulation time (file parsing excluded).
"""
import csv, math, sys, time, os

W, THR, MINL, MAXL = 12, 0.02, 5, 25
RISK, SL, TP, TR, MAXPOS, MDL = 0.05, 0.03, 0.05, 0.10, 3, 0.20
FEE, MMR, CAP = 0.0005, 0.005, 10000.0
STEP = {"BTCUSDT": (0.001, 100.0), "ETHUSDT": (0.001, 20.0), "SOLUSDT": (1.0, 5.0)}
DAY = 86_400_000


def read(path, cols):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        r = csv.reader(f)
        next(r)
        return [tuple([int(row[0])] + [float(row[c]) for c in cols]) for row in r]


def main():
    data = sys.argv[1]
    symbols = sys.argv[2:] or ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    t0 = time.perf_counter()
    bars = {s: read(f"{data}/{s}.csv", [1, 2, 3, 4]) for s in symbols}
    marks = {s: {b[0]: b for b in read(f"{data}/{s}-mark.csv", [1, 2, 3, 4])} for s in symbols}
    funding = {s: {int(t): r for t, r in read(f"{data}/{s}-funding.csv", [1])} for s in symbols}
    t1 = time.perf_counter()

    times = sorted({b[0] for s in symbols for b in bars[s]})
    idx = {s: {b[0]: i for i, b in enumerate(bars[s])} for s in symbols}
    wallet, pos, pend, closeflag, last = CAP, {}, {}, set(), {}
    day, day_open, prev_eq, tripped_day = None, CAP, CAP, None
    trades, steps = [], 0

    def close(s, p, price):
        nonlocal wallet
        side, qty, e = p["side"], p["qty"], p["entry"]
        fee = qty * price * FEE
        wallet += side * qty * (price - e) - fee
        trades.append((s, p["t"], price))

    for T in times:
        active = [s for s in symbols if T in idx[s]]
        for s in active:
            o, h, l, c = bars[s][idx[s][T]][1:]
            m = marks[s].get(T)
            mo, mh, ml = (m[1], m[2], m[3]) if m else (o, h, l)
            p = pos.get(s)
            if p and T in funding[s]:
                wallet -= p["side"] * p["qty"] * mo * funding[s][T]
            if s in closeflag and p:
                close(s, p, o); del pos[s]; p = None
            closeflag.discard(s)
            if s in pend:
                side, qty, lev = pend.pop(s)
                wallet -= qty * o * FEE
                margin = qty * o / lev
                liq = (margin - side * qty * o) / (qty * MMR - side * qty)
                p = pos[s] = dict(side=side, qty=qty, entry=o, lev=lev, margin=margin, t=T,
                                  sl=o * (1 - side * SL), tp=o * (1 + side * TP), peak=o, liq=liq)
            if p:
                sg = p["side"]
                fo, fl, fh, fmo, fml = sg * o, (l if sg > 0 else -h), (h if sg > 0 else -l), sg * mo, (ml if sg > 0 else -mh)
                liq, sl, tp = sg * p["liq"], sg * p["sl"], sg * p["tp"]
                tr = sg * p["peak"] * (1 - sg * TR)
                hit = None
                if fmo <= liq:
                    hit = ("liq", 0)
                elif fo <= sl or fo <= tr:
                    hit = ("stop", fo)
                elif fo >= tp:
                    hit = ("tp", fo)
                else:
                    crossed = [(lv, k) for lv, k, x in ((liq, "liq", fml), (sl, "stop", fl), (tr, "stop", fl)) if x <= lv]
                    if crossed:
                        lv, k = max(crossed, key=lambda z: z[0])
                        hit = (k, lv)
                    elif fh >= tp:
                        hit = ("tp", tp)
                if hit:
                    if hit[0] == "liq":
                        wallet -= p["margin"]; trades.append((s, p["t"], None))
                    else:
                        close(s, p, sg * hit[1])
                    del pos[s]
        for s in active:
            i = idx[s][T]
            last[s] = bars[s][i][4]
            p = pos.get(s)
            if p:
                p["peak"] = max(p["peak"], bars[s][i][2]) if p["side"] > 0 else min(p["peak"], bars[s][i][3])
        eq = wallet + sum(p["side"] * p["qty"] * (last[s] - p["entry"]) for s, p in pos.items())
        d = (T + 3_600_000 - 1) // DAY
        if day is None:
            day = d
        elif d != day:
            day, day_open = d, prev_eq
        prev_eq = eq
        if tripped_day != day and eq <= (1 - MDL) * day_open:
            tripped_day = day
            closeflag |= set(pos)
        if tripped_day == day:
            steps += len(active); continue
        committed = sum(p["margin"] for p in pos.values())
        busy = len(pos) + len(pend)
        for s in active:
            if busy >= MAXPOS:
                break
            if s in pos or s in pend:
                continue
            i = idx[s][T]
            if i < W:
                continue
            c, b = bars[s][i][4], bars[s][i - W][4]
            mom = c / b - 1
            if abs(mom) < THR:
                continue
            lev = min(max(int(MINL * abs(mom) / THR), MINL), MAXL)
            notional = eq * RISK / SL
            free = wallet - committed
            if notional / lev > free:
                notional = free * lev
            step, min_notional = STEP[s]
            qty = math.floor(notional / c / step) * step
            if qty <= 0 or qty * c < min_notional:
                continue
            pend[s] = (1 if mom > 0 else -1, qty, lev)
            committed += qty * c / lev
            busy += 1
        steps += len(active)
    for s, p in list(pos.items()):
        close(s, p, last[s])
    t2 = time.perf_counter()
    print(f"bar_steps {steps} trades {len(trades)} final_equity {wallet:.2f}")
    print(f"parse_seconds {t1 - t0:.3f} simulate_seconds {t2 - t1:.3f} "
          f"bar_steps_per_second {steps / (t2 - t1):.0f}")


if __name__ == "__main__":
    main()
