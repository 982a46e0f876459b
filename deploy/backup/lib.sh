# shellcheck shell=bash
# lib.sh: the functions shared by the backup and restore scripts of this
# directory. It is sourced, never run. It reads the application's own
# configuration variables (README, "Configuration") from the environment;
# the YAML file of APP_CONFIG is not read.
#
# Every script:
#   - logs to stderr, one line per event, with a UTC timestamp;
#   - writes a backup under a temporary name in its final directory and
#     renames it (checksum sidecar first) only once it is complete and checked,
#     so a file with a final name is always a whole, verified backup;
#   - holds a lock (flock) per kind, so two runs of the same kind never
#     overlap (a restore takes the lock of its kind too);
#   - exits non-zero on any failure and leaves no partial file behind.

set -euo pipefail
umask 077
export LC_ALL=C

SCRIPT_NAME=$(basename "${0}" .sh)

# Backups are named <name>-<UTC timestamp>.<extension>, the timestamp being
# STAMP_FORMAT; prune reads a backup's age from its name.
STAMP_FORMAT='%Y%m%dT%H%M%SZ'
STAMP_RE='([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z'

log() { printf '%s %s[%d]: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SCRIPT_NAME" "$$" "$*" >&2; }
warn() { log "WARNING: $*"; }
die() {
	log "ERROR: $*"
	exit 1
}

# Paths removed when the script exits, however it exits.
CLEANUP_PATHS=()
cleanup_later() { CLEANUP_PATHS+=("$@"); }
run_cleanup() {
	local status=$?
	if ((${#CLEANUP_PATHS[@]})); then
		rm -rf -- "${CLEANUP_PATHS[@]}" 2>/dev/null || true
	fi
	if ((status != 0)); then
		log "FAILED (exit ${status}); temporary files removed"
	fi
	return "$status"
}
trap run_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# need_cmd NAME...: fails unless every command exists.
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || die "required command not found: ${c}"
	done
}

# first_cmd NAME...: prints the first of the commands that exists.
first_cmd() {
	local c
	for c in "$@"; do
		if command -v "$c" >/dev/null 2>&1; then
			printf '%s\n' "$c"
			return 0
		fi
	done
	die "none of these commands is installed: $*"
}

# default VAR VALUE: sets VAR to VALUE when it is unset or empty.
default() {
	local name=$1 value=$2
	if [[ -z ${!name:-} ]]; then
		printf -v "$name" '%s' "$value"
	fi
}

# days VAR DEFAULT: sets VAR (a retention in days; 0 keeps everything) to its
# default when empty and checks it is a whole number.
days() {
	default "$1" "$2"
	[[ ${!1} =~ ^[0-9]+$ ]] || die "$1 must be a whole number of days, got '${!1}'"
}

# The settings every script shares.
default BACKUP_DIR /var/backups/shipmentapp
default APP_DATA_DIR ./data
default BACKUP_LOCK_WAIT 0
[[ $BACKUP_LOCK_WAIT =~ ^[0-9]+$ ]] || die "BACKUP_LOCK_WAIT must be a whole number of seconds, got '${BACKUP_LOCK_WAIT}'"

# ASSUME_YES is set by --yes or RESTORE_CONFIRM=yes.
ASSUME_YES=no
[[ ${RESTORE_CONFIRM:-} == yes ]] && ASSUME_YES=yes

# parse_args USAGE "$@": handles -h/--help and -y/--yes; the remaining
# arguments are left in ARGS.
ARGS=()
parse_args() {
	local usage=$1
	shift
	while (($#)); do
		case $1 in
		-h | --help)
			printf '%s\n' "$usage"
			exit 0
			;;
		-y | --yes) ASSUME_YES=yes ;;
		--)
			shift
			ARGS+=("$@")
			break
			;;
		-*) die "unknown option $1 (see --help)" ;;
		*) ARGS+=("$1") ;;
		esac
		shift
	done
}

# confirm WHAT: refuses to go on unless --yes or RESTORE_CONFIRM=yes.
confirm() {
	log "this restore will OVERWRITE ${1}"
	if [[ $ASSUME_YES != yes ]]; then
		die "refusing to restore without confirmation: run again with --yes or RESTORE_CONFIRM=yes"
	fi
}

