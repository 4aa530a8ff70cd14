#!/usr/bin/env bash
# bench/run.sh: what `make bench` runs. In one go, on one throwaway
# PostgreSQL cluster (fsync on), it measures the app against references that
# do not move with our code, and prints each target as MET or MISSED:
#   1. the cross-module call users.Service.Get direct, in-process and over
#      HTTP, and the hop reference: the same request and answer over bare
#      net/http + encoding/json (go test -bench, BenchmarkGet and
#      BenchmarkHopReference);
#   2. the order reference: pgbench of bench/order_reference.sql, the least
#      SQL a durable three-step order saga with transactional events needs,
#      in a schema of its own (bench/order_reference_schema.sql);
#   3. order placement under wrk, every module in one process and then as
#      three processes, with the same clients and duration;
#   4. the replay of the app's own SQL (bench/place_order.sql), a
#      diagnostic of where the app's statements go: after each load run
#      one placement is captured from the app and the run stops if the
#      replay no longer matches it (bench/capture.sh);
#   5. event delivery, the app's outbox to users' inbox in one process and
#      in three, and the event reference, Watermill's SQL Pub/Sub, on the
#      same cluster restarted with track_commit_timestamp = on: the rate
#      through a backlog, the maximal rate published and delivered
#      together, and the latency from commit to effect at half that rate
#      (bench/events, a Go module of its own);
#   6. start-up to ready and idle RSS of `app serve`, one process;
#   7. the split advisor: `app advise`'s predicted p50 added latency of
#      POST /api/v1/orders with payments alone, against the same orders
#      run on that split (e2e/advise_test.go with ADVISE_LATENCY_CHECK=1);
# and prints a summary with the targets (bench/summary.sh). See
# BENCHMARKS.md for how to read it.
#
# Knobs (environment): BENCH_CLIENTS (8), BENCH_DURATION seconds (15),
# BENCH_WARMUP seconds (3), BENCH_COUNT go-bench repetitions (3),
# BENCH_EVENTS (backlog of the app's rate run, 2000), BENCH_WATERMILL_EVENTS
# (Watermill's, 20000), BENCH_EVENT_SECONDS (latency runs, 10),
# BENCH_STARTS (start-up measurements, 3), BENCH_EVENT_RATE (the app's
# latency runs at this rate instead of half the maximal rate: for
# comparisons at equal load; the latency verdicts then do not count),
# BENCH_EVENT_POLL (the event section's EVENTS_POLL_INTERVAL and
# Watermill's PollInterval, 5ms), BENCH_REPORT (a file to copy the
# summary to), BENCH_CAPTURE (a file to copy the classified capture to),
# APP (bin/app), PGBIN, BENCH_STATEMENTS (a diagnostic: PostgreSQL's
# statements per order under load, by shape, after each order run; its
# figures are not the product's), and BENCH_DB_PARAMS: extra query parameters for the
# app's DATABASE_URL, for what-if runs only (e.g.
# default_query_exec_mode=simple_protocol). BENCH_ONLY=events runs the
# cluster and section 7 alone, with the event part of the summary: the
# event targets measured in a few minutes, without the order runs;
# BENCH_ONLY=orders the cluster and sections 3-6 alone, with the order part
# of the summary (its targets, the capture checked against the replay).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
APP=${APP:-$ROOT/bin/app}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
CLIENTS=${BENCH_CLIENTS:-8}
DURATION=${BENCH_DURATION:-15}
WARMUP=${BENCH_WARMUP:-3}
COUNT=${BENCH_COUNT:-3}
EVENTS=${BENCH_EVENTS:-20000}
WM_EVENTS=${BENCH_WATERMILL_EVENTS:-20000}
EVENT_SECONDS=${BENCH_EVENT_SECONDS:-10}
# The app's EVENTS_POLL_INTERVAL in the event section, and Watermill's
# PollInterval beside it: bench/events writes from outside the app, where
# no commit wakes the relay (a module's own commits wake it in-process), so
# a short poll stands in for the wake-up, at most one interval late.
EVENT_POLL=${BENCH_EVENT_POLL:-5ms}
STARTS=${BENCH_STARTS:-3}
ONLY=${BENCH_ONLY:-}
[[ -z $ONLY || $ONLY == events || $ONLY == orders ]] || { echo "bench: BENCH_ONLY must be events, orders or unset, got $ONLY" >&2; exit 1; }
IDLE=3 # seconds idle after ready before reading RSS
SECRET=bench-secret-bench-secret-bench-secret-0123456789
ORDER_BODY='{"items":[{"sku":"COFFEE-1KG","quantity":1},{"sku":"FILTER-100","quantity":2}]}'

