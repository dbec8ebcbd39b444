# report.awk: the tables run.sh prints from its results file, whose lines are
#   T WORKLOAD SCENARIO BUILDER ROUND SECONDS   (SECONDS may be "fail")
#   RSS WORKLOAD SCENARIO ROUND KB               (minibuild's peak RSS)
#   CPU WORKLOAD SCENARIO ROUND USER SYS         (minibuild's CPU seconds)
# Variables: builders (space-separated, minibuild first), rounds.
# Every ratio to the peers is against the faster of BuildKit and Buildah on
# that row (its median), named beside it; "previous" (--baseline) is another
# minibuild, not a peer, and gets a column of its own.

function median(key,    n, i, j, v, t) {
	n = split(vals[key], v, " ")
	if (n == 0) return -1
	for (i = 2; i <= n; i++) {
		t = v[i] + 0
		for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j + 1] = v[j]
		v[j + 1] = t
	}
	return n % 2 ? v[(n + 1) / 2] + 0 : (v[n / 2] + v[n / 2 + 1]) / 2
}
function fmt(x) { return x < 0 ? "-" : sprintf("%.2f", x) }
function ratio(a, b) { return (a < 0 || b <= 0) ? "-" : sprintf("%.2f", a / b) }
function check(label, got, limit) {
	if (got == "-") { printf "  %-52s   -      n/a\n", label; return }
	printf "  %-52s %6s  %s\n", label, got, (got + 0 <= limit ? "met" : "MISSED")
}
# faster(w, s) returns the median of the faster of BuildKit and Buildah on
# workload w, scenario s (-1 if neither ran), and sets fastname to its name.
function faster(w, s,    i, t, best) {
	best = -1; fastname = "-"
	for (i = 1; i <= npeers; i++) {
		t = median(w SUBSEP s SUBSEP peers[i])
		if (t > 0 && (best < 0 || t < best)) { best = t; fastname = peers[i] }
	}
	return best
}
# vs_faster(w, s) is minibuild's ratio to the faster peer on w, s.
function vs_faster(w, s) { return ratio(median(w SUBSEP s SUBSEP "minibuild"), faster(w, s)) }
function ran(w) { return (w SUBSEP "cold") in seen }

$1 == "T" {
	key = $2 SUBSEP $3 SUBSEP $4
	if ($6 == "fail") fails[key]++
	else vals[key] = vals[key] " " $6
	if (!(($2 SUBSEP $3) in seen)) { seen[$2 SUBSEP $3] = 1; order[++nrows] = $2 SUBSEP $3 }
}
$1 == "CPU" { vals["cpu" SUBSEP $2 SUBSEP $3] = vals["cpu" SUBSEP $2 SUBSEP $3] " " ($5 + $6) }
$1 == "RSS" {
	k = $2 SUBSEP $3
	if (!(k in rss) || $5 + 0 > rss[k]) rss[k] = $5 + 0
	if (!($2 in rssw)) { rssw[$2] = 1; rssorder[++nrss] = $2 }
}