# tag NAME: NAME with every character other than letters, digits, '.', '_'
# and '-' replaced by '_', for use in a file name.
tag() {
	local t=${1//[^A-Za-z0-9._-]/_}
	[[ -n $t ]] || t=backup
	printf '%s\n' "$t"
}

utc_stamp() { date -u +"$STAMP_FORMAT"; }

# backup_dir KIND: creates (mode 0700) and prints BACKUP_DIR/KIND.
backup_dir() {
	local d="${BACKUP_DIR%/}/$1"
	mkdir -p -- "$d" || die "cannot create ${d}"
	printf '%s\n' "$d"
}

# lock KIND: takes the lock of KIND for the rest of the script, waiting at most
# BACKUP_LOCK_WAIT seconds (0: fail at once if another run holds it).
lock() {
	mkdir -p -- "$BACKUP_DIR" || die "cannot create ${BACKUP_DIR}"
	local file="${BACKUP_DIR%/}/.$1.lock"
	exec {LOCK_FD}>>"$file" || die "cannot open lock file ${file}"
	local how=(-n)
	((BACKUP_LOCK_WAIT > 0)) && how=(-w "$BACKUP_LOCK_WAIT")
	if ! flock "${how[@]}" "$LOCK_FD"; then
		die "another $1 backup or restore holds ${file}; not running two at once"
	fi
}

# partial VAR FINAL: sets VAR to the temporary name under which FINAL is
# written (a hidden file in the same directory, so the final rename is
# atomic), removed when the script exits.
partial() {
	printf -v "$1" '%s/.%s.partial.%s' "$(dirname -- "$2")" "$(basename -- "$2")" "$$"
	cleanup_later "${!1}"
}

# clean_partials DIR: removes what a killed run left in DIR (the caller holds
# the lock, so no other run is writing there).
clean_partials() {
	find "$1" -maxdepth 1 -name '.*.partial.*' -exec rm -rf -- {} + 2>/dev/null || true
}

sha256_of() {
	local h
	h=$(sha256sum <"$1") || die "cannot read $1"
	printf '%s\n' "${h%% *}"
}

# publish TMP FINAL: makes TMP, a complete and checked backup, appear as FINAL
# with its sha256sum-compatible sidecar FINAL.sha256. The sidecar is renamed
# into place first, so every backup under a final name has one.
publish() {
	local tmp=$1 final=$2 sum side
	[[ ! -e $final ]] || die "${final} already exists; not overwriting it"
	sum=$(sha256_of "$tmp")
	partial side "$final.sha256"
	printf '%s  %s\n' "$sum" "$(basename -- "$final")" >"$side"
	sync -- "$tmp" "$side"
	mv -f -- "$side" "$final.sha256"
	mv -f -- "$tmp" "$final"
	sync -- "$(dirname -- "$final")" 2>/dev/null || true
	log "wrote ${final} ($(stat -c %s -- "$final") bytes, sha256 ${sum})"
	printf '%s\n' "$final"
}

# verify FILE: checks FILE against FILE.sha256 (refusing a missing sidecar
# unless RESTORE_NO_VERIFY=yes).
verify() {
	local file=$1 want got
	[[ -f $file ]] || die "no such backup file: ${file}"
	if [[ ! -f $file.sha256 ]]; then
		[[ ${RESTORE_NO_VERIFY:-} == yes ]] || die "${file}.sha256 is missing: cannot verify the backup (RESTORE_NO_VERIFY=yes restores it unverified)"
		warn "${file}.sha256 is missing; restoring UNVERIFIED because RESTORE_NO_VERIFY=yes"
		return 0
	fi
	read -r want _ <"$file.sha256" || die "cannot read ${file}.sha256"
	got=$(sha256_of "$file")
	[[ $want =~ ^[0-9a-f]{64}$ ]] || die "${file}.sha256 does not hold a sha256"
	[[ $got == "$want" ]] || die "checksum mismatch: ${file} has sha256 ${got}, its sidecar says ${want}; the backup is damaged, refusing to restore it"
	log "checksum ok: ${file} (sha256 ${got})"
}

# stamp_epoch NAME PREFIX: prints the UTC time, in seconds since the epoch, of
# the backup file named NAME (PREFIX-<timestamp>.<ext>); fails for a name that
# is not such a backup.
stamp_epoch() {
	local rest=${1#"$2"-}
	[[ $1 == "$2"-* && $rest =~ ^${STAMP_RE}\. ]] || return 1
	local m=("${BASH_REMATCH[@]}")
	date -u -d "${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]} UTC" +%s 2>/dev/null
}

# prune DIR PREFIX DAYS: removes the backups PREFIX-<timestamp>.* of DIR (and
# their sidecars) whose timestamp is more than DAYS days old. The age is read
# from the name, not the modification time, which copies and restores of the
# backup directory do not keep; other files are never touched. DAYS=0 keeps
# everything.
prune() {
	local dir=$1 prefix=$2 days=$3 cutoff f epoch n=0
	if ((days == 0)); then
		log "retention 0: nothing pruned in ${dir}"
		return 0
	fi
	cutoff=$(($(date -u +%s) - days * 86400))
	shopt -s nullglob
	for f in "$dir/$prefix"-*; do
		[[ -f $f ]] || continue
		epoch=$(stamp_epoch "$(basename -- "$f")" "$prefix") || continue
		if ((epoch < cutoff)); then
			rm -f -- "$f"
			log "pruned $(basename -- "$f") (older than ${days} days)"
			n=$((n + 1))
		fi
	done
	shopt -u nullglob
	log "retention ${days} days: ${n} file(s) pruned in ${dir}"
}

# latest DIR PREFIX: prints the newest backup PREFIX-<timestamp>.* of DIR.
latest() {
	local f best=
	shopt -s nullglob
	for f in "$1/$2"-*; do
		[[ $f == *.sha256 ]] && continue
		stamp_epoch "$(basename -- "$f")" "$2" >/dev/null || continue
		[[ $f > $best ]] && best=$f
	done
	shopt -u nullglob
	[[ -n $best ]] || die "no backup $2-<timestamp> in $1"
	printf '%s\n' "$best"
}

# ---- the main database (DB_*) ----

# db_config: reads DB_CONNECTION and the variables it needs, with the app's
# defaults, and sets DB_TAG, the database's name in backup file names.
db_config() {
	default DB_CONNECTION sqlite
	case $DB_CONNECTION in
	sqlite)
		default DB_DATABASE "${APP_DATA_DIR%/}/shipmentapp.db"
		local base
		base=$(basename -- "$DB_DATABASE")
		DB_TAG=$(tag "${base%.*}")
		;;
	mysql | pgsql)
		local v
		for v in DB_HOST DB_DATABASE DB_USERNAME; do
			[[ -n ${!v:-} ]] || die "${v} is required with DB_CONNECTION=${DB_CONNECTION}"
		done
		if [[ $DB_CONNECTION == mysql ]]; then default DB_PORT 3306; else default DB_PORT 5432; fi
		[[ $DB_PORT =~ ^[0-9]+$ ]] || die "DB_PORT must be a port number, got '${DB_PORT}'"
		default DB_SSLMODE prefer
		DB_PASSWORD=${DB_PASSWORD:-}
		DB_TAG=$(tag "$DB_DATABASE")
		;;
	*) die "DB_CONNECTION must be mysql, pgsql or sqlite, got '${DB_CONNECTION}'" ;;
	esac
}

