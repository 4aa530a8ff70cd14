# bench/summary.sh, sourced by bench/run.sh: the summary of a run, its
# targets as MET or MISSED against the references, and its checks (every
# response 2xx, every order confirmed, no failed pgbench transaction).
# Reads run.sh's R; a failed check sets CHECKS_FAILED, and run.sh then
# exits non-zero: a run whose checks fail has no figures worth reading.

CHECKS_FAILED=0

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 >= b + 0) ? 1 : 0 }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 <= b + 0) ? 1 : 0 }'; }
verdict() { if (($1)); then echo MET; else echo MISSED; fi; }
ms() { awk -v us="$1" 'BEGIN { printf "%.2f ms", us / 1000 }'; }
us() { awk -v ns="$1" 'BEGIN { printf "%.1f us", ns / 1000 }'; }
target() { printf '  %-78s %-42s %s\n' "$1" "$2" "$(verdict "$3")"; }
check() {
	printf '  %-78s %-42s %s\n' "$1" "$2" "$(if (($3)); then echo OK; else echo FAILED; fi)"
	(($3)) || CHECKS_FAILED=1
}

# event_table: the event runs of section 7, the app's and Watermill's.
event_table() {
	local key label max
	echo "Event delivery: order.confirmed, publisher's commit to the subscriber's effect (commit timestamps)"
	printf '  %-28s %14s %12s %12s %12s %10s %10s %10s %10s\n' bus "rate/s*" "x Watermill" "max/s**" "at rate/s***" "sent/s" p50 p99 max
	for key in ev_one ev_three ev_wm; do
		case $key in ev_one) label="the app, one process" ;; ev_three) label="the app, three processes" ;; ev_wm) label="Watermill SQL Pub/Sub" ;; esac
		max=${R[${key}_max_kept_rate]:--}
		max=${max%.*}
		printf '  %-28s %14.0f %12s %12s %12.0f %10.0f %10s %10s %10s\n' "$label" "${R[${key}_rate_rate]}" \
			"$(ratio "${R[${key}_rate_rate]}" "${R[ev_wm_rate_rate]}")" "$max" \
			"${R[${key}_lat_target_rate]}" "${R[${key}_lat_sent_rate]}" \
			"${R[${key}_lat_p50_ms]} ms" "${R[${key}_lat_p99_ms]} ms" "${R[${key}_lat_max_ms]} ms"
	done
	echo "  * through a backlog committed at once ($EVENTS events for the app, $WM_EVENTS for Watermill), first effect to last"
	echo "  ** the maximal rate: one event per transaction, publishers flat out (asked the drained rate) for ${EVENT_SECONDS}s, the"
	echo "     events delivered by the last commit per second of publishing: what publishing and delivery sustain together"
	echo "  *** one event per transaction, on schedule, for ${EVENT_SECONDS}s: the app at half its maximal rate, Watermill at the"
	echo "     app's one-process rate (the same arrivals); sent/s is what the publishers achieved"
	for key in ev_one ev_three; do
		[[ -n ${R[${key}_max_p50_ms]:-} ]] || continue
		echo "  flat out, ${key#ev_}: sent $(printf '%.0f' "${R[${key}_max_sent_rate]}")/s of $(printf '%.0f' "${R[${key}_max_target_rate]}") asked, p50 ${R[${key}_max_p50_ms]} ms, p99 ${R[${key}_max_p99_ms]} ms (saturated; no target)"
	done
	echo "  the app's effect: users' inbox row and order_stats in one transaction; Watermill's: the message received and acked"
	echo
}

# event_targets: the MET/MISSED lines of the event targets.
event_targets() {
	local key label x
	for key in ev_one ev_three; do
		if [[ $key == ev_one ]]; then label="one process"; else label="three processes"; fi
		x=$(ratio "${R[${key}_rate_rate]}" "${R[ev_wm_rate_rate]}")
		target "events delivered/s, $label / Watermill subscribe rate >= 10x" \
			"${x}x ($(printf '%.0f / %.0f' "${R[${key}_rate_rate]}" "${R[ev_wm_rate_rate]}") per s)" "$(ge "$x" 10)"
	done
	if [[ -n ${BENCH_EVENT_RATE:-} ]]; then
		echo "  (the latency runs were at BENCH_EVENT_RATE=$BENCH_EVENT_RATE/s, not half the rate measured: their verdicts do not count)"
	fi
	for key in ev_one ev_three; do
		if [[ $key == ev_one ]]; then label="one process"; else label="three processes"; fi
		target "delivery latency at half the max rate, $label: p50 <= 20 ms, p99 <= 100 ms" \
			"p50 ${R[${key}_lat_p50_ms]} ms, p99 ${R[${key}_lat_p99_ms]} ms at $(printf '%.0f' "${R[${key}_lat_sent_rate]}")/s${R[${key}_max_kept_rate]:+ of max ${R[${key}_max_kept_rate]%.*}}" \
			"$(($(le "${R[${key}_lat_p50_ms]}" 20) && $(le "${R[${key}_lat_p99_ms]}" 100)))"
	done
}

