#!/usr/bin/env bash
# restore-db.sh [--yes] FILE|latest: restores a backup of backup-db.sh into
# the configured main database (DB_*), REPLACING its content: every table,
# view, sequence, routine and event of that database is dropped first, so the
# result is the backup, whatever the database held (a newer schema included).
#
# The checksum sidecar is verified and the whole backup is read back before
# anything is touched; nothing happens without --yes or RESTORE_CONFIRM=yes.
#   pgsql   one transaction: a failure leaves the database as it was.
#   sqlite  the online backup API (.restore): atomic too.
#   mysql   DDL commits implicitly in MySQL/MariaDB, so a restore that fails
#           midway (the server going away) leaves the database partly
#           restored: run it again. It is written to the binary log, so
#           replicas replay it and end up restored as well.
# Stop the application (or scale it to zero) first: requests served during a
# restore read and write a database that is being replaced.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

parse_args "usage: $(basename -- "$0") [--yes] FILE|latest
Restores FILE (a backup of backup-db.sh; 'latest': the newest one in
\$BACKUP_DIR/db for DB_DATABASE) into the database of DB_CONNECTION/DB_HOST/
DB_PORT/DB_DATABASE/DB_USERNAME/DB_PASSWORD, replacing its content.
Needs --yes or RESTORE_CONFIRM=yes." "$@"
((${#ARGS[@]} == 1)) || die "give one backup file (see --help)"

db_config
need_cmd gzip sha256sum flock
file=${ARGS[0]}
[[ $file != latest ]] || file=$(latest "${BACKUP_DIR%/}/db" "$DB_TAG")
case $file in
*.sql.gz) kind=mysql ;;
*.dump) kind=pgsql ;;
*.sqlite.gz) kind=sqlite ;;
*) die "${file}: not a backup of backup-db.sh (.sql.gz, .dump or .sqlite.gz)" ;;
esac
[[ $kind == "$DB_CONNECTION" ]] || die "${file} is a ${kind} backup but DB_CONNECTION=${DB_CONNECTION}"

lock db
verify "$file"

# Read the whole backup back before touching anything.
case $DB_CONNECTION in
mysql)
	last=$(gzip -dc -- "$file" | tail -n 1) || die "${file} does not decompress; refusing to restore it"
	[[ $last == "-- Dump completed"* ]] || die "${file} does not end with the dump's trailer; it is incomplete, refusing to restore it"
	;;
pgsql)
	need_cmd pg_restore psql
	# Every block of the archive is decoded, not just its table of contents.
	pg_restore --file=/dev/null -- "$file" || die "${file} is damaged (pg_restore cannot read it); refusing to restore it"
	;;
sqlite)
	need_cmd sqlite3
	mkdir -p -- "$(dirname -- "$DB_DATABASE")"
	partial raw "$(dirname -- "$DB_DATABASE")/$(basename -- "$file" .gz)"
	cleanup_later "$raw-wal" "$raw-shm" "$raw-journal"
	[[ $raw != *"'"* ]] || die "the database's directory must not contain a single quote"
	gzip -dc -- "$file" >"$raw" || die "${file} does not decompress; refusing to restore it"
	check=$(sqlite3 -bail "$raw" "PRAGMA integrity_check;") || die "${file} does not hold a SQLite database"
	[[ $check == ok ]] || die "${file} fails PRAGMA integrity_check: ${check}"
	;;
esac

confirm "$(db_where) with ${file}"

