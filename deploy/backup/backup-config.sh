#!/usr/bin/env bash
# backup-config.sh: backs up the configuration (CONFIG_PATHS: the config
# file, the env files, certificates) as a tar.gz encrypted with age to
# BACKUP_AGE_RECIPIENT -> BACKUP_DIR/config/config-<UTC>.tar.gz.age + .sha256,
# then prunes those older than BACKUP_CONFIG_RETENTION_DAYS (default 90).
#
# Configuration holds secrets (DB_PASSWORD, FILE_SIGNING_KEY, AWS keys), so
# the archive is encrypted as it is written: the plaintext never reaches the
# disk, and without a recipient nothing is written at all. Only the public key
# is needed here; the identity (private key) is needed to restore and must be
# kept elsewhere (a password manager, a vault), not beside the backups.
# Symbolic links are followed (Kubernetes Secret and ConfigMap mounts are
# links): the backup holds the content.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

parse_args "usage: $(basename -- "$0")
Backs up CONFIG_PATHS (colon-separated; default /etc/shipmentapp, plus
APP_CONFIG when set) encrypted with age to BACKUP_AGE_RECIPIENT (age or SSH
public keys, comma-separated) or the recipients in
BACKUP_AGE_RECIPIENTS_FILE, into \$BACKUP_DIR/config, pruning those older than
\$BACKUP_CONFIG_RETENTION_DAYS days (default 90)." "$@"
((${#ARGS[@]} == 0)) || die "unexpected argument ${ARGS[0]} (see --help)"

days BACKUP_CONFIG_RETENTION_DAYS 90
need_cmd tar gzip age sha256sum flock

recipients=()
IFS=, read -r -a list <<<"${BACKUP_AGE_RECIPIENT:-}"
for r in "${list[@]}"; do
	r=${r#"${r%%[![:space:]]*}"}
	r=${r%"${r##*[![:space:]]}"}
	[[ -z $r ]] || recipients+=(-r "$r")
done
if [[ -n ${BACKUP_AGE_RECIPIENTS_FILE:-} ]]; then
	[[ -r $BACKUP_AGE_RECIPIENTS_FILE ]] || die "cannot read BACKUP_AGE_RECIPIENTS_FILE ${BACKUP_AGE_RECIPIENTS_FILE}"
	recipients+=(-R "$BACKUP_AGE_RECIPIENTS_FILE")
fi
((${#recipients[@]})) || die "no age recipient: set BACKUP_AGE_RECIPIENT (an age1... public key, from age-keygen -y) or BACKUP_AGE_RECIPIENTS_FILE; an unencrypted configuration backup is never written"

if [[ -z ${CONFIG_PATHS:-} ]]; then
	CONFIG_PATHS=/etc/shipmentapp
	[[ -z ${APP_CONFIG:-} || ${APP_CONFIG} == /etc/shipmentapp/* ]] || CONFIG_PATHS+=":${APP_CONFIG}"
fi
members=()
IFS=: read -r -a paths <<<"$CONFIG_PATHS"
for p in "${paths[@]}"; do
	[[ -n $p ]] || continue
	[[ $p == /* ]] || p="$PWD/$p"
	[[ -e $p ]] || die "CONFIG_PATHS: ${p} does not exist"
	# Stored relative to /, so a restore puts it back where it was.
	members+=("${p#/}")
done
((${#members[@]})) || die "CONFIG_PATHS names nothing to back up"

dir=$(backup_dir config)
lock config
clean_partials "$dir"
final="$dir/config-$(utc_stamp).tar.gz.age"
partial tmp "$final"
log "backing up ${CONFIG_PATHS} encrypted to ${BACKUP_AGE_RECIPIENT:-}${BACKUP_AGE_RECIPIENTS_FILE:+ ${BACKUP_AGE_RECIPIENTS_FILE}}"
tar --create --gzip --dereference --file=- --directory=/ -- "${members[@]}" |
	age --encrypt "${recipients[@]}" --output="$tmp" || die "tar | age of ${CONFIG_PATHS} failed"
head -c 22 -- "$tmp" | grep -q '^age-encryption.org/v1' || die "age did not write an age file"
publish "$tmp" "$final"
prune "$dir" config "$BACKUP_CONFIG_RETENTION_DAYS"
