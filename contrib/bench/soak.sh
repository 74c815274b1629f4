# contrib/bench/soak.sh: sourced by contrib/bench/run when SOAK is set
# (minutes), after paknd started on the throwaway cluster: PACE
# complaint callbacks a second (pace.c, an open loop: 2 000 by default)
# for SOAK minutes, with processing and the outbox's sends running as
# deployed, then until every message is processed and every SMS sent.
# Each callback a new citizen, their phones scattered over the numbers
# as a deployment's are (pace -R: the indexes by phone take entries all
# over); PHONES=sequential numbers them in turn, as the table's loads
# do.
# What a run of a few seconds cannot show: whether processing keeps pace
# hour after hour, whether the acks come as fast at the end as at the
# start, whether paknd's memory, the claims' index scans, the dead rows
# and the database's size stay in proportion to what was stored.
#
# Every SOAK_EVERY seconds (30) one line: callbacks stored, processed and
# SMS sent a second over the interval; the messages waiting for processing
# and the SMS not sent yet; the ack's delay after its row (processed_at -
# received_at: the ack is queued in the transaction that marks the
# message processed), p50 and p99, of the messages stored in the interval
# before (so that each had an interval to be processed; those still
# waiting are counted, not timed); paknd's RSS and CPU, PostgreSQL's CPU;
# the database's size and bytes a message; dead rows, autovacuum and
# autoanalyze runs, checkpoints; warnings and errors in paknd's log.
# Then the verdicts (the paced goal in each interval, processing kept
# pace, the acks no slower at the end, paknd's memory flat).

every=${SOAK_EVERY:-30}
soak_secs=$((SOAK * 60))
[ "$soak_secs" -gt 0 ] || die "SOAK=$SOAK: minutes, at least 1"
case ${PHONES:-scattered} in
scattered) scatter=-R ;;
sequential) scatter= ;;
*) die "PHONES=$PHONES: scattered (the default) or sequential" ;;
esac

# A counter of paknd's /metrics, all its series summed.
msum() { # name
	curl -s "http://127.0.0.1:$port/metrics" | awk -v k="$1" '
		index($1, k "{") == 1 || $1 == k { s += $2 } END { printf "%d", s }'
}
# CPU ticks (user + system) of a process.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
	pm=$(head -1 "$tmp/pg/postmaster.pid")
	t=$(ticks "$pm")
	for c in $(pgrep -P "$pm"); do t=$((t + $(ticks "$c"))); done
	echo "$t"
}
hz=$(getconf CLK_TCK)
# A count over the interval ($el seconds) a second; CPU ticks as a
# percentage of one core.
per_s() { awk -v d="$1" -v t="$el" 'BEGIN { printf "%d", d / t }'; }
cpu_pct() { awk -v d="$1" -v t="$el" -v hz="$hz" 'BEGIN { printf "%d", 100 * d / hz / t }'; }
log_bad() { grep -c '\[warning\]\|\[error\]' "$tmp/paknd.log" || true; }

db0=$(q -d pakn -tAc "SELECT pg_database_size('pakn')")
say "soak: $pace_n callbacks a second for $SOAK min, a line every ${every}s"
q -d postgres -c CHECKPOINT >/dev/null
"$build/pace" -p "$port" -r "$pace_n" -s "$soak_secs" -c "$conns" -t bench \
	-i soak $scatter >"$tmp/pace.soak" 2>&1 &
load_pid=$!
started $load_pid

# One sample: the database's side in one statement (lo, hi: the ids of
# the interval before, whose delays are read).
sample_sql() { # lo hi
	echo "SELECT
	(SELECT coalesce(max(id), 0) FROM pakn.inbound_message),
	(SELECT count(*) FROM pakn.inbound_message WHERE state = 'new'),
	$unsent,
	w.n, w.waiting, coalesce(round(w.p50), 0), coalesce(round(w.p99), 0),
	pg_database_size('pakn'),
	(SELECT sum(n_dead_tup) FROM pg_stat_user_tables),
	(SELECT sum(autovacuum_count) FROM pg_stat_user_tables),
	(SELECT sum(autoanalyze_count) FROM pg_stat_user_tables),
	(SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter)
	FROM (SELECT count(*) AS n,
		count(*) FILTER (WHERE m.state = 'new') AS waiting,
		percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
			m.processed_at - m.received_at) * 1000)
			FILTER (WHERE m.state = 'done') AS p50,
		percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM
			m.processed_at - m.received_at) * 1000)
			FILTER (WHERE m.state = 'done') AS p99
		FROM pakn.inbound_message m WHERE m.id > $1 AND m.id <= $2) w"
}