# event_summary: what BENCH_ONLY=events prints.
event_summary() {
	event_table
	echo "Targets (durable cluster, fsync on, $(nproc) CPUs)"
	event_targets
	echo "  (every event had its effect once: bench/events stops the run otherwise)"
	echo
	echo "Measured on a shared machine while others ran tests (see the load notes per run): indicative, not definitive."
}

# order_table: the order runs of sections 3-6 and their CPU per order.
order_table() {
	local ref=${R[ref_tps]} key label
	echo "Order placement: $CLIENTS clients, ${DURATION}s, fsync on, two items per order"
	printf '  %-38s %8s %10s %10s %12s %9s\n' run tps p50 p99 "x reference" "x replay"
	printf '  %-38s %8.0f %10s %10s %12s %9s\n' "order reference (order_reference.sql)" "$ref" \
		"$(ms "${R[ref_p50_us]}")" "$(ms "${R[ref_p99_us]}")" 1.00 "$(ratio "$ref" "${R[sql_tps]}")"
	printf '  %-38s %8s\n' "  the mean of: before the app's runs" "$(printf '%.0f' "${R[ref_before_tps]}")" \
		"               after them (5b)" "$(printf '%.0f' "${R[ref2_tps]}")"
	for key in one three; do
		if [[ $key == one ]]; then label="one process"; else label="three processes"; fi
		printf '  %-38s %8.0f %10s %10s %12s %9s\n' "$label" "${R[${key}_tps]}" \
			"$(ms "${R[${key}_p50_us]}")" "$(ms "${R[${key}_p99_us]}")" \
			"$(ratio "${R[${key}_tps]}" "$ref")" "$(ratio "${R[${key}_tps]}" "${R[sql_tps]}")"
	done
	printf '  %-38s %8.0f %10s %10s %12s %9s\n' "diagnostic: the app's SQL replayed" "${R[sql_tps]}" \
		"$(ms "${R[sql_p50_us]}")" "$(ms "${R[sql_p99_us]}")" "$(ratio "${R[sql_tps]}" "$ref")" 1.00
	echo "  the reference: 15 statements, 4 durable commits per order; the app, per placement (one placement alone, idle polls left out):"
	echo "    request path ${R[cap_request_statements]} statements, ${R[cap_request_commits]} durable commits;" \
		"asynchronous per event ${R[cap_event_statements]} statements, ${R[cap_event_commits]} durable commits;" \
		"relays' per-poll share ${R[cap_poll_statements]} statements, ${R[cap_poll_commits]} commits (shared by a batch under load);" \
		"$((R[cap_request_parses] + R[cap_event_parses] + R[cap_poll_parses])) prepared first"
	echo "  the replay (bench/place_order.sql): request path ${R[scr_request_statements]}/${R[scr_request_commits]}, per event ${R[scr_event_statements]}/${R[scr_event_commits]}," \
		"relay shares ${R[scr_poll_statements]} statements, ${R[scr_poll_commits]} commits with synchronous_commit off"
	echo
	echo "CPU time per order, ms ($(nproc) CPUs shared by everything; \"others\" is everyone else's work on the machine)"
	printf '  %-22s %9s %8s %11s %10s %8s %8s %17s\n' run "CPUs busy" app PostgreSQL "load gen" others total "tps if CPU-bound*"
	for key in ref one three sql; do
		case $key in ref) label="order reference" ;; sql) label="app's SQL replayed" ;; one) label="one process" ;; three) label="three processes" ;; esac
		printf '  %-22s %9s %8s %11s %10s %8s %8s %17s\n' "$label" "${R[${key}_cpus_busy]}" "${R[${key}_cpu_app]}" \
			"${R[${key}_cpu_pg]}" "${R[${key}_cpu_gen]}" "${R[${key}_cpu_others]}" "${R[${key}_cpu_total]}" \
			"$(awk -v c="$(nproc)" -v a="${R[${key}_cpu_app]}" -v p="${R[${key}_cpu_pg]}" -v g="${R[${key}_cpu_gen]}" \
				'BEGIN { printf "%.0f", c * 1000 / (a + p + g) }')"
	done
	echo "  * $(nproc) CPUs divided by (app + PostgreSQL + load generator) CPU per order: the rate with the machine to"
	echo "    ourselves if CPU were the only limit (an estimate that ignores others' load; not a measurement)"
	echo
}

