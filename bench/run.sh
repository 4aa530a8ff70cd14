#!/usr/bin/env bash
# bench/run.sh: what `make bench` runs. In one go it measures
#   1. users.Service.Get called directly, in-process and over HTTP (go test -bench);
#   2. order placement under wrk, every module in one process and then as
#      three processes, against a throwaway PostgreSQL cluster (fsync on);
#   3. the same placement replayed as plain SQL by pgbench: the database's bound
#      (bench/place_order.sql: the request's saga transactions and the relay
#      and inbox work it causes; after each load run the script captures
#      one placement's statements from the app, idle polls left out, and
#      stops if bench/place_order.sql no longer matches them);
# and prints a summary table. See BENCHMARKS.md for how to read it.
#
# Knobs (environment): BENCH_CLIENTS (8), BENCH_DURATION seconds (15),
# BENCH_WARMUP seconds (3), BENCH_COUNT go-bench repetitions (5),
# BENCH_REPORT (a file to copy the summary to), BENCH_CAPTURE (a file to
# copy the classified capture to), APP (bin/app), PGBIN, and
# BENCH_DB_PARAMS: extra query parameters for the app's DATABASE_URL, for
# what-if runs only (e.g. default_query_exec_mode=simple_protocol).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
APP=${APP:-$ROOT/bin/app}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
CLIENTS=${BENCH_CLIENTS:-8}
DURATION=${BENCH_DURATION:-15}
WARMUP=${BENCH_WARMUP:-3}
COUNT=${BENCH_COUNT:-5}
SECRET=bench-secret-bench-secret-bench-secret-0123456789
ORDER_BODY='{"items":[{"sku":"COFFEE-1KG","quantity":1},{"sku":"FILTER-100","quantity":2}]}'

WORK=""
PGDATA_DIR=""
PIDS=()
declare -A R=() # results, by name

section() { printf '\n==== %s ====\n' "$*"; }
note() { printf '  %s\n' "$*"; }
die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

# --- cleanup: every process we started, the cluster, the temp dir ----------

stop_apps() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	PIDS=()
}