END {
	nb = split(builders, b, " ")
	npeers = 0
	for (i = 1; i <= nb; i++) if (b[i] == "buildkit" || b[i] == "buildah") peers[++npeers] = b[i]
	hasprev = index(" " builders " ", " previous ") > 0
	printf "== medians in seconds over %d round(s); ratio = minibuild / the faster of BuildKit and Buildah (below 1: minibuild faster)\n", rounds
	printf "%-4s %-9s", "", "scenario"
	for (i = 1; i <= nb; i++) printf " %10s", b[i]
	if (npeers > 0) printf " %9s %10s", "faster", "mb/faster"
	if (hasprev) printf " %12s", "mb/previous"
	printf "\n"
	for (r = 1; r <= nrows; r++) {
		split(order[r], ws, SUBSEP)
		if (ws[2] == "layer") continue
		printf "%-4s %-9s", ws[1], ws[2]
		for (i = 1; i <= nb; i++) {
			k = order[r] SUBSEP b[i]
			m[b[i]] = median(k)
			printf " %10s", (k in fails) ? "fail" : fmt(m[b[i]])
		}
		if (npeers > 0) {
			f = faster(ws[1], ws[2])
			printf " %9s %10s", fastname, ratio(m["minibuild"], f)
		}
		if (hasprev) printf " %12s", ratio(m["minibuild"], m["previous"])
		printf "\n"
	}
	if (("W1" SUBSEP "layer") in seen) {
		mb = median("W1" SUBSEP "cold" SUBSEP "minibuild")
		printf "\n== W1's source (110 MB) as one layer, medians in seconds; ratio = minibuild W1 cold / this\n"
		split("tar pigz-6 pigz-1 zstd-3", names, " ")
		split("tar -cf - src | cat;tar -cf - src | pigz -p 2 -6;tar -cf - src | pigz -p 2 -1;tar -cf - src | zstd -T2 -3", cmds, ";")
		for (i = 1; i <= 4; i++) {
			k = "W1" SUBSEP "layer" SUBSEP names[i]
			base[names[i]] = median(k)
			printf "  %-32s %8s %8s\n", cmds[i], fmt(base[names[i]]), ratio(mb, base[names[i]])
		}
	}
	if (("W1" SUBSEP "layer") in seen || ("W4" SUBSEP "layer") in seen) {
		printf "\n== floors: the least any builder does, medians in seconds; ratio = minibuild / this\n"
	}
	if (("W1" SUBSEP "layer") in seen) {
		k = "W1" SUBSEP "layer" SUBSEP "cp+pigz-6"
		printf "  %-52s %8s %8s  (W1 cold)\n", "cp -r src D && tar -C D -cf - . | pigz -p2 -6 >F", fmt(median(k)), ratio(mb, median(k))
		k = "W1" SUBSEP "layer" SUBSEP "stat-walk"
		printf "  %-52s %8s %8s  (W1 no-change)\n", "find src -printf '%s %T@ %C@ %i' (one lstat each)", fmt(median(k)), ratio(median("W1" SUBSEP "nochange" SUBSEP "minibuild"), median(k))
	}
	if (("W4" SUBSEP "layer") in seen) {
		k = "W4" SUBSEP "layer" SUBSEP "floor"
		printf "  %-52s %8s %8s  (W4 cold)\n", "pigz -dc base | tar -x; the steps in a chroot", fmt(median(k)), ratio(median("W4" SUBSEP "cold" SUBSEP "minibuild"), median(k))
	}
	if (nrss > 0) {
		printf "\n== minibuild: peak RSS in MB (highest over rounds), CPU seconds user+sys (median), from GNU time\n"
		for (i = 1; i <= nrss; i++) {
			w = rssorder[i]
			printf "  %-4s RSS  cold %6.1f   nochange %6.1f   change %6.1f\n", w, rss[w SUBSEP "cold"] / 1024, rss[w SUBSEP "nochange"] / 1024, rss[w SUBSEP "change"] / 1024
			printf "  %-4s CPU  cold %6s   nochange %6s   change %6s\n", w, fmt(median("cpu" SUBSEP w SUBSEP "cold")), fmt(median("cpu" SUBSEP w SUBSEP "nochange")), fmt(median("cpu" SUBSEP w SUBSEP "change"))
		}
	}
	printf "\n== targets of issues 5 and 18 (ratios of the medians above; \"faster\" = the faster of BuildKit and Buildah)\n"
	split("W1 W2 W3 W4", all, " ")
	for (i = 1; i <= 4; i++) {
		w = all[i]
		if (!ran(w)) continue
		if (w == "W4") {
			check("W4 cold <= 0.5 x faster", vs_faster(w, "cold"), 0.5)
			check("W4 cold <= 1.3 x its floor (tar -x, chroot)", ratio(median("W4" SUBSEP "cold" SUBSEP "minibuild"), median("W4" SUBSEP "layer" SUBSEP "floor")), 1.3)
			check("W4 one-file change <= 0.25 x faster", vs_faster(w, "change"), 0.25)
		} else {
			check(w " cold <= 0.33 x faster", vs_faster(w, "cold"), 0.33)
			if (w == "W1")
				check("W1 cold <= 1.0 x tar -cf - src | pigz -p2 -6", ratio(median("W1" SUBSEP "cold" SUBSEP "minibuild"), median("W1" SUBSEP "layer" SUBSEP "pigz-6")), 1.0)
			check(w (w == "W2" ? " one-step change" : " one-file change") " <= 0.33 x faster", vs_faster(w, "change"), 0.33)
		}
		check(w " no-change <= 0.2 x faster", vs_faster(w, "nochange"), 0.2)
	}
	for (i = 1; i <= 4; i++) {
		w = all[i]
		if (!ran(w)) continue
		peak = -1
		for (k in rss) if (index(k, w SUBSEP) == 1 && rss[k] > peak) peak = rss[k]
		check(w " peak RSS <= 100 MB (MB)", peak < 0 ? "-" : sprintf("%.1f", peak / 1024), 100)
	}
}