# order_targets: the MET/MISSED lines of the order targets, and the warning
# when others' work loaded the runs unequally.
order_targets() {
	local ref=${R[ref_tps]} x
	x=$(ratio "${R[one_tps]}" "$ref")
	target "order placement, one process / order reference >= 0.5" "$x ($(printf '%.0f / %.0f' "${R[one_tps]}" "$ref") tps)" "$(ge "$x" 0.5)"
	x=$(ratio "${R[three_tps]}" "$ref")
	target "order placement, three processes / order reference >= 0.35" "$x ($(printf '%.0f / %.0f' "${R[three_tps]}" "$ref") tps)" "$(ge "$x" 0.35)"
}

# order_warning: the order ratios divide runs made one after the other:
# when others' work took CPU from one more than from another, they compare
# unequal machines.
order_warning() {
	local others="reference ${R[ref_cpu_others]} and ${R[ref2_cpu_others]}, one process ${R[one_cpu_others]}, three ${R[three_cpu_others]}"
	if [[ $(awk -v a="${R[ref_cpu_others]}" -v b="${R[one_cpu_others]}" -v c="${R[three_cpu_others]}" -v d="${R[ref2_cpu_others]}" \
		'BEGIN { print (a > 1 || b > 1 || c > 1 || d > 1) ? 1 : 0 }') == 1 ]]; then
		echo "  WARNING: others' work took more than 1 ms of CPU per order during the order runs ($others ms):"
		echo "  the order ratios compare unequally loaded runs; rerun on a quiet machine before reading them"
	fi
}

# order_checks: every response 2xx, every order confirmed, no failed
# pgbench transaction.
order_checks() {
	check "every response 2xx (wrk)" \
		"one process ${R[one_non2xx]} + ${R[one_socket_errors]} socket, three ${R[three_non2xx]} + ${R[three_socket_errors]}" \
		"$(((R[one_non2xx] + R[one_socket_errors] + R[three_non2xx] + R[three_socket_errors]) == 0))"
	check "every order confirmed once its saga is done" \
		"not confirmed: reference ${R[ref_unconfirmed]} and ${R[ref2_unconfirmed]}, one ${R[one_unconfirmed]}, three ${R[three_unconfirmed]}" \
		"$(((R[ref_unconfirmed] + R[ref2_unconfirmed] + R[one_unconfirmed] + R[three_unconfirmed]) == 0))"
	check "no failed pgbench transaction" "reference ${R[ref_failed]} and ${R[ref2_failed]}, replay ${R[sql_failed]}" \
		"$(((R[ref_failed] + R[ref2_failed] + R[sql_failed]) == 0))"
}

# order_summary: what BENCH_ONLY=orders prints.
order_summary() {
	order_table
	echo "Targets (durable cluster, fsync on, $CLIENTS clients, $(nproc) CPUs)"
	order_targets
	order_warning
	echo
	echo "Checks"
	order_checks
	echo
	echo "Measured on a shared machine while others ran tests (see the load notes per run): indicative, not definitive."
}

