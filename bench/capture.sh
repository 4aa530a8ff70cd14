# bench/capture.sh, sourced by bench/run.sh: the diagnostic replay's
# statement capture. After each load run it captures one placement from the
# app (every statement PostgreSQL runs for it, idle polls left out), counts
# it, and stops the run if bench/place_order.sql no longer replays it. Uses
# run.sh's helpers (psql_db, api, note, die, relays_idle) and its R, WORK,
# ROOT and PGDATA_DIR.

# Statement streams, as count_statements reads them: one "KIND|PID|SQL" per
# line (the SQL on one line), KIND being request (the HTTP request's own
# statements), event (the asynchronous work one event costs: the relays'
# per-event writes and the subscriber's inbox transaction) or poll (the
# relays' per-poll statements around them: BEGIN, fan-out lock, outbox read,
# claim query, COMMIT; shared by a whole batch under load), and PARSE lines
# (KIND|PID|PARSE) for statements prepared first.
#
# count_statements prints one line per kind: KIND statements commits parses.
# A durable commit is a COMMIT of a transaction that wrote (a WITH query
# writes when one of its parts inserts, updates or deletes; FOR UPDATE is a
# read), or a write outside a transaction (a read-only transaction's COMMIT
# flushes no WAL),
# and counts for the kind of its COMMIT line.
count_statements() {
	awk '
		{ k = $0; sub(/\|.*/, "", k); r = substr($0, length(k) + 2); pid = r; sub(/\|.*/, "", pid)
		  s = substr(r, length(pid) + 2); kinds[k] = 1 }
		s == "PARSE" { parses[k]++; next }
		{ n[k]++; u = toupper(s); sub(/^[ \t]+/, "", u)
		  if (u ~ /^BEGIN/) { tx[pid] = 1; w[pid] = 0 }
		  else if (u ~ /^(COMMIT|ROLLBACK)/) { if (w[pid] && u ~ /^COMMIT/) commits[k]++; tx[pid] = 0 }
		  else if (u ~ /^(INSERT|UPDATE|DELETE)/ || (u ~ /^WITH/ && u ~ /(INSERT INTO|DELETE FROM|UPDATE[ \t]+[^ \t]+([ \t]+AS[ \t]+[^ \t]+)?[ \t]+SET)/)) { if (tx[pid]) w[pid] = 1; else commits[k]++ } }
		END { for (k in kinds) print k, n[k] + 0, commits[k] + 0, parses[k] + 0 }'
}

# capture_lines: the capture of one placement (capture_statements), idle
# polls and the relays' statements again in further batches left out, as
# count_statements reads it.
capture_lines() {
	awk -F'|' '$1 == "idle" || $1 == "rebatch" { next } $4 == "parse" { print $1 "|" $3 "|PARSE"; next }
		{ s = $0; sub(/^[^|]*\|[^|]*\|[^|]*\|[^|]*\|/, "", s); print $1 "|" $3 "|" s }' "$WORK/capture.txt"
}

