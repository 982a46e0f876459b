#!/usr/bin/env bash
# backup-db.sh: backs up the main database (DB_CONNECTION mysql, pgsql or
# sqlite) into BACKUP_DIR/db, then prunes backups older than
# BACKUP_DB_RETENTION_DAYS. Online: the application keeps running.
#
#   mysql   mariadb-dump (or mysqldump) in one consistent transaction, no lock
#           of the application's tables, gzip -> <db>-<UTC>.sql.gz
#   pgsql   pg_dump custom format (compressed, restorable object by object,
#           checked with pg_restore --list) -> <db>-<UTC>.dump
#   sqlite  sqlite3 .backup (a consistent online copy), checked with
#           PRAGMA integrity_check, gzip -> <name>-<UTC>.sqlite.gz
# each with a sha256 sidecar (<file>.sha256). Prints the backup's path.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

parse_args "usage: $(basename -- "$0")
Backs up the database of DB_CONNECTION/DB_HOST/DB_PORT/DB_DATABASE/DB_USERNAME/
DB_PASSWORD into \$BACKUP_DIR/db and prunes those older than
\$BACKUP_DB_RETENTION_DAYS days (default 30)." "$@"
((${#ARGS[@]} == 0)) || die "unexpected argument ${ARGS[0]} (see --help)"

db_config
days BACKUP_DB_RETENTION_DAYS 30
need_cmd gzip sha256sum flock
dir=$(backup_dir db)
lock db
clean_partials "$dir"
stamp=$(utc_stamp)
log "backing up $(db_where)"

case $DB_CONNECTION in
mysql)
	dump=$(first_cmd mariadb-dump mysqldump)
	mysql_cnf
	opts=(--single-transaction --quick --routines --triggers --events --hex-blob
		--default-character-set=utf8mb4 --no-tablespaces)
	# MySQL's mysqldump would otherwise write GTID_PURGED, which a restore
	# into a server with its own GTID history refuses.
	if "$dump" --help 2>/dev/null | grep -q -- '--set-gtid-purged'; then
		opts+=(--set-gtid-purged=OFF)
	fi
	final="$dir/$DB_TAG-$stamp.sql.gz"
	partial tmp "$final"
	# pipefail: a dump that fails, even after writing part of its output,
	# fails the pipeline, and the partial file is removed.
	"$dump" --defaults-extra-file="$MYSQL_CNF" "${opts[@]}" -- "$DB_DATABASE" | gzip -c >"$tmp" ||
		die "${dump} of ${DB_DATABASE} failed"
	# A complete dump ends with its trailer; reading it back also tests the
	# gzip stream.
	last=$(gzip -dc -- "$tmp" | tail -n 1) || die "the compressed dump does not read back"
	[[ $last == "-- Dump completed"* ]] || die "the dump does not end with its '-- Dump completed' trailer; it is incomplete"
	;;
pgsql)
	need_cmd pg_dump pg_restore
	pg_env
	final="$dir/$DB_TAG-$stamp.dump"
	partial tmp "$final"
	# Custom format rather than plain SQL + gzip: compressed by pg_dump,
	# checkable (pg_restore --list) and restorable selectively (one table,
	# schema only) without editing SQL.
	pg_dump --no-password --format=custom --compress=6 --file="$tmp" ||
		die "pg_dump of ${DB_DATABASE} failed"
	pg_restore --list -- "$tmp" >/dev/null || die "pg_restore cannot read the archive pg_dump wrote"
	;;
sqlite)
	need_cmd sqlite3
	[[ -f $DB_DATABASE ]] || die "no SQLite database at ${DB_DATABASE} (DB_DATABASE, default \$APP_DATA_DIR/shipmentapp.db)"
	final="$dir/$DB_TAG-$stamp.sqlite.gz"
	partial tmp "$final"
	partial raw "$dir/$DB_TAG-$stamp.sqlite"
	cleanup_later "$raw-wal" "$raw-shm" "$raw-journal"
	[[ $raw != *"'"* ]] || die "BACKUP_DIR must not contain a single quote"
	# The online backup API copies a consistent snapshot even while the
	# application writes (WAL mode); .timeout waits out a writer's lock.
	src=$DB_DATABASE
	[[ $src != -* ]] || src=./$src # sqlite3 takes no "--"
	sqlite3 -bail -cmd ".timeout 10000" "$src" ".backup main '$raw'" ||
		die "sqlite3 .backup of ${DB_DATABASE} failed"
	check=$(sqlite3 -bail "$raw" "PRAGMA integrity_check;") || die "the copy of ${DB_DATABASE} does not open"
	[[ $check == ok ]] || die "the copy of ${DB_DATABASE} fails PRAGMA integrity_check: ${check}"
	gzip -c -- "$raw" >"$tmp" || die "gzip failed"
	rm -f -- "$raw"
	gzip -t -- "$tmp" || die "the compressed copy does not read back"
	;;
esac

publish "$tmp" "$final"
prune "$dir" "$DB_TAG" "$BACKUP_DB_RETENTION_DAYS"