case $DB_CONNECTION in
mysql)
	client=$(first_cmd mariadb mysql)
	mysql_cnf
	sql() { "$client" --defaults-extra-file="$MYSQL_CNF" --batch --raw --skip-column-names "$@"; }
	quoted=${DB_DATABASE//\`/\`\`}
	exists=$(sql -e "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '${DB_DATABASE//\'/\'\'}'") ||
		die "cannot connect to $(db_where)"
	if [[ $exists == 0 ]]; then
		log "database ${DB_DATABASE} does not exist: creating it"
		sql -e "CREATE DATABASE \`${quoted}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" || die "cannot create database ${DB_DATABASE}"
	fi
	drops=$(sql --database="$DB_DATABASE" -e "
		SELECT CONCAT('DROP ', IF(table_type = 'VIEW', 'VIEW', 'TABLE'), ' IF EXISTS \`', REPLACE(table_name, '\`', '\`\`'), '\`;')
		  FROM information_schema.tables WHERE table_schema = DATABASE()
		UNION ALL
		SELECT CONCAT('DROP ', routine_type, ' IF EXISTS \`', REPLACE(routine_name, '\`', '\`\`'), '\`;')
		  FROM information_schema.routines WHERE routine_schema = DATABASE()
		UNION ALL
		SELECT CONCAT('DROP EVENT IF EXISTS \`', REPLACE(event_name, '\`', '\`\`'), '\`;')
		  FROM information_schema.events WHERE event_schema = DATABASE()") ||
		die "cannot list the objects of ${DB_DATABASE}"
	log "dropping $(grep -c . <<<"$drops" || true) object(s) of ${DB_DATABASE}, then loading ${file}"
	{
		printf 'SET FOREIGN_KEY_CHECKS = 0;\n%s\nSET FOREIGN_KEY_CHECKS = 1;\n' "$drops"
		gzip -dc -- "$file"
	} | sql --default-character-set=utf8mb4 --database="$DB_DATABASE" ||
		die "loading ${file} into ${DB_DATABASE} failed; the database may be PARTLY restored: fix the cause and run the restore again"
	;;
pgsql)
	pg_env
	exists=$(printf '%s\n' "SELECT count(*) FROM pg_database WHERE datname = :'db';" |
		psql -X -q -t -A --no-password -v ON_ERROR_STOP=1 -v db="$DB_DATABASE" -d postgres 2>/dev/null) || exists=unknown
	if [[ $exists == 0 ]]; then
		log "database ${DB_DATABASE} does not exist: creating it"
		printf '%s\n' 'CREATE DATABASE :"db";' |
			psql -X -q --no-password -v ON_ERROR_STOP=1 -v db="$DB_DATABASE" -d postgres || die "cannot create database ${DB_DATABASE}"
	fi
	log "replacing every table, view and sequence of ${DB_DATABASE} with ${file}, in one transaction"
	# COMMIT is sent only once pg_restore has written the whole script: if
	# it fails, psql reaches the end of its input inside the transaction
	# and the server rolls it back.
	{
		cat <<-'SQL'
			BEGIN;
			DO $$
			DECLARE r record;
			BEGIN
			  FOR r IN
			    SELECT c.relkind, format('%I.%I', n.nspname, c.relname) AS name
			      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
			       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
			       AND n.nspname NOT LIKE 'pg\_%'
			       -- not what an extension owns, nor the sequences of identity
			       -- and serial columns (they go with their tables)
			       AND NOT EXISTS (SELECT 1 FROM pg_depend d
			                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
			                          AND (d.deptype = 'e' OR (c.relkind = 'S' AND d.deptype IN ('i', 'a'))))
			       AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)
			  LOOP
			    EXECUTE 'DROP ' || CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
			      WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END
			      || ' IF EXISTS ' || r.name || ' CASCADE';
			  END LOOP;
			END $$;
		SQL
		pg_restore --no-owner --no-privileges --clean --if-exists --file=- -- "$file" && printf '\nCOMMIT;\n'
	} | PGOPTIONS="-c client_min_messages=warning" psql -X -q --no-password -v ON_ERROR_STOP=1 >/dev/null ||
		die "restoring ${file} into ${DB_DATABASE} failed; the transaction was rolled back, the database is unchanged"
	;;
sqlite)
	dst=$DB_DATABASE
	[[ $dst != -* ]] || dst=./$dst
	# The backup API in reverse: the pages are replaced in one transaction,
	# under SQLite's locks (WAL included).
	sqlite3 -bail -cmd ".timeout 10000" "$dst" ".restore main '$raw'" || die "sqlite3 .restore into ${DB_DATABASE} failed"
	;;
esac
log "restored ${file} into $(db_where)"