WORK=""
PGDATA_DIR=""
PIDS=()
declare -A R=() # results, by name

section() { printf '\n==== %s ==== (%d s into the run)\n' "$*" "$SECONDS"; }
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
	# The log exists before the background job opens it: the loop below
	# may read it first, and sed on a missing file fails the run.
	: >"$log"
	env HTTP_ADDR=127.0.0.1:0 SERVICE_SECRET="$SECRET" SIGNING_KEY_SECRET="$SECRET" TOKEN_TTL=1h DATA_DIR="$WORK/data-$name" \
		RATE_LIMIT_DEFAULT=off RATE_LIMIT_AUTH=off RATE_LIMIT_REGISTER=off ADMIN_ADDR=off "$@" \
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

# restock DB: ten million more of every SKU in inventory's stock, so no run
# sells out (the migrations stock 10,000 each: FILTER-100, two an order,
# would last 5,000 orders). Directly in the table, as stocked and available
# alike, which keeps its counts adding up.
restock() {
	psql_db "$1" -c "UPDATE inventory.stock SET stocked = stocked + 10000000, available = available + 10000000" >/dev/null
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
	statements_reset "$db"
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
	statements_report "$db" "${R[${key}_confirmed]}"
	if ((R[${key}_non2xx] > 0 || R[${key}_socket_errors] > 0)); then
		note "WARNING: errors during the run; one placement now answers:"
		api POST "$url/api/v1/orders" "$(head -1 "$tokens")" "$ORDER_BODY" 2>&1 | head -c 400 | sed 's/^/  | /' || true
		echo
	fi
}

# statements_reset DB, statements_report DB ORDERS: with BENCH_STATEMENTS
# set (a diagnostic; the extension costs PostgreSQL a little on every
# statement, so the figures of such a run are not the product's), what
# PostgreSQL ran during the measured run, per order confirmed: statements
# by shape (pg_stat_statements, values normalised away) with their calls
# and execution time, the heaviest first, and commits. It shows what the
# single placement's capture cannot: how often the relays run under load
# and how much each round costs.
statements_reset() {
	[[ -n ${BENCH_STATEMENTS:-} ]] || return 0
	psql_db "$1" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "SELECT pg_stat_statements_reset()" \
		-c "SELECT pg_stat_reset()" >/dev/null
}
statements_report() {
	[[ -n ${BENCH_STATEMENTS:-} ]] || return 0
	local db=$1 n=$2
	((n > 0)) || return 0
	note "statements per order confirmed ($n), by shape, heaviest first (pg_stat_statements; BENCH_STATEMENTS):"
	psql_db "$db" -At -F $'\t' -c "SELECT round(sum(calls)::numeric / $n, 2), round((sum(total_plan_time + total_exec_time) / $n)::numeric, 3),
			round(sum(rows)::numeric / greatest(sum(calls), 1), 1), left(regexp_replace(query, '\s+', ' ', 'g'), 110)
		FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		GROUP BY query ORDER BY sum(total_plan_time + total_exec_time) DESC LIMIT 30" |
		awk -F'\t' 'BEGIN { printf "  | %9s %9s %7s  %s\n", "calls", "ms", "rows", "statement (ms: planning and executing)" }
			{ printf "  | %9s %9s %7s  %s\n", $1, $2, $3, $4 }'
	psql_db "$db" -At -c "SELECT 'all: ' || round(sum(calls)::numeric / $n, 1) || ' statements, ' || round((sum(total_plan_time) / $n)::numeric, 3) || ' ms planning, ' || round((sum(total_exec_time) / $n)::numeric, 3) || ' ms executing'
		FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())" | sed 's/^/  | /'
	psql_db "$db" -At -c "SELECT 'commits: ' || round(xact_commit::numeric / $n, 1) || ', rollbacks: ' || round(xact_rollback::numeric / $n, 1)
		FROM pg_stat_database WHERE datname = current_database()" | sed 's/^/  | /'
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

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# shellcheck source=bench/capture.sh
source "$ROOT/bench/capture.sh"
# shellcheck source=bench/summary.sh
source "$ROOT/bench/summary.sh"