# capture_statements DB URL TOKEN: logs every statement PostgreSQL runs for
# one placement, the request's and the asynchronous work it causes, and
# prints them by kind (see count_statements) into R[cap_<kind>_*].
#
# The relays (every EVENTS_POLL_INTERVAL, per module: a fan-out and a claim
# transaction) and the saga worker (every SAGA_RECOVERY_INTERVAL: a claim)
# poll whether there is work or not, so a time window also catches their
# idle polls. The capture therefore waits until the earlier work is all done
# (relays_idle), places one order, waits until the relays have fanned out
# and delivered everything it caused, and then drops what polled in vain:
# relay transactions that wrote nothing, the worker's claim, the tail of a
# transaction begun before the window and one still open at its end, and
# users' periodic reload of its signing keys. What remains is this
# placement's.
capture_statements() {
	local db=$1 url=$2 token=$3 log=$PGDATA_DIR/../postgres.log offset end
	for _ in $(seq 100); do relays_idle "$db" && break; sleep 0.1; done
	relays_idle "$db" || die "the load run's events and sagas were not all done 10 s after it"
	psql_db "$db" -c "ALTER SYSTEM SET log_min_duration_statement = 0" \
		-c "ALTER SYSTEM SET log_line_prefix = '%a|%p|%x|'" -c "SELECT pg_reload_conf()" >/dev/null
	sleep 0.5
	offset=$(stat -c %s "$log")
	api POST "$url/api/v1/orders" "$token" "$ORDER_BODY" >/dev/null
	sleep 0.1
	for _ in $(seq 100); do relays_idle "$db" && break; sleep 0.1; done
	relays_idle "$db" || die "the relays did not deliver the placement's events within 10 s"
	sleep 0.5 # the last relay transaction's COMMIT line
	end=$(stat -c %s "$log")
	psql_db "$db" -c "ALTER SYSTEM RESET log_min_duration_statement" \
		-c "ALTER SYSTEM RESET log_line_prefix" -c "SELECT pg_reload_conf()" >/dev/null
	# One line per log entry (a statement's continuation lines joined, runs of
	# white space made one), then module|pid|xid|step|sql for the app's
	# connections, without the pools' liveness pings. The xid (%x) is the
	# transaction's id, 0 until it first writes a row (or locks one): it
	# tells a relay poll that changed nothing from one that did, whatever
	# its statements look like.
	head -c "$end" "$log" | tail -c +$((offset + 1)) |
		awk '/^[^|]*\|[0-9]+\|[0-9]+\|[A-Z]+:  / { if (l != "") print l; l = $0; next }
			{ l = l " " $0 } END { if (l != "") print l }' |
		sed -E 's/[[:space:]]+/ /g' | grep -v -- '-- ping' |
		sed -nE 's/^mitosis-([a-z]+)\|([0-9]+)\|([0-9]+)\|LOG: duration: [0-9.]+ ms (statement|parse|bind|execute)[^:]*: (.*)/\1|\2|\3|\4|\5/p' \
			>"$WORK/capture-raw.txt"
	# Per backend, each transaction is buffered and classified when it ends:
	# a relay transaction (fan-out lock or claim query) whose xid stayed 0
	# changed nothing and is an idle poll, dropped ("idle"); one that wrote
	# splits into its per-poll statements ("poll": BEGIN, its settings in
	# set_config, the fan-out lock, COMMIT) and the statements that read and
	# write the batch's event rows ("event": the outbox marked, delivery rows
	# inserted, deliveries claimed, marked delivered). The relays send those
	# once per batch, however many events it holds, and how one placement's
	# events fall into batches is timing (order.placed fanned out alone, or
	# with order.confirmed): a relay's batches are therefore merged into one,
	# each statement kept as many times as the largest batch sent it, the
	# statements again in other batches "rebatch" (left out of the counts).
	# What a placement costs the relays is then what one batch holding all of
	# its events sends, as under load, where a batch serves tens of orders.
	# The subscriber's inbox transaction is "event"; the rest is "request".
	# Also "idle": users' key ring reloading signing_keys (when verifying a
	# token, at most every 30 s per process: amortised to nothing), orders
	# reading its copy of the catalog (at most once a second per process),
	# the readiness check reading schema_migrations (a monitor's probe of a
	# process) and a transaction still open when the window closes (a poll
	# that began after the placement's work was all done).
	# Out: kind|module|pid|step|sql.
	awk -v OFS='|' '
		function field(l, n,   i) { for (i = 1; i < n; i++) sub(/^[^|]*\|/, "", l); sub(/\|.*/, "", l); return l }
		function sqlof(l) { sub(/^[^|]*\|[^|]*\|[^|]*\|[^|]*\|/, "", l); return l }
		function out(l) { return field(l, 1) "|" field(l, 2) "|" field(l, 4) "|" sqlof(l) }
		function periodic(s) { return s ~ /FROM "signing_keys"|FROM "products"|FROM schema_migrations/ }
		function pollish(s) { return s ~ /pg_try_advisory_xact_lock\(hashtext\(.mitosis\.events\.fanout|FROM event_outbox WHERE fanned_out_at IS NULL|^SELECT d\.event_seq AS seq|^WITH claimed AS \( SELECT d\.event_seq/ }
		function per_poll(s) { return toupper(s) ~ /^(BEGIN|COMMIT|ROLLBACK|SET LOCAL|SELECT SET_CONFIG\(|SELECT PG_TRY_ADVISORY_XACT_LOCK\()/ }
		# shape: as statement_shapes has it (first word, table), the key
		# under which a relay batch statement is merged.
		function shape(s,   w, t) {
			w = toupper(s); sub(/[ (;].*/, "", w); t = ""
			if (match(s, /(INTO|FROM|UPDATE) +"?[a-z_]+"?(\."?[a-z_]+"?)?/)) {
				t = substr(s, RSTART, RLENGTH); sub(/^(INTO|FROM|UPDATE) +/, "", t); gsub(/"/, "", t); sub(/^[a-z_]+\./, "", t)
			} else if (match(s, /[a-z_]+\(/)) t = substr(s, RSTART, RLENGTH - 1)
			return w (t == "" ? "" : " " t) }
		# merge(pid): a relay transaction that wrote, into its relay loop
		# batch (module and fan-out or claim): per shape, the statements of
		# the largest batch are kept, the others are "rebatch".
		function merge(pid,   i, key, s, sh, l, n, seen) {
			key = field(buf[pid, 1], 1) "|" (fanout[pid] ? "fanout" : "claim")
			if (!(key in keypid)) { keypid[key] = pid; keys[++nkeys] = key }
			for (i = 1; i <= nb[pid]; i++) { sh = shape(sqlof(buf[pid, i])); if (!((key, sh) in best)) { best[key, sh] = 0; shapes[key, ++nsh[key]] = sh }; cnt[sh]++ }
			for (i = 1; i <= nb[pid]; i++) {
				l = buf[pid, i]; sh = shape(sqlof(l))
				if (!(sh in seen) && cnt[sh] > best[key, sh]) {
					for (n = 1; n <= best[key, sh]; n++) print "rebatch", out(kept[key, sh, n])
					best[key, sh] = cnt[sh]; seen[sh] = 0
				}
				if (sh in seen) kept[key, sh, ++seen[sh]] = l
				else print "rebatch", out(l)
			}
			delete cnt
		}
		function flush(pid,   i, kind) {
			kind = relay[pid] ? (wrote[pid] ? "relay" : "idle") : inbox[pid] ? "event" : "request"
			if (kind == "relay") merge(pid)
			else for (i = 1; i <= nb[pid]; i++) print kind, out(buf[pid, i])
			nb[pid] = 0; intx[pid] = 0; relay[pid] = 0; wrote[pid] = 0; inbox[pid] = 0; fanout[pid] = 0
		}
		# emit(key, pid, sh): a merged batch statement, as from one backend.
		function emit(key, pid, sh,   n, l) {
			for (n = 1; n <= best[key, sh]; n++) {
				l = kept[key, sh, n]; sub(/^[^|]*\|[^|]*\|/, field(l, 1) "|" pid "|", l)
				print (per_poll(sqlof(l)) ? "poll" : "event"), out(l)
			}
		}
		{ pid = field($0, 2); s = sqlof($0); u = toupper(s); st = field($0, 4)
		  if (st == "bind") next
		  if (!intx[pid] && st != "parse" && u !~ /^BEGIN/) {
			# the saga worker polling for due sagas, or the tail of a
			# relay transaction begun before the window: idle polls
			if (s ~ /^WITH claimed AS \( UPDATE sagas .* LIMIT [0-9]+ FOR UPDATE SKIP LOCKED/ || u ~ /^(COMMIT|ROLLBACK)/ || pollish(s) || periodic(s)) print "idle", out($0)
			else { for (i = 1; i <= nb[pid]; i++) print "request", out(buf[pid, i]); nb[pid] = 0; print "request", out($0) }
			next
		  }
		  if (u ~ /^BEGIN/) intx[pid] = 1
		  buf[pid, ++nb[pid]] = $0
		  if (st == "parse") next
		  if (pollish(s)) relay[pid] = 1
		  if (s ~ /pg_try_advisory_xact_lock\(hashtext\(.mitosis\.events\.fanout/) fanout[pid] = 1
		  if (s ~ /INSERT INTO event_inbox/) inbox[pid] = 1
		  if (field($0, 3) != "0" || (!relay[pid] && u ~ /^(INSERT|UPDATE|DELETE)/)) wrote[pid] = 1
		  if (u ~ /^(COMMIT|ROLLBACK)/) flush(pid) }
		END {
			for (k = 1; k <= nkeys; k++) {
				key = keys[k]
				for (i = 1; i <= nsh[key]; i++) if (shapes[key, i] !~ /^(COMMIT|ROLLBACK)/) emit(key, keypid[key], shapes[key, i])
				for (i = 1; i <= nsh[key]; i++) if (shapes[key, i] ~ /^(COMMIT|ROLLBACK)/) emit(key, keypid[key], shapes[key, i])
			}
			for (pid in nb) for (i = 1; i <= nb[pid]; i++) print "idle", out(buf[pid, i]) }' "$WORK/capture-raw.txt" >"$WORK/capture.txt"
	[[ -n ${BENCH_CAPTURE:-} ]] && cp "$WORK/capture.txt" "$BENCH_CAPTURE"
	local kind st cm pa
	for kind in request event poll; do R[cap_${kind}_statements]=0 R[cap_${kind}_commits]=0 R[cap_${kind}_parses]=0; done
	while read -r kind st cm pa; do
		R[cap_${kind}_statements]=$st R[cap_${kind}_commits]=$cm R[cap_${kind}_parses]=$pa
	done < <(capture_lines | count_statements)
	R[cap_idle_statements]=$(awk -F'|' '$1 == "idle" && $4 != "parse"' "$WORK/capture.txt" | wc -l)
	R[cap_rebatch_statements]=$(awk -F'|' '$1 == "rebatch" && $4 != "parse"' "$WORK/capture.txt" | wc -l)
	note "one placement as PostgreSQL saw it, after the run (kind, module, protocol, statement cut at 100 characters):"
	awk -F'|' '$1 == "idle" || $1 == "rebatch" { next } $4 == "parse" { p[$3] = 1; next }
		{ s = $0; sub(/^[^|]*\|[^|]*\|[^|]*\|[^|]*\|/, "", s)
		  how = $4 == "statement" ? "simple query" : p[$3] ? "parse+execute" : "execute cached"
		  printf "  | %-7s %-8s %-14s %s\n", $1, $2, how, substr(s, 1, 100); p[$3] = 0 }' "$WORK/capture.txt"
	note "request path: ${R[cap_request_statements]} statements, ${R[cap_request_commits]} durable commits;" \
		"asynchronous, per event: ${R[cap_event_statements]} statements, ${R[cap_event_commits]} durable commits;" \
		"the relays' per-poll share: ${R[cap_poll_statements]} statements, ${R[cap_poll_commits]} commits;" \
		"$((R[cap_request_parses] + R[cap_event_parses] + R[cap_poll_parses])) prepared first;" \
		"${R[cap_idle_statements]} statements of idle polls and periodic reloads in the window left out," \
		"and ${R[cap_rebatch_statements]} of the relays' statements sent again because the placement's events came in more than one batch"
}

# script_statements: bench/place_order.sql as count_statements reads it.
# Before the "-- Asynchronous" comment it is the request path; after it,
# the transactions that turn synchronous_commit off (as the relays' do, in
# set_config) stand in for the relays' batches: their BEGIN, settings,
# advisory lock and COMMIT are "poll", the rest of the part is "event".
script_statements() {
	grep -vE '^(\\|$)' "$ROOT/bench/place_order.sql" | awk '
		/^-- Asynchronous/ { async = 1 }
		/^--/ { next }
		!async { print "request|0|" $0; next }
		toupper($0) ~ /^BEGIN/ { nb = 0 }
		{ buf[++nb] = $0; if ($0 ~ /^(SET LOCAL synchronous_commit = off|SELECT set_config\(.synchronous_commit., .off., true\))/) lazy = 1 }
		toupper($0) ~ /^COMMIT/ {
			for (i = 1; i <= nb; i++) {
				u = toupper(buf[i])
				print ((lazy && u ~ /^(BEGIN|COMMIT|SET LOCAL|SELECT SET_CONFIG\(|SELECT PG_TRY_ADVISORY_XACT_LOCK\()/) ? "poll" : "event") "|0|" buf[i]
			}
			nb = 0; lazy = 0 }' | sed 's/ \\gset [a-z_]*$//'
}

# statement_shapes KIND: reads count_statements' input and prints, for the
# statements of KIND, one shape a line: the first word and the table it
# names (after INTO, FROM or UPDATE, schema and quotes dropped), or the
# function a SELECT without a table calls: "INSERT sagas", "SELECT
# pg_advisory_xact_lock", "BEGIN". Literals, timestamps and schema
# qualification differ between the app and the script; shapes do not.
statement_shapes() {
	awk -v kind="$1" '
		{ k = $0; sub(/\|.*/, "", k); s = $0; sub(/^[^|]*\|[^|]*\|/, "", s) }
		k != kind || s == "PARSE" { next }
		{ w = toupper(s); sub(/[ (;].*/, "", w); t = ""
		  if (match(s, /(INTO|FROM|UPDATE) +"?[a-z_]+"?(\."?[a-z_]+"?)?/)) {
			t = substr(s, RSTART, RLENGTH); sub(/^(INTO|FROM|UPDATE) +/, "", t); gsub(/"/, "", t); sub(/^[a-z_]+\./, "", t)
		  } else if (match(s, /[a-z_]+\(/)) t = substr(s, RSTART, RLENGTH - 1)
		  print w (t == "" ? "" : " " t) }'
}

# compare_with_script: counts bench/place_order.sql as the capture was
# counted and fails if the request path or the per-event work differ.
compare_with_script() {
	local kind st cm pa bad=""
	for kind in request event poll; do R[scr_${kind}_statements]=0 R[scr_${kind}_commits]=0; done
	while read -r kind st cm pa; do
		R[scr_${kind}_statements]=$st R[scr_${kind}_commits]=$cm
	done < <(script_statements | count_statements)
	note "bench/place_order.sql: request path ${R[scr_request_statements]} statements, ${R[scr_request_commits]} durable commits;" \
		"per event ${R[scr_event_statements]} statements, ${R[scr_event_commits]} durable commits;" \
		"relay shares ${R[scr_poll_statements]} statements, ${R[scr_poll_commits]} commits with synchronous_commit off"
	for kind in request event; do
		if [[ ${R[scr_${kind}_statements]} != "${R[cap_${kind}_statements]}" || ${R[scr_${kind}_commits]} != "${R[cap_${kind}_commits]}" ]]; then
			bad+=" $kind: the app ${R[cap_${kind}_statements]} statements/${R[cap_${kind}_commits]} commits, the script ${R[scr_${kind}_statements]}/${R[scr_${kind}_commits]};"
		fi
	done
	# The same statements, not only as many: the request path in the app's
	# order, the per-event work in any order (the relays run concurrently).
	local app_req scr_req app_ev scr_ev
	app_req=$(capture_lines | statement_shapes request)
	scr_req=$(script_statements | statement_shapes request)
	app_ev=$(capture_lines | statement_shapes event | sort)
	scr_ev=$(script_statements | statement_shapes event | sort)
	if [[ $app_req != "$scr_req" ]]; then
		bad+=" request path statements differ (< app, > script):$(diff <(echo "$app_req") <(echo "$scr_req") | grep '^[<>]' | tr '\n' ';' || true)"
	fi
	if [[ $app_ev != "$scr_ev" ]]; then
		bad+=" per-event statements differ (< app, > script):$(diff <(echo "$app_ev") <(echo "$scr_ev") | grep '^[<>]' | tr '\n' ';' || true)"
	fi
	[[ -z $bad ]] || die "bench/place_order.sql no longer replays what the app sends:$bad regenerate it from the capture above (BENCH_CAPTURE=file keeps it)"
	note "the script matches the capture: the same counts, and the same statements (by shape: first word and table) in the request's order"
}