cleanup() {
	local code=$?
	trap - EXIT INT TERM
	stop_apps
	if [[ -n $PGDATA_DIR && -f $PGDATA_DIR/postmaster.pid ]]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 30 stop >/dev/null 2>&1 ||
			runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
	fi
	if [[ -n $WORK && -d $WORK ]]; then
		rm -rf "$WORK"
	fi
	exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- helpers ----------------------------------------------------------------

# free_port prints a TCP port nobody listens on, below the ephemeral range.
free_port() {
	local p
	for _ in $(seq 200); do
		p=$((15000 + RANDOM % 15000))
		if [[ -z $(ss -Htln "( sport = :$p )") ]]; then
			echo "$p"
			return 0
		fi
	done
	die "no free port found"
}

# cpu_busy prints the whole machine's CPU busy percentage over one second:
# before a run it shows how much the other engineers' work is using.
cpu_busy() {
	local a b
	read -r -a a < <(head -1 /proc/stat)
	sleep 1
	read -r -a b < <(head -1 /proc/stat)
	awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN {
		n = split(a, x, " "); split(b, y, " "); tot = 0
		for (i = 2; i <= n; i++) tot += y[i] - x[i]
		idle = (y[5] - x[5]) + (y[6] - x[6])
		printf "%.0f%%", (tot > 0) ? 100 * (tot - idle) / tot : 0 }'
}

# CPU accounting, in clock ticks: the whole machine (busy, total), our app
# processes, the PostgreSQL cluster (postmaster, its live children, and the
# children it reaped), and this script's reaped children: the load
# generator, which runs in the foreground between two marks.
proc_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
reaped_ticks() { awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$$/stat"; }
cpu_mark() {
	local app=0 pg=0 pid pm
	for pid in "${PIDS[@]}"; do app=$((app + $(proc_ticks "$pid"))); done
	pm=$(head -1 "$PGDATA_DIR/postmaster.pid")
	for pid in "$pm" $(pgrep -P "$pm" || true); do pg=$((pg + $(proc_ticks "$pid"))); done
	awk -v app="$app" -v pg="$pg" -v gen="$(reaped_ticks)" \
		'/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t, app, pg, gen }' /proc/stat
}
# cpu_report KEY "MARK BEFORE" "MARK AFTER" ORDERS: CPU per order, into R.
cpu_report() {
	local key=$1 out
	out=$(awk -v b="$2" -v a="$3" -v n="$4" -v cpus="$(nproc)" -v hz="$(getconf CLK_TCK)" 'BEGIN {
		split(b, x, " "); split(a, y, " ")
		busy = y[1] - x[1]; tot = y[2] - x[2]; app = y[3] - x[3]; pg = y[4] - x[4]; gen = y[5] - x[5]
		sec = tot / cpus / hz; ms = 1000 / hz
		printf "%.2f %.2f %.2f %.2f %.2f %.2f\n", busy / hz / sec, app * ms / n, pg * ms / n, gen * ms / n,
			(busy - app - pg - gen) * ms / n, busy * ms / n }')
	read -r R[${key}_cpus_busy] R[${key}_cpu_app] R[${key}_cpu_pg] R[${key}_cpu_gen] R[${key}_cpu_others] R[${key}_cpu_total] <<<"$out"
	note "CPU: ${R[${key}_cpus_busy]} of $(nproc) CPUs busy on average; per order ${R[${key}_cpu_app]} ms app, ${R[${key}_cpu_pg]} ms PostgreSQL, ${R[${key}_cpu_gen]} ms load generator, ${R[${key}_cpu_others]} ms everyone else"
}

load_note() { note "machine before this run: load average $(cut -d' ' -f1-3 /proc/loadavg), CPU busy $(cpu_busy) (others' work included)"; }

psql_db() { # psql_db DB args...
	local db=$1
	shift
	psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres -d "$db" "$@"
}

db_url() { echo "postgres://postgres@127.0.0.1:$PGPORT/$1?sslmode=disable${BENCH_DB_PARAMS:+&$BENCH_DB_PARAMS}"; }

# start_app NAME VAR=VALUE...: starts `app serve` with the environment given,
# waits until it is ready and sets APP_URL. Gateway rate limits are off: one
# load generator on one IP is not what they are for. Several run at once:
# their admin listeners (not measured here) are off, so none takes :9090.
start_app() {
	local name=$1 log=$WORK/$1.log
	shift
	env HTTP_ADDR=127.0.0.1:0 SERVICE_SECRET="$SECRET" SIGNING_KEY_SECRET="$SECRET" TOKEN_TTL=1h DATA_DIR="$WORK/data-$name" \
		RATE_LIMIT_DEFAULT=off RATE_LIMIT_AUTH=off ADMIN_ADDR=off "$@" \
		"$APP" serve >"$log" 2>&1 &
	PIDS+=($!)
	local pid=$! addr=""
	for _ in $(seq 600); do
		kill -0 "$pid" 2>/dev/null || {
			cat "$log" >&2
			die "$name exited during start"
		}
		addr=$(sed -n 's/.*msg="http server listening" addr=\([0-9.:]*\).*/\1/p' "$log" | head -1)
		if [[ -n $addr ]] && curl -fs --max-time 2 -o /dev/null "http://$addr/health/ready"; then
			APP_URL=http://$addr
			note "$name ready at $APP_URL (pid $pid)"
			return 0
		fi
		sleep 0.1
	done
	cat "$log" >&2
	die "$name not ready after 60 s"
}

api() { # api METHOD URL [TOKEN] [BODY]
	local args=(-fsS --max-time 30 -X "$1" "$2" -H 'Content-Type: application/json')
	[[ -n ${3:-} ]] && args+=(-H "Authorization: Bearer $3")
	[[ -n ${4:-} ]] && args+=(-d "$4")
	curl "${args[@]}"
}

# make_users USERS_URL PAYMENTS_URL FILE: registers CLIENTS users, gives each
# a large balance, and writes one bearer token per line to FILE.
make_users() {
	local users=$1 payments=$2 file=$3 i email token run
	run=$(date +%s%N)
	: >"$file"
	for i in $(seq "$CLIENTS"); do
		email="bench-$run-$i@example.com"
		api POST "$users/api/v1/users" "" "{\"email\":\"$email\",\"name\":\"Bench $i\",\"password\":\"bench password $i\"}" >/dev/null
		token=$(api POST "$users/api/v1/auth/token" "" "{\"email\":\"$email\",\"password\":\"bench password $i\"}" | jq -er .access_token)
		# 1,000,000.00 each: enough for ~27k orders of 36.70.
		api POST "$payments/api/v1/wallet/deposits" "$token" '{"amount_cents":100000000}' >/dev/null
		echo "$token" >>"$file"
	done
	note "registered $CLIENTS users with 1,000,000.00 each (one per wrk connection)"
}

orders_confirmed() { psql_db "$1" -Atc "SELECT count(*) FROM orders.orders WHERE status = 'confirmed'"; }

# run_wrk KEY URL TOKENS DB: a warm-up, then the measured run; results in R.
run_wrk() {
	local key=$1 url=$2 tokens=$3 db=$4 out=$WORK/wrk-$1.txt before after line
	note "warm-up: ${WARMUP}s"
	BENCH_TOKENS_FILE=$tokens timeout $((WARMUP + 30)) wrk -t "$CLIENTS" -c "$CLIENTS" -d "${WARMUP}s" \
		--timeout 10s -s "$ROOT/bench/order.lua" "$url" >/dev/null
	before=$(orders_confirmed "$db")
	load_note
	note "measuring: wrk -t $CLIENTS -c $CLIENTS -d ${DURATION}s POST $url/api/v1/orders"
	local m0 m1
	m0=$(cpu_mark)
	BENCH_TOKENS_FILE=$tokens timeout $((DURATION + 60)) wrk -t "$CLIENTS" -c "$CLIENTS" -d "${DURATION}s" \
		--timeout 10s --latency -s "$ROOT/bench/order.lua" "$url" | tee "$out" | sed 's/^/  | /'
	m1=$(cpu_mark)
	after=$(orders_confirmed "$db")
	line=$(grep '^WRK_RESULT' "$out") || die "wrk printed no result"
	for kv in ${line#WRK_RESULT }; do
		R[${key}_${kv%%=*}]=${kv#*=}
	done
	R[${key}_confirmed]=$((after - before))
	note "orders confirmed in the database during the run: ${R[${key}_confirmed]} (wrk counted ${R[${key}_requests]} responses, ${R[${key}_non2xx]} non-2xx; requests in flight at either edge make the two differ slightly)"
	cpu_report "$key" "$m0" "$m1" "${R[${key}_confirmed]}"
	if ((R[${key}_non2xx] > 0 || R[${key}_socket_errors] > 0)); then
		note "WARNING: errors during the run; one placement now answers:"
		api POST "$url/api/v1/orders" "$(head -1 "$tokens")" "$ORDER_BODY" 2>&1 | head -c 400 | sed 's/^/  | /' || true
		echo
	fi
}

# Statement streams, as count_statements reads them: one "KIND|PID|SQL" per
# line (the SQL on one line), KIND being request (the HTTP request's own
# statements), event (the asynchronous work one event costs: the relays'
# per-event writes and the subscriber's inbox transaction) or poll (the
# relays' per-poll statements around them: BEGIN, fan-out lock, outbox read,
# claim query, COMMIT; shared by a whole batch under load), and PARSE lines
# (KIND|PID|PARSE) for statements prepared first.
#
# count_statements prints one line per kind: KIND statements commits parses.
# A durable commit is a COMMIT of a transaction that wrote, or a write
# outside a transaction (a read-only transaction's COMMIT flushes no WAL),
# and counts for the kind of its COMMIT line.
count_statements() {
	awk '
		{ k = $0; sub(/\|.*/, "", k); r = substr($0, length(k) + 2); pid = r; sub(/\|.*/, "", pid)
		  s = substr(r, length(pid) + 2); kinds[k] = 1 }
		s == "PARSE" { parses[k]++; next }
		{ n[k]++; u = toupper(s); sub(/^[ \t]+/, "", u)
		  if (u ~ /^BEGIN/) { tx[pid] = 1; w[pid] = 0 }
		  else if (u ~ /^(COMMIT|ROLLBACK)/) { if (w[pid] && u ~ /^COMMIT/) commits[k]++; tx[pid] = 0 }
		  else if (u ~ /^(INSERT|UPDATE|DELETE)/) { if (tx[pid]) w[pid] = 1; else commits[k]++ } }
		END { for (k in kinds) print k, n[k] + 0, commits[k] + 0, parses[k] + 0 }'
}

# relays_idle DB: true when every module's outbox is fanned out, no delivery
# is pending and no saga is unfinished: the placement's work is all done.
relays_idle() {
	[[ $(psql_db "$1" -Atc "SELECT
		(SELECT count(*) FROM orders.event_outbox WHERE fanned_out_at IS NULL) +
		(SELECT count(*) FROM payments.event_outbox WHERE fanned_out_at IS NULL) +
		(SELECT count(*) FROM users.event_outbox WHERE fanned_out_at IS NULL) +
		(SELECT count(*) FROM orders.event_deliveries WHERE status = 'pending') +
		(SELECT count(*) FROM payments.event_deliveries WHERE status = 'pending') +
		(SELECT count(*) FROM users.event_deliveries WHERE status = 'pending') +
		(SELECT count(*) FROM orders.sagas WHERE step <> 'done')") == 0 ]]
}

# capture_lines: the capture of one placement (capture_statements), idle
# polls left out, as count_statements reads it.
capture_lines() {
	awk -F'|' '$1 == "idle" { next } $4 == "parse" { print $1 "|" $3 "|PARSE"; next }
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
		-c "ALTER SYSTEM SET log_line_prefix = '%a|%p|'" -c "SELECT pg_reload_conf()" >/dev/null
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
	# white space made one), then module|pid|step|sql for the app's
	# connections, without the pools' liveness pings.
	head -c "$end" "$log" | tail -c +$((offset + 1)) |
		awk '/^[^|]*\|[0-9]+\|[A-Z]+:  / { if (l != "") print l; l = $0; next }
			{ l = l " " $0 } END { if (l != "") print l }' |
		sed -E 's/[[:space:]]+/ /g' | grep -v -- '-- ping' |
		sed -nE 's/^mitosis-([a-z]+)\|([0-9]+)\|LOG: duration: [0-9.]+ ms (statement|parse|bind|execute)[^:]*: (.*)/\1|\2|\3|\4/p' \
			>"$WORK/capture-raw.txt"
	# Per backend, each transaction is buffered and classified when it ends:
	# a relay transaction (fan-out lock or claim query) that wrote nothing is
	# an idle poll, dropped ("idle"); one that wrote splits into its per-poll
	# statements ("poll") and its per-event writes ("event"); the
	# subscriber's inbox transaction is "event"; the rest is "request". Also
	# "idle": users' key ring reloading signing_keys (when verifying a token,
	# at most every 30 s per process: amortised to nothing) and a
	# transaction still open when the window closes (a poll that began
	# after the placement's work was all done).
	# Out: kind|module|pid|step|sql.
	awk -v OFS='|' '
		function sqlof(l) { sub(/^[^|]*\|[^|]*\|[^|]*\|/, "", l); return l }
		function stepof(l) { split(l, f, "|"); return f[3] }
		function periodic(s) { return s ~ /FROM "signing_keys"/ }
		function pollish(s) { return s ~ /pg_try_advisory_xact_lock\(hashtext\(.mitosis\.events\.fanout|FROM event_outbox WHERE fanned_out_at IS NULL|^SELECT d\.event_seq AS seq/ }
		function flush(pid,   i, kind, k, s) {
			kind = relay[pid] ? (wrote[pid] ? "relay" : "idle") : inbox[pid] ? "event" : "request"
			for (i = 1; i <= nb[pid]; i++) {
				s = sqlof(buf[pid, i]); k = kind
				if (kind == "relay") k = (toupper(s) ~ /^(BEGIN|COMMIT|ROLLBACK)/ || pollish(s)) ? "poll" : "event"
				print k, buf[pid, i]
			}
			nb[pid] = 0; intx[pid] = 0; relay[pid] = 0; wrote[pid] = 0; inbox[pid] = 0
		}
		{ pid = $0; sub(/^[^|]*\|/, "", pid); sub(/\|.*/, "", pid)
		  s = sqlof($0); u = toupper(s); st = stepof($0)
		  if (st == "bind") next
		  if (!intx[pid] && st != "parse" && u !~ /^BEGIN/) {
			# the saga worker polling for due sagas, or the tail of a
			# relay transaction begun before the window: idle polls
			if (s ~ /^WITH claimed AS \( UPDATE sagas .* LIMIT [0-9]+ FOR UPDATE SKIP LOCKED/ || u ~ /^(COMMIT|ROLLBACK)/ || pollish(s) || periodic(s)) print "idle", $0
			else { for (i = 1; i <= nb[pid]; i++) print "request", buf[pid, i]; nb[pid] = 0; print "request", $0 }
			next
		  }
		  if (u ~ /^BEGIN/) intx[pid] = 1
		  buf[pid, ++nb[pid]] = $0
		  if (st == "parse") next
		  if (pollish(s)) relay[pid] = 1
		  if (s ~ /INSERT INTO event_inbox/) inbox[pid] = 1
		  if (u ~ /^(INSERT|UPDATE|DELETE)/) wrote[pid] = 1
		  if (u ~ /^(COMMIT|ROLLBACK)/) flush(pid) }
		END { for (pid in nb) for (i = 1; i <= nb[pid]; i++) print "idle", buf[pid, i] }' "$WORK/capture-raw.txt" >"$WORK/capture.txt"
	[[ -n ${BENCH_CAPTURE:-} ]] && cp "$WORK/capture.txt" "$BENCH_CAPTURE"
	local kind st cm pa
	for kind in request event poll; do R[cap_${kind}_statements]=0 R[cap_${kind}_commits]=0 R[cap_${kind}_parses]=0; done
	while read -r kind st cm pa; do
		R[cap_${kind}_statements]=$st R[cap_${kind}_commits]=$cm R[cap_${kind}_parses]=$pa
	done < <(capture_lines | count_statements)
	R[cap_idle_statements]=$(awk -F'|' '$1 == "idle" && $4 != "parse"' "$WORK/capture.txt" | wc -l)
	note "one placement as PostgreSQL saw it, after the run (kind, module, protocol, statement cut at 100 characters):"
	awk -F'|' '$1 == "idle" { next } $4 == "parse" { p[$3] = 1; next }
		{ s = $0; sub(/^[^|]*\|[^|]*\|[^|]*\|[^|]*\|/, "", s)
		  how = $4 == "statement" ? "simple query" : p[$3] ? "parse+execute" : "execute cached"
		  printf "  | %-7s %-8s %-14s %s\n", $1, $2, how, substr(s, 1, 100); p[$3] = 0 }' "$WORK/capture.txt"
	note "request path: ${R[cap_request_statements]} statements, ${R[cap_request_commits]} durable commits;" \
		"asynchronous, per event: ${R[cap_event_statements]} statements, ${R[cap_event_commits]} durable commits;" \
		"the relays' per-poll share: ${R[cap_poll_statements]} statements, ${R[cap_poll_commits]} commits;" \
		"$((R[cap_request_parses] + R[cap_event_parses] + R[cap_poll_parses])) prepared first;" \
		"${R[cap_idle_statements]} statements of idle polls and periodic reloads in the window left out"
}

# script_statements: bench/place_order.sql as count_statements reads it.
# Before the "-- Asynchronous" comment it is the request path; after it,
# the transactions with SET LOCAL synchronous_commit = off stand in for the
# relays' batches: their BEGIN, SET LOCAL and COMMIT are "poll", the rest of
# the part is "event".
script_statements() {
	grep -vE '^(\\|$)' "$ROOT/bench/place_order.sql" | awk '
		/^-- Asynchronous/ { async = 1 }
		/^--/ { next }
		!async { print "request|0|" $0; next }
		toupper($0) ~ /^BEGIN/ { nb = 0 }
		{ buf[++nb] = $0; if ($0 ~ /^SET LOCAL synchronous_commit = off/) lazy = 1 }
		toupper($0) ~ /^COMMIT/ {
			for (i = 1; i <= nb; i++) {
				u = toupper(buf[i])
				print ((lazy && u ~ /^(BEGIN|COMMIT|SET LOCAL)/) ? "poll" : "event") "|0|" buf[i]
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

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- 0. the machine ---------------------------------------------------------

section "Machine"
[[ $(id -u) == 0 ]] || die "run as root: the cluster runs as the postgres user via runuser"
[[ -x $APP ]] || die "$APP missing: run \`make bench\` (it builds first)"
[[ -x $PGBIN/pg_ctl ]] || die "no PostgreSQL binaries in $PGBIN"
for tool in curl jq pgbench psql ss; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
if ! command -v wrk >/dev/null; then
	note "installing wrk"
	{ apt-get install -y --no-install-recommends wrk || { apt-get update && apt-get install -y --no-install-recommends wrk; }; } \
		>/dev/null 2>&1 || die "could not install wrk"
fi
note "$(nproc) CPUs: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
note "$(uname -sr); $(go version | cut -d' ' -f3-); $("$PGBIN/postgres" --version); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
note "clients everywhere: $CLIENTS; load runs: ${WARMUP}s warm-up + ${DURATION}s measured"
if [[ -n ${BENCH_DB_PARAMS:-} ]]; then
	note "WHAT-IF RUN: the app's DATABASE_URL carries $BENCH_DB_PARAMS; not the product's defaults"
fi
load_note
note "wrk, the app, PostgreSQL (and anyone else's tests) share these CPUs"

WORK=$(mktemp -d /tmp/mitosis-bench.XXXXXX)
chmod 755 "$WORK"

# --- 1. the cross-module call -------------------------------------------------

section "1. users.Service.Get: direct vs in-process vs HTTP (go test -bench, count $COUNT)"
note "dispatch = Get with a malformed id: refused before the database (pure call overhead; HTTP still round-trips)"
note "db       = Get of a real user: one PostgreSQL query each time (the test cluster, fsync off; reads only)"
load_note
# One `go test -count 1` per repetition rather than -count N, which repeats
# each sub-benchmark N times in a row: interleaved, a burst of others' load
# on the shared machine slows all three ways of calling alike instead of
# only the one it falls on, and the ratios stay comparable.
for i in $(seq "$COUNT"); do
	{ timeout 900 go test -run '^$' -bench '^BenchmarkGet$' -benchmem -count 1 -timeout 14m ./modules/users/ 2>&1 || true; } |
		tee -a "$WORK/gobench.txt" | grep -E '^(Benchmark|ok|FAIL|---|panic)' | sed "s/^/  | $i: /"
done
[[ $(grep -c '^ok' "$WORK/gobench.txt") == "$COUNT" ]] || die "go benchmarks failed"
# Medians over the repetitions, by sub-benchmark and unit.
for name in dispatch/direct dispatch/inprocess dispatch/http db/direct db/inprocess db/http; do
	for unit in ns/op allocs/op B/op p50-ns p99-ns; do
		v=$(awk -v n="BenchmarkGet/$name" -v u="$unit" '
			{ sub(/-[0-9]+$/, "", $1) }
			$1 == n { for (i = 3; i < NF; i += 2) if ($(i + 1) == u) print $i }' "$WORK/gobench.txt" | median)
		R["go_${name}_${unit}"]=${v:-}
	done
done

# --- 2. PostgreSQL ------------------------------------------------------------

section "2. Throwaway PostgreSQL cluster (fsync on, defaults otherwise)"
PGPORT=$(free_port)
mkdir -p "$WORK/pg"
chown postgres:postgres "$WORK/pg"
PGDATA_DIR=$WORK/pg/data
runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres -A trust -E UTF8 --no-sync >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/pg/postgres.log" -w -t 60 \
	-o "-p $PGPORT -k $WORK/pg -c listen_addresses=127.0.0.1" start >/dev/null
note "listening on 127.0.0.1:$PGPORT; $(psql_db postgres -Atc "SELECT 'fsync=' || current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit') || ', shared_buffers=' || current_setting('shared_buffers') || ', max_connections=' || current_setting('max_connections')")"
[[ $(psql_db postgres -Atc 'SHOW fsync') == on ]] || die "fsync is off: durability numbers would be meaningless"
for db in one_process three_processes sql_bound; do
	psql_db postgres -c "CREATE DATABASE $db"
done

# --- 3. one process -----------------------------------------------------------

section "3. Order placement, every module in one process (wrk)"
start_app all DATABASE_URL="$(db_url one_process)"
make_users "$APP_URL" "$APP_URL" "$WORK/tokens-one.txt"
run_wrk one "$APP_URL" "$WORK/tokens-one.txt" one_process
capture_statements one_process "$APP_URL" "$(head -1 "$WORK/tokens-one.txt")"
compare_with_script
stop_apps

# --- 4. three processes -------------------------------------------------------

section "4. Order placement, three processes: SERVICES=users / payments / orders (wrk)"
# payments first: users delivers user.registered to it; payments reads
# users' JWKS at a port chosen before users starts.
USERS_PORT=$(free_port)
start_app payments SERVICES=payments DATABASE_URL="$(db_url three_processes)" USERS_URL="http://127.0.0.1:$USERS_PORT"
PAYMENTS=$APP_URL
start_app users SERVICES=users DATABASE_URL="$(db_url three_processes)" PAYMENTS_URL="$PAYMENTS" HTTP_ADDR="127.0.0.1:$USERS_PORT"
USERS=$APP_URL
start_app orders SERVICES=orders DATABASE_URL="$(db_url three_processes)" USERS_URL="$USERS" PAYMENTS_URL="$PAYMENTS"
ORDERS=$APP_URL
make_users "$USERS" "$PAYMENTS" "$WORK/tokens-three.txt"
run_wrk three "$ORDERS" "$WORK/tokens-three.txt" three_processes
# The same statements must reach PostgreSQL when the calls and the event
# delivery go over HTTP.
capture_statements three_processes "$ORDERS" "$(head -1 "$WORK/tokens-three.txt")"
compare_with_script
stop_apps

# --- 5. the database's bound ------------------------------------------------

section "5. The same placement as plain SQL (pgbench, bench/place_order.sql)"
env DATABASE_URL="$(db_url sql_bound)" SERVICE_SECRET="$SECRET" SIGNING_KEY_SECRET="$SECRET" DATA_DIR="$WORK/data-migrate" \
	"$APP" migrate up >/dev/null
# One user with a wallet per pgbench client, as the app would have them.
psql_db sql_bound <<SQL
INSERT INTO users.users (id, email, name, password_hash)
SELECT ('00000000-0000-7000-8000-' || (100000000000 + g))::uuid, 'pgbench-' || g || '@example.com', 'pgbench', 'x'
FROM generate_series(0, $CLIENTS - 1) g;
INSERT INTO payments.wallets (user_id, balance_cents) SELECT id, 100000000 FROM users.users;
INSERT INTO payments.ledger_entries (user_id, kind, amount_cents) SELECT user_id, 'deposit', balance_cents FROM payments.wallets;
SQL
note "script: request path ${R[scr_request_statements]} statements, ${R[scr_request_commits]} durable commits;" \
	"per event ${R[scr_event_statements]} statements, ${R[scr_event_commits]} durable commits;" \
	"relay shares ${R[scr_poll_statements]} statements, ${R[scr_poll_commits]} commits with synchronous_commit off (checked against the app in sections 3 and 4)"
pgb() {
	PGOPTIONS='-c search_path=orders,payments,users' timeout $(($1 + 60)) \
		pgbench -n -h 127.0.0.1 -p "$PGPORT" -U postgres -c "$CLIENTS" -j "$(nproc)" -T "$1" \
		-f "$ROOT/bench/place_order.sql" "${@:2}" sql_bound
}
note "warm-up: ${WARMUP}s"
pgb "$WARMUP" >/dev/null 2>&1
before=$(orders_confirmed sql_bound)
load_note
note "measuring: pgbench -c $CLIENTS -j $(nproc) -T $DURATION (simple protocol)"
mkdir -p "$WORK/pgbench-log"
m0=$(cpu_mark)
pgb "$DURATION" -l --log-prefix="$WORK/pgbench-log/tx" 2>&1 | tee "$WORK/pgbench.txt" | grep -vE '^(pgbench \(|transaction type)' | sed 's/^/  | /'
m1=$(cpu_mark)
R[sql_tps]=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$WORK/pgbench.txt")
[[ -n ${R[sql_tps]} ]] || die "pgbench printed no tps"
R[sql_failed]=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/pgbench.txt")
# Per-transaction log: the third field is the latency in microseconds.
cat "$WORK"/pgbench-log/tx* | awk '{ print $3 }' | sort -n >"$WORK/pgbench-lat.txt"
pct() { awk -v p="$1" '{ v[NR] = $1 } END { i = int((NR - 1) * p / 100) + 1; print v[i] }' "$2"; }
R[sql_p50_us]=$(pct 50 "$WORK/pgbench-lat.txt")
R[sql_p99_us]=$(pct 99 "$WORK/pgbench-lat.txt")
R[sql_confirmed]=$(($(orders_confirmed sql_bound) - before))
note "orders confirmed during the run: ${R[sql_confirmed]}; failed transactions: ${R[sql_failed]:-0}"
cpu_report sql "$m0" "$m1" "${R[sql_confirmed]}"

# --- 6. summary ---------------------------------------------------------------

section "Summary"
summary() {
	local bound=${R[sql_tps]}
	ms() { awk -v us="$1" 'BEGIN { printf "%.2f ms", us / 1000 }'; }
	us() { awk -v ns="$1" 'BEGIN { printf "%.1f us", ns / 1000 }'; }
	pctof() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", 100 * a / b }'; }
	verdict() { if (($1)); then echo MET; else echo MISSED; fi; }
	ge() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 >= b + 0) ? 1 : 0 }'; }
	le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 <= b + 0) ? 1 : 0 }'; }
	local key label target p

	echo "Order placement: $CLIENTS clients, ${DURATION}s, fsync on, two items per order"
	printf '  %-24s %8s %10s %10s %9s %8s %s\n' run tps p50 p99 "of bound" target verdict
	printf '  %-24s %8.0f %10s %10s %9s\n' "pgbench SQL (the bound)" "$bound" \
		"$(ms "${R[sql_p50_us]}")" "$(ms "${R[sql_p99_us]}")" 100%
	for key in one three; do
		if [[ $key == one ]]; then label="one process" target=50; else label="three processes" target=35; fi
		p=$(pctof "${R[${key}_tps]}" "$bound")
		printf '  %-24s %8.0f %10s %10s %8s%% %7s%% %s\n' "$label" "${R[${key}_tps]}" \
			"$(ms "${R[${key}_p50_us]}")" "$(ms "${R[${key}_p99_us]}")" "$p" ">=$target" "$(verdict "$(ge "$p" "$target")")"
	done
	echo "  per placement, the app (one placement alone, idle polls left out): request path ${R[cap_request_statements]} statements," \
		"${R[cap_request_commits]} durable commits; asynchronous per event ${R[cap_event_statements]} statements, ${R[cap_event_commits]} durable commits;" \
		"relays' per-poll share ${R[cap_poll_statements]} statements, ${R[cap_poll_commits]} commits (shared by a batch under load);" \
		"$((R[cap_request_parses] + R[cap_event_parses] + R[cap_poll_parses])) prepared first"
	echo "  the pgbench script: request path ${R[scr_request_statements]}/${R[scr_request_commits]}, per event ${R[scr_event_statements]}/${R[scr_event_commits]}," \
		"relay shares ${R[scr_poll_statements]} statements, ${R[scr_poll_commits]} commits with synchronous_commit off"
	echo "  errors: one process ${R[one_non2xx]} non-2xx + ${R[one_socket_errors]} socket; three processes ${R[three_non2xx]} + ${R[three_socket_errors]}; pgbench ${R[sql_failed]:-0} failed"
	echo
	echo "CPU time per placement, ms ($(nproc) CPUs shared by everything; \"others\" is everyone else's work on the machine)"
	printf '  %-22s %9s %8s %11s %10s %8s %8s %17s\n' run "CPUs busy" app PostgreSQL "load gen" others total "tps if CPU-bound*"
	for key in sql one three; do
		case $key in sql) label="pgbench SQL" ;; one) label="one process" ;; three) label="three processes" ;; esac
		printf '  %-22s %9s %8s %11s %10s %8s %8s %17s\n' "$label" "${R[${key}_cpus_busy]}" "${R[${key}_cpu_app]}" \
			"${R[${key}_cpu_pg]}" "${R[${key}_cpu_gen]}" "${R[${key}_cpu_others]}" "${R[${key}_cpu_total]}" \
			"$(awk -v c="$(nproc)" -v a="${R[${key}_cpu_app]}" -v p="${R[${key}_cpu_pg]}" -v g="${R[${key}_cpu_gen]}" \
				'BEGIN { printf "%.0f", c * 1000 / (a + p + g) }')"
	done
	echo "  * $(nproc) CPUs divided by (app + PostgreSQL + load generator) CPU per order: the rate with the machine to"
	echo "    ourselves if CPU were the only limit (an estimate that ignores others' load; not a measurement)"
	echo
	echo "users.Service.Get, median of $COUNT runs"
	printf '  %-20s %10s %10s %9s %12s %12s\n' call ns/op allocs/op "x direct" p50 p99
	local kind way n a d ratio p50 p99
	for kind in dispatch db; do
		d=${R[go_${kind}/direct_ns/op]}
		for way in direct inprocess http; do
			n=${R[go_${kind}/${way}_ns/op]}
			a=${R[go_${kind}/${way}_allocs/op]}
			ratio=$(awk -v a="$n" -v b="$d" 'BEGIN { printf "%.2f", a / b }')
			R[go_${kind}_${way}_ratio]=$ratio
			p50=${R[go_${kind}/${way}_p50-ns]:-} p99=${R[go_${kind}/${way}_p99-ns]:-}
			printf '  %-20s %10s %10s %8sx %12s %12s\n' "$kind/$way" "$n" "$a" "$ratio" \
				"$([[ -n $p50 ]] && us "$p50" || echo -)" "$([[ -n $p99 ]] && us "$p99" || echo -)"
		done
	done
	echo
	echo "Targets"
	local r=${R[go_dispatch_inprocess_ratio]} ad=${R[go_dispatch/direct_allocs/op]} ai=${R[go_dispatch/inprocess_allocs/op]}
	local bd=${R[go_db/direct_allocs/op]} bi=${R[go_db/inprocess_allocs/op]}
	printf '  %-46s %-34s %s\n' "in-process <= 1.5x direct (dispatch)" "${r}x" "$(verdict "$(le "$r" 1.5)")"
	printf '  %-46s %-34s %s\n' "in-process allocs == direct allocs" "dispatch $ai vs $ad, db $bi vs $bd" \
		"$(verdict "$([[ $ai == "$ad" && $bi == "$bd" ]] && echo 1 || echo 0)")"
	local hp=${R[go_dispatch/http_p50-ns]}
	printf '  %-46s %-34s %s\n' "HTTP hop p50 < 100 us (dispatch/http)" "$(us "$hp"), p99 $(us "${R[go_dispatch/http_p99-ns]}")" \
		"$(verdict "$(awk -v n="$hp" 'BEGIN { print (n < 100000) ? 1 : 0 }')")"
	for key in one three; do
		if [[ $key == one ]]; then label="one process >= 50% of the bound" target=50; else label="three processes >= 35% of the bound" target=35; fi
		p=$(pctof "${R[${key}_tps]}" "$bound")
		printf '  %-46s %-34s %s\n' "$label" "$p% ($(printf '%.0f / %.0f' "${R[${key}_tps]}" "$bound") tps)" "$(verdict "$(ge "$p" "$target")")"
	done
	echo
	echo "Measured on a shared machine while others ran tests (see the load notes per run): indicative, not definitive."
}
summary | tee "$WORK/summary.txt"
if [[ -n ${BENCH_REPORT:-} ]]; then
	cp "$WORK/summary.txt" "$BENCH_REPORT"
fi