echo "contrib/bench/run (SOAK=$SOAK PACE=$pace_n PHONES=${PHONES:-scattered}), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $units units$([ -z "${PG_CONF:-}" ] || echo ", PostgreSQL: $(echo "$PG_CONF" | tr "\n" ";")")"
echo
echo "| at | stored/s | processed/s | sent/s | waiting | unsent | ack p50 / p99 ms (of) | still waiting | paknd RSS MB | paknd CPU % | PostgreSQL CPU % | database MB | bytes a message | dead rows | autovacuum / analyze | checkpoints | warnings |"
echo "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"
t0=$(date +%s)
lo=0 hi=0
p_proc=$(msum pakn_processed_total) p_sent=$(msum pakn_outbox_sends_total)
p_pk=$(ticks "$pid") p_pg=$(pg_ticks) p_t=$(date +%s.%N)
# The columns of the first and last full intervals, for the verdicts.
first_p99="" last_p99="" over=0 intervals=0 first_rss="" max_rss=0 max_wait=0 load_end_wait=""
drained=""
while :; do
	# (In the background: a signal's trap runs at once, not after it.)
	sleep "$every" &
	wait $!
	alive
	loading=0
	kill -0 "$load_pid" 2>/dev/null && loading=1
	now=$(date +%s.%N)
	proc=$(msum pakn_processed_total)
	sent=$(msum pakn_outbox_sends_total)
	pk=$(ticks "$pid")
	pg=$(pg_ticks)
	IFS='|' read -r maxid waiting unsent_n n still p50 p99 dbsize dead av aa cp <<EOF
$(q -d pakn -tA -F '|' -c "$(sample_sql "$lo" "$hi")")
EOF
	rss=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")
	el=$(awk -v a="$p_t" -v b="$now" 'BEGIN { print b - a }')
	stored_s=$(per_s $((maxid - hi)))
	at=$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%d:%02d", (b - a) / 60, (b - a) % 60 }')
	bpm=$(awk -v s=$((dbsize - db0)) -v n="$maxid" 'BEGIN { if (n > 0) printf "%d", s / n; else print 0 }')
	if [ "$n" -gt 0 ]; then delays="$p50 / $p99 ($n)"; else delays="-"; fi
	echo "| $at | $stored_s | $(per_s $((proc - p_proc))) | $(per_s $((sent - p_sent))) | $waiting | $unsent_n | $delays | $still | $rss | $(cpu_pct $((pk - p_pk))) | $(cpu_pct $((pg - p_pg))) | $((dbsize / 1048576)) | $bpm | $dead | $av / $aa | $cp | $(log_bad) |"
	# The verdicts read full intervals of the load: the delays of the
	# interval before, stored while the load ran.
	if [ "$n" -gt 0 ] && [ "$loading" = 1 ]; then
		[ -n "$first_p99" ] || first_p99=$p99
		last_p99=$p99
		intervals=$((intervals + 1))
		[ "$p99" -lt 1000 ] || over=$((over + 1))
	fi
	[ -n "$first_rss" ] || first_rss=$rss
	max_rss=$(awk -v a="$max_rss" -v b="$rss" 'BEGIN { print (b > a) ? b : a }')
	[ "$loading" = 1 ] && [ "$waiting" -gt "$max_wait" ] && max_wait=$waiting
	if [ "$loading" = 0 ] && [ -z "$load_end_wait" ]; then
		load_end_wait=$waiting
		load_end=$now
	fi
	lo=$hi hi=$maxid
	p_proc=$proc p_sent=$sent p_pk=$pk p_pg=$pg p_t=$now
	if [ "$loading" = 0 ] && [ "$waiting" = 0 ] && [ "$unsent_n" = 0 ]; then
		drained=$(awk -v a="$load_end" -v b="$now" 'BEGIN { printf "%.0f", b - a }')
		break
	fi
	# Two minutes after the load, whatever is left is reported.
	if [ "$loading" = 0 ] && [ "$(awk -v a="$load_end" -v b="$now" 'BEGIN { print (b - a > 120) }')" = 1 ]; then
		break
	fi
done
wait "$load_pid" 2>/dev/null || true

read -r _ offered _ _ _ ok _ bad _ late _ ap50 _ ap99 _ amax <"$tmp/pace.soak"
stored=$(q -d pakn -tAc "SELECT count(*) FROM pakn.inbound_message WHERE gateway_msg_id LIKE 'soak-%'")
done_n=$(q -d pakn -tAc "SELECT count(*) FROM pakn.inbound_message WHERE state = 'done'")
failed_n=$(q -d pakn -tAc "SELECT count(*) FROM pakn.inbound_message WHERE state = 'failed'")
acks=$(q -d pakn -tAc "SELECT count(DISTINCT inbound_id) FROM pakn.outbox WHERE inbound_id IS NOT NULL")
twice=$(q -d pakn -tAc "SELECT count(*) FROM (SELECT inbound_id FROM pakn.outbox WHERE inbound_id IS NOT NULL GROUP BY inbound_id, msisdn HAVING count(*) > 1) x")
echo
echo "Load: $offered offered, $ok answered 200, $bad not (late: $late waited for a connection); answers p50 $ap50 ms, p99 $ap99 ms, max $amax ms."
echo "Stored $stored, processed $done_n, failed $failed_n; $acks messages acknowledged, $twice with two acks to one phone."
# (The load's end is known to the line: the first line after it.)
[ -z "$drained" ] && echo "Not drained 2 minutes after the load: see the last line." ||
	echo "Every message processed and every SMS sent by the first line after the load ended, +${drained} s."
echo "Waiting for processing: at most $max_wait during the load, $load_end_wait when it ended."
echo "Ack after its row, p99: ${first_p99:-?} ms in the first interval, ${last_p99:-?} ms in the last of the load; 1 s or more in $over of $intervals intervals (goal < 1000 ms)."
echo "paknd RSS: $first_rss MB at the first line, at most $max_rss MB (goal < 64 MB); warnings and errors in its log: $(log_bad)."