summary() {
	order_table
	event_table
	echo "users.Service.Get, median of $COUNT runs, and the hop reference"
	printf '  %-22s %10s %10s %9s %12s %12s\n' call ns/op allocs/op "x direct" p50 p99
	local kind way ways n a d r p50 p99
	for kind in dispatch db; do
		d=${R[go_Get/${kind}/direct_ns/op]}
		# The forwarder (a wrapper that only passes the call on, the floor
		# of any in-process stub) is measured on dispatch only.
		ways="direct inprocess strict http"
		if [[ $kind == dispatch ]]; then ways="direct forwarder inprocess strict http"; fi
		for way in $ways; do
			n=${R[go_Get/${kind}/${way}_ns/op]}
			a=${R[go_Get/${kind}/${way}_allocs/op]}
			r=$(ratio "$n" "$d")
			R[go_${kind}_${way}_ratio]=$r
			p50=${R[go_Get/${kind}/${way}_p50-ns]:-} p99=${R[go_Get/${kind}/${way}_p99-ns]:-}
			printf '  %-22s %10s %10s %8sx %12s %12s\n' "$kind/$way" "$n" "$a" "$r" \
				"$([[ -n $p50 ]] && us "$p50" || echo -)" "$([[ -n $p99 ]] && us "$p99" || echo -)"
		done
	done
	printf '  %-22s %10s %10s %9s %12s %12s\n' "hop reference" "${R[go_HopReference_ns/op]}" "${R[go_HopReference_allocs/op]}" "" \
		"$(us "${R[go_HopReference_p50-ns]}")" "$(us "${R[go_HopReference_p99-ns]}")"
	echo
	echo "app serve, one process, on a migrated database: start to /health/ready 200 and RSS after ${IDLE}s idle, median of $STARTS"
	local i starts="" rss
	for i in $(seq "$STARTS"); do starts+=" ${R[start_${i}_ms]}"; done
	rss=$(awk -v k="${R[start_rss_kb]}" 'BEGIN { printf "%.1f", k / 1024 }')
	echo "  start to ready ${R[start_ms]} ms (each:$starts ms); idle RSS $rss MB"
	echo

	echo "app advise: POST /api/v1/orders with payments alone in a process (e2e, one process and the split side by side)"
	echo "  predicted p50 added ${R[adv_predicted_us]:-?} us; measured over ${R[adv_orders]:-?} orders each: paid per order by the split ${R[adv_measured_us]:-?} us (error ${R[adv_error_pct]:-?}%), end to end against the one process ${R[adv_e2e_us]:-?} us (error ${R[adv_e2e_error_pct]:-?}%)"
	echo

	echo "Targets (durable cluster, fsync on, $CLIENTS clients, $(nproc) CPUs)"
	local x
	order_targets
	event_targets
	x=$(ratio "${R[go_Get/dispatch/http_p50-ns]}" "${R[go_HopReference_p50-ns]}")
	target "HTTP contract call p50 / hop reference <= 1.5x (dispatch/http)" \
		"${x}x ($(us "${R[go_Get/dispatch/http_p50-ns]}") / $(us "${R[go_HopReference_p50-ns]}"))" "$(le "$x" 1.5)"
	target "HTTP contract call allocations <= 134 (half of 268)" \
		"${R[go_Get/dispatch/http_allocs/op]} (hop reference ${R[go_HopReference_allocs/op]})" "$(le "${R[go_Get/dispatch/http_allocs/op]}" 134)"
	target "in-process call / direct call <= 1.5x (dispatch)" \
		"${R[go_dispatch_inprocess_ratio]}x (any stub's floor: ${R[go_dispatch_forwarder_ratio]}x)" "$(le "${R[go_dispatch_inprocess_ratio]}" 1.5)"
	local ad=${R[go_Get/dispatch/direct_allocs/op]} ai=${R[go_Get/dispatch/inprocess_allocs/op]}
	local bd=${R[go_Get/db/direct_allocs/op]} bi=${R[go_Get/db/inprocess_allocs/op]}
	target "in-process call allocates nothing of its own (= direct)" "dispatch $ai vs $ad, db $bi vs $bd" \
		"$([[ $ai == "$ad" && $bi == "$bd" ]] && echo 1 || echo 0)"
	target "idle RSS <= 40 MB" "$rss MB" "$(le "$rss" 40)"
	target "app advise: predicted p50 added latency within 30% of the measured, paid per order and end to end (payments alone)" \
		"${R[adv_predicted_us]:-?} / ${R[adv_measured_us]:-?} us (${R[adv_error_pct]:-?}%), end to end ${R[adv_e2e_us]:-?} us (${R[adv_e2e_error_pct]:-?}%)" "$((${R[adv_ok]:-0} == 1))"
	target "start to ready <= 0.5 s" "${R[start_ms]} ms" "$(le "${R[start_ms]}" 500)"
	order_warning
	echo
	echo "Checks"
	order_checks
	echo "  (every event had its effect once: bench/events stops the run otherwise)"
	echo
	echo "Measured on a shared machine while others ran tests (see the load notes per run): indicative, not definitive."
}