# db_where: the database db_config describes, for messages (no password).
db_where() {
	case $DB_CONNECTION in
	sqlite) printf 'SQLite database %s' "$DB_DATABASE" ;;
	*) printf '%s database %s on %s:%s (user %s)' "$DB_CONNECTION" "$DB_DATABASE" "$DB_HOST" "$DB_PORT" "$DB_USERNAME" ;;
	esac
}

# mysql_cnf: writes the connection settings, password included, to a private
# option file (never on a command line) and sets MYSQL_CNF to its path, for
# --defaults-extra-file.
mysql_cnf() {
	local f
	f=$(mktemp "${TMPDIR:-/tmp}/shipmentapp-backup.XXXXXX.cnf")
	cleanup_later "$f"
	MYSQL_CNF=$f
	q() {
		local s=${1//\\/\\\\}
		printf '"%s"' "${s//\"/\\\"}"
	}
	[[ $DB_PASSWORD != *$'\n'* && $DB_USERNAME != *$'\n'* ]] || die "DB_USERNAME and DB_PASSWORD must not contain a newline"
	{
		printf '[client]\n'
		printf 'protocol=TCP\n'
		printf 'host=%s\n' "$(q "$DB_HOST")"
		printf 'port=%s\n' "$DB_PORT"
		printf 'user=%s\n' "$(q "$DB_USERNAME")"
		[[ -z $DB_PASSWORD ]] || printf 'password=%s\n' "$(q "$DB_PASSWORD")"
	} >"$f"
}

# pg_env: exports the libpq variables of the main database (the password as
# PGPASSWORD, never on a command line).
pg_env() {
	export PGHOST=$DB_HOST PGPORT=$DB_PORT PGUSER=$DB_USERNAME PGDATABASE=$DB_DATABASE
	export PGSSLMODE=$DB_SSLMODE PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10} PGAPPNAME=shipmentapp-$SCRIPT_NAME
	if [[ -n $DB_PASSWORD ]]; then export PGPASSWORD=$DB_PASSWORD; else unset PGPASSWORD; fi
}

# files_root: the local file store's directory ($APP_DATA_DIR/files, as
# internal/app.OpenStorage opens it).
files_root() { printf '%s\n' "${APP_DATA_DIR%/}/files"; }

# aws_setup: sets AWS_ARGS for the aws CLI from the app's AWS_* variables (the
# CLI reads the credentials and region from the environment itself).
aws_setup() {
	need_cmd aws
	[[ -n ${AWS_BUCKET:-} ]] || die "AWS_BUCKET is required with FILESYSTEM_DISK=s3"
	default AWS_DEFAULT_REGION us-east-1
	export AWS_DEFAULT_REGION
	AWS_ARGS=()
	[[ -z ${AWS_ENDPOINT:-} ]] || AWS_ARGS+=(--endpoint-url "$AWS_ENDPOINT")
	if [[ ${AWS_USE_PATH_STYLE_ENDPOINT:-false} == true && -z ${AWS_CONFIG_FILE:-} ]]; then
		AWS_CONFIG_FILE=$(mktemp "${TMPDIR:-/tmp}/shipmentapp-aws.XXXXXX")
		cleanup_later "$AWS_CONFIG_FILE"
		printf '[default]\ns3 =\n    addressing_style = path\n' >"$AWS_CONFIG_FILE"
		export AWS_CONFIG_FILE
	fi
	default FILE_KEY_PREFIX files/
}