# start_three DB [VAR=value...]: payments, users and orders (with inventory)
# as three processes on DB, each with the settings given, as
# the e2e tests start them; sets PAYMENTS, USERS and ORDERS. payments comes
# first: users delivers user.registered to it, and payments reads users'
# JWKS at a port chosen before users starts.
start_three() {
	local users_port db=$1
	shift # the rest: more settings for every process
	users_port=$(free_port)
	start_app payments SERVICES=payments DATABASE_URL="$(db_url "$db")" USERS_URL="http://127.0.0.1:$users_port" "$@"
	PAYMENTS=$APP_URL
	start_app users SERVICES=users DATABASE_URL="$(db_url "$db")" PAYMENTS_URL="$PAYMENTS" HTTP_ADDR="127.0.0.1:$users_port" "$@"
	USERS=$APP_URL
	# inventory runs beside orders, as in the e2e split: its stock steps are
	# part of orders' saga.
	start_app orders SERVICES=orders,inventory DATABASE_URL="$(db_url "$db")" USERS_URL="$USERS" PAYMENTS_URL="$PAYMENTS" "$@"
	ORDERS=$APP_URL
}

# wait_idle DB: until the load's events are delivered and its sagas done.
wait_idle() {
	for _ in $(seq 300); do relays_idle "$1" && return 0; sleep 0.1; done
	die "the load run's events and sagas were not all done 30 s after it"
}

# check_orders KEY DB [SCHEMA]: every order placed is confirmed, once the
# work the load caused is done; into R[KEY_unconfirmed].
check_orders() {
	R[${1}_unconfirmed]=$(psql_db "$2" -Atc "SELECT count(*) FROM ${3:-orders}.orders WHERE status <> 'confirmed'")
	note "orders not confirmed after the run: ${R[${1}_unconfirmed]}"
}

# pgbench_run KEY DB SCRIPT SEARCH_PATH COUNT_SQL: warm-up, then the
# measured run of SCRIPT with the load runs' clients and duration; tps,
# latency percentiles, failures and CPU into R[KEY_*]. COUNT_SQL counts the
# confirmed orders (for CPU per order).
pgbench_run() {
	local key=$1 db=$2 script=$3 path=$4 count_sql=$5 before m0 m1
	pgb() {
		PGOPTIONS="-c search_path=$path" timeout $(($1 + 60)) \
			pgbench -n -h 127.0.0.1 -p "$PGPORT" -U postgres -c "$CLIENTS" -j "$(nproc)" -T "$1" \
			-f "$script" "${@:2}" "$db"
	}
	note "warm-up: ${WARMUP}s"
	pgb "$WARMUP" >/dev/null 2>&1
	before=$(psql_db "$db" -Atc "$count_sql")
	load_note
	note "measuring: pgbench -c $CLIENTS -j $(nproc) -T $DURATION -f ${script#"$ROOT"/} (simple protocol)"
	rm -rf "$WORK/pgbench-log" && mkdir -p "$WORK/pgbench-log"
	m0=$(cpu_mark)
	pgb "$DURATION" -l --log-prefix="$WORK/pgbench-log/tx" 2>&1 | tee "$WORK/pgbench-$key.txt" |
		grep -vE '^(pgbench \(|transaction type)' | sed 's/^/  | /'
	m1=$(cpu_mark)
	R[${key}_tps]=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$WORK/pgbench-$key.txt")
	[[ -n ${R[${key}_tps]} ]] || die "pgbench printed no tps"
	R[${key}_failed]=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/pgbench-$key.txt")
	R[${key}_failed]=${R[${key}_failed]:-0}
	# Per-transaction log: the third field is the latency in microseconds.
	cat "$WORK"/pgbench-log/tx* | awk '{ print $3 }' | sort -n >"$WORK/pgbench-lat.txt"
	R[${key}_p50_us]=$(pct 50 "$WORK/pgbench-lat.txt")
	R[${key}_p99_us]=$(pct 99 "$WORK/pgbench-lat.txt")
	R[${key}_confirmed]=$(($(psql_db "$db" -Atc "$count_sql") - before))
	note "orders confirmed during the run: ${R[${key}_confirmed]}; failed transactions: ${R[${key}_failed]}"
	cpu_report "$key" "$m0" "$m1" "${R[${key}_confirmed]}"
}
pct() { awk -v p="$1" '{ v[NR] = $1 } END { i = int((NR - 1) * p / 100) + 1; print v[i] }' "$2"; }

# events KEY ARGS...: runs bench/events with ARGS and reads its
# EVENTS_RESULT line into R[KEY_*].
events() {
	local key=$1 out line kv
	shift
	out=$("$WORK/events" "$@" 2>"$WORK/events-$key.log") || {
		tail -20 "$WORK/events-$key.log" >&2
		die "bench/events $* failed"
	}
	line=$(grep '^EVENTS_RESULT' <<<"$out") || die "bench/events printed no result"
	note "${line#EVENTS_RESULT }"
	for kv in ${line#EVENTS_RESULT }; do
		R[${key}_${kv%%=*}]=${kv#*=}
	done
}

# event_runs KEY BUS DB N [RATE]: the rate through a backlog of N events,
# then the latency for EVENT_SECONDS at RATE events a second, by default
# half the maximal rate: the largest the publishers and the bus sustain
# together (one event per transaction, kept up with while published),
# measured flat out for EVENT_SECONDS first. Half the backlog's rate is not
# it: draining, the bus has the CPUs to itself, and publishing one durable
# transaction per event on the same CPUs takes more of them than
# delivering it, so at half the drained rate the publishers could not keep
# the schedule and the run measured a saturated machine.
event_runs() {
	local key=$1 bus=$2 db=$3 n=$4 rate=${5:-} why="BENCH_EVENT_RATE"
	[[ $bus == outbox ]] || why="same rate as the app's one-process run"
	local poll=()
	[[ $bus == outbox ]] || poll=(-poll "$EVENT_POLL")
	load_note
	note "rate: a backlog of $n order.confirmed events, committed at once, then drained"
	events "${key}_rate" -bus "$bus" -mode rate -n "$n" -db "$(db_url "$db")" "${poll[@]}"
	if [[ -z $rate ]]; then
		note "maximal rate: one event per transaction, asked at the drained rate (${R[${key}_rate_rate]%.*}/s) for ${EVENT_SECONDS}s, publishers flat out"
		events "${key}_max" -bus "$bus" -mode latency -rate "${R[${key}_rate_rate]%.*}" -duration "${EVENT_SECONDS}s" -db "$(db_url "$db")" "${poll[@]}"
		rate=$(awk -v r="${R[${key}_max_kept_rate]}" 'BEGIN { printf "%.0f", r / 2 }') why="half the maximal rate, ${R[${key}_max_kept_rate]%.*}/s kept up with"
	fi
	note "latency: one event per transaction at $rate/s ($why) for ${EVENT_SECONDS}s, commit to effect"
	events "${key}_lat" -bus "$bus" -mode latency -rate "$rate" -duration "${EVENT_SECONDS}s" -db "$(db_url "$db")" "${poll[@]}"
}

# http_ready PORT: /health/ready answers 200, asked without forking (a
# curl per poll would cost the start it measures).
http_ready() {
	local line=""
	{ exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
	printf 'GET /health/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
	IFS= read -r -t 2 line <&3 || true
	exec 3<&-
	[[ $line == HTTP/1.?" 200 "* ]]
}

# start_to_ready I DB: starts `app serve` (one process) on the migrated DB,
# times it to /health/ready 200, lets it idle IDLE seconds and reads its
# RSS from /proc; into R[start_I_ms] and R[start_I_rss_kb].
start_to_ready() {
	local i=$1 port url pid t0 t1
	port=$(free_port)
	url=$(db_url "$2")
	t0=${EPOCHREALTIME/[.,]/}
	env HTTP_ADDR="127.0.0.1:$port" SERVICE_SECRET="$SECRET" SIGNING_KEY_SECRET="$SECRET" DATA_DIR="$WORK/data-start" \
		DATABASE_URL="$url" "$APP" serve >"$WORK/start-$i.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	until http_ready "$port"; do
		kill -0 "$pid" 2>/dev/null || {
			cat "$WORK/start-$i.log" >&2
			die "app serve exited during start"
		}
		((${EPOCHREALTIME/[.,]/} - t0 < 60000000)) || die "app serve not ready after 60 s"
		sleep 0.005
	done
	t1=${EPOCHREALTIME/[.,]/}
	sleep "$IDLE"
	R[start_${i}_ms]=$(((t1 - t0 + 500) / 1000))
	R[start_${i}_rss_kb]=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
	note "start $i: ready after ${R[start_${i}_ms]} ms; RSS after ${IDLE}s idle: $(awk -v k="${R[start_${i}_rss_kb]}" 'BEGIN { printf "%.1f", k / 1024 }') MB"
	stop_apps
}

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
# The event tool and its Watermill are a Go module of their own (bench/events).
(cd "$ROOT/bench/events" && go build -o "$WORK/events" .) || die "could not build bench/events"

# --- 1. the cross-module call and the hop reference ---------------------------

if [[ -z $ONLY ]]; then
section "1. users.Service.Get: direct vs in-process (direct, strict) vs HTTP, and the hop reference (go test -bench, count $COUNT)"
note "dispatch = Get with a malformed id: refused before the database (pure call overhead; HTTP still round-trips)"
note "db       = Get of a real user: one PostgreSQL query each time (the test cluster, fsync off; reads only)"
note "strict   = in-process with LOCAL_CALLS=strict: the HTTP path through the process's own handler, no socket"
note "hop reference = dispatch/http's request and answer over bare net/http + encoding/json (BenchmarkHopReference)"
load_note
# One `go test -count 1` per repetition rather than -count N, which repeats
# each sub-benchmark N times in a row: interleaved, a burst of others' load
# on the shared machine slows all the ways of calling alike instead of
# only the one it falls on, and the ratios stay comparable.
for i in $(seq "$COUNT"); do
	{ timeout 900 go test -run '^$' -bench '^(BenchmarkGet|BenchmarkHopReference)$' -benchmem -count 1 -timeout 14m ./modules/users/ 2>&1 || true; } |
		tee -a "$WORK/gobench.txt" | grep -E '^(Benchmark|ok|FAIL|---|panic)' | sed "s/^/  | $i: /"
done
[[ $(grep -c '^ok' "$WORK/gobench.txt") == "$COUNT" ]] || die "go benchmarks failed"
# Medians over the repetitions, by benchmark and unit.
for name in Get/dispatch/direct Get/dispatch/forwarder Get/dispatch/inprocess Get/dispatch/strict Get/dispatch/http Get/db/direct Get/db/inprocess Get/db/strict Get/db/http HopReference; do
	for unit in ns/op allocs/op B/op p50-ns p99-ns; do
		v=$(awk -v n="Benchmark$name" -v u="$unit" '
			{ sub(/-[0-9]+$/, "", $1) }
			$1 == n { for (i = 3; i < NF; i += 2) if ($(i + 1) == u) print $i }' "$WORK/gobench.txt" | median)
		R["go_${name}_${unit}"]=${v:-}
	done
done
fi

# --- 2. PostgreSQL ------------------------------------------------------------

section "2. Throwaway PostgreSQL cluster (fsync on, defaults otherwise)"
PGPORT=$(free_port)
mkdir -p "$WORK/pg"
chown postgres:postgres "$WORK/pg"
PGDATA_DIR=$WORK/pg/data
runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres -A trust -E UTF8 --no-sync >/dev/null
PGOPTS="-p $PGPORT -k $WORK/pg -c listen_addresses=127.0.0.1"
if [[ -n ${BENCH_STATEMENTS:-} ]]; then
	PGOPTS+=" -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c pg_stat_statements.track_planning=on"
fi
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/pg/postgres.log" -w -t 60 -o "$PGOPTS" start >/dev/null
cluster_note() {
	note "listening on 127.0.0.1:$PGPORT; $(psql_db postgres -Atc "SELECT 'fsync=' || current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit') || ', shared_buffers=' || current_setting('shared_buffers') || ', max_connections=' || current_setting('max_connections') || ', track_commit_timestamp=' || current_setting('track_commit_timestamp')")"
	[[ $(psql_db postgres -Atc 'SHOW fsync') == on ]] || die "fsync is off: durability numbers would be meaningless"
}
cluster_note
for db in order_reference one_process three_processes sql_replay events_one events_three watermill; do
	psql_db postgres -c "CREATE DATABASE $db"
done

if [[ $ONLY != events ]]; then
# --- 3. the order reference -------------------------------------------------

section "3. The order reference (pgbench, bench/order_reference.sql: 4 durable commits, 15 statements)"
psql_db order_reference -v clients="$CLIENTS" -f "$ROOT/bench/order_reference_schema.sql" >/dev/null
note "schema ref (bench/order_reference_schema.sql), $CLIENTS customers with wallets, 2 products"
pgbench_run ref order_reference "$ROOT/bench/order_reference.sql" ref \
	"SELECT count(*) FROM ref.orders WHERE status = 'confirmed'"
check_orders ref order_reference ref

# --- 4. one process -----------------------------------------------------------

section "4. Order placement, every module in one process (wrk)"
start_app all DATABASE_URL="$(db_url one_process)"
restock one_process
make_users "$APP_URL" "$APP_URL" "$WORK/tokens-one.txt"
run_wrk one "$APP_URL" "$WORK/tokens-one.txt" one_process
wait_idle one_process
check_orders one one_process
capture_statements one_process "$APP_URL" "$(head -1 "$WORK/tokens-one.txt")"
compare_with_script
stop_apps

# --- 5. three processes -------------------------------------------------------

section "5. Order placement, three processes: SERVICES=users / payments / orders (wrk)"
start_three three_processes
restock three_processes
make_users "$USERS" "$PAYMENTS" "$WORK/tokens-three.txt"
run_wrk three "$ORDERS" "$WORK/tokens-three.txt" three_processes
wait_idle three_processes
check_orders three three_processes
# The same statements must reach PostgreSQL when the calls and the event
# delivery go over HTTP.
capture_statements three_processes "$ORDERS" "$(head -1 "$WORK/tokens-three.txt")"
compare_with_script
stop_apps

# --- 5b. the order reference again --------------------------------------------

# The reference runs on both sides of the app's runs, and the ratios divide
# by the mean of the two: on a shared machine whose others' load drifts over
# minutes, one run of it minutes before the app's can be as far from their
# conditions as the targets are from each other (236 to 536 tps, the same
# SQL, on 2026-12-03).
section "5b. The order reference again, after the app's runs (the ratios divide by the mean of both)"
pgbench_run ref2 order_reference "$ROOT/bench/order_reference.sql" ref \
	"SELECT count(*) FROM ref.orders WHERE status = 'confirmed'"
check_orders ref2 order_reference ref
R[ref_before_tps]=${R[ref_tps]}
R[ref_tps]=$(awk -v a="${R[ref_before_tps]}" -v b="${R[ref2_tps]}" 'BEGIN { printf "%.1f", (a + b) / 2 }')
note "the reference ran $(printf '%.0f' "${R[ref_before_tps]}") tps before the app's runs and $(printf '%.0f' "${R[ref2_tps]}") after: the ratios divide by their mean, $(printf '%.0f' "${R[ref_tps]}")"

# --- 6. the replay of the app's SQL (diagnostic) ------------------------------

section "6. Diagnostic: the app's own SQL replayed (pgbench, bench/place_order.sql)"
env DATABASE_URL="$(db_url sql_replay)" SERVICE_SECRET="$SECRET" SIGNING_KEY_SECRET="$SECRET" DATA_DIR="$WORK/data-migrate" \
	"$APP" migrate up >/dev/null
restock sql_replay
# One user with a wallet per pgbench client, as the app would have them.
psql_db sql_replay <<SQL
INSERT INTO users.users (id, email, name, password_hash)
SELECT ('00000000-0000-7000-8000-' || (100000000000 + g))::uuid, 'pgbench-' || g || '@example.com', 'pgbench', 'x'
FROM generate_series(0, $CLIENTS - 1) g;
INSERT INTO payments.wallets (user_id, balance_cents) SELECT id, 100000000 FROM users.users;
INSERT INTO payments.ledger_entries (user_id, kind, amount_cents) SELECT user_id, 'deposit', balance_cents FROM payments.wallets;
SQL
note "script: request path ${R[scr_request_statements]} statements, ${R[scr_request_commits]} durable commits;" \
	"per event ${R[scr_event_statements]} statements, ${R[scr_event_commits]} durable commits;" \
	"relay shares ${R[scr_poll_statements]} statements, ${R[scr_poll_commits]} commits with synchronous_commit off (checked against the app in sections 4 and 5)"
pgbench_run sql sql_replay "$ROOT/bench/place_order.sql" orders,payments,users,inventory \
	"SELECT count(*) FROM orders.orders WHERE status = 'confirmed'"
fi

if [[ $ONLY == orders ]]; then
	section "Summary (BENCH_ONLY=orders)"
	# Not in a pipeline: the checks set CHECKS_FAILED in this shell.
	order_summary >"$WORK/summary.txt"
	cat "$WORK/summary.txt"
	[[ -z ${BENCH_REPORT:-} ]] || cp "$WORK/summary.txt" "$BENCH_REPORT"
	[[ $CHECKS_FAILED == 0 ]] || die "the run's checks failed (see the summary): its figures do not count"
	exit 0
fi

# --- 7. event delivery and the event reference -------------------------------

section "7. Event delivery: the app's outbox to users' inbox, and Watermill's SQL Pub/Sub"
# Commit timestamps give each event's publisher commit and its effect's
# commit without a change to the app; the setting needs a restart.
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/pg/postgres.log" -w -t 60 -m fast \
	-o "$PGOPTS -c track_commit_timestamp=on" restart >/dev/null
cluster_note
note "events: order.confirmed as orders writes it (outbox row in orders' schema), for users' order_stats read model"
note "written from outside the app, which no commit of theirs wakes: the relay finds them by its poll, EVENTS_POLL_INTERVAL=$EVENT_POLL (BENCH_EVENT_POLL), at most that late; Watermill polls as often"

note "-- one process"
start_app events-all DATABASE_URL="$(db_url events_one)" EVENTS_POLL_INTERVAL="$EVENT_POLL"
event_runs ev_one outbox events_one "$EVENTS" "${BENCH_EVENT_RATE:-}"
stop_apps

note "-- three processes (orders' relay delivers to users over HTTP)"
start_three events_three EVENTS_POLL_INTERVAL="$EVENT_POLL"
event_runs ev_three outbox events_three "$EVENTS" "${BENCH_EVENT_RATE:-}"
stop_apps

note "-- the event reference: Watermill SQL Pub/Sub (watermill v1.5.1, watermill-sql/v4 v4.1.2, pgx), publisher and subscriber in bench/events"
# Its latency at the app's one-process rate: the same arrivals on the same
# cluster (at half its own rate, one commit per event, the publishers
# would saturate PostgreSQL first).
event_runs ev_wm watermill watermill "$WM_EVENTS" "${R[ev_one_lat_target_rate]%.*}"

if [[ -n $ONLY ]]; then
	section "Summary (BENCH_ONLY=events)"
	event_summary | tee "$WORK/summary.txt"
	[[ -z ${BENCH_REPORT:-} ]] || cp "$WORK/summary.txt" "$BENCH_REPORT"
	exit 0
fi

# --- 8. start-up and idle memory ------------------------------------------------

section "8. Start to ready and idle RSS: app serve, one process, on a migrated database"
load_note
for i in $(seq "$STARTS"); do start_to_ready "$i" events_one; done
R[start_ms]=$(for i in $(seq "$STARTS"); do echo "${R[start_${i}_ms]}"; done | median)
R[start_rss_kb]=$(for i in $(seq "$STARTS"); do echo "${R[start_${i}_rss_kb]}"; done | median)

# --- 9. the split advisor's prediction against a real split -------------------

section "9. app advise: predicted vs measured p50 added latency of POST /api/v1/orders, payments alone (e2e)"
note "one process records the orders, app advise predicts, the same orders run on the split side by side (e2e/advise_test.go)"
note "its own test cluster (pgtest, fsync off): the hop is what is measured, not the disk"
load_note
{ ADVISE_LATENCY_CHECK=1 timeout 600 go test -count 1 -timeout 9m -run '^TestAdvisorPredictsWhatSplittingPaymentsAdds$' -v ./e2e/ 2>&1 || true; } |
	tee "$WORK/advise.txt" | grep -E 'round [0-9]+:|advise:|^(ok|FAIL|--- )' | sed 's/^ */  | /'
for key in predicted_us measured_us orders error_pct e2e_us e2e_error_pct; do
	R[adv_$key]=$(sed -n "s/.*advise-figures.* $key=\([-0-9.]*\).*/\1/p" "$WORK/advise.txt" | tail -1)
done
R[adv_ok]=$(grep -c '^ok' "$WORK/advise.txt" || true)

# --- 10. summary --------------------------------------------------------------

section "Summary"
# Not in a pipeline: summary's checks set CHECKS_FAILED in this shell.
summary >"$WORK/summary.txt"
cat "$WORK/summary.txt"
if [[ -n ${BENCH_REPORT:-} ]]; then
	cp "$WORK/summary.txt" "$BENCH_REPORT"
fi
[[ $CHECKS_FAILED == 0 ]] || die "the run's checks failed (see the summary): its figures do not count"
