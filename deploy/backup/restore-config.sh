#!/usr/bin/env bash
# restore-config.sh [--yes] FILE|latest: decrypts a config-<UTC>.tar.gz.age of
# backup-config.sh with the age identity BACKUP_AGE_IDENTITY and puts its files
# back under RESTORE_CONFIG_TARGET (default /, i.e. where they were; give a
# scratch directory to look before overwriting). Files of the target that the
# backup does not hold are left alone.
#
# The checksum is verified and the archive is decrypted and extracted into a
# private staging directory first: the target is written only once the whole
# backup has decrypted (age authenticates it) and extracted.
# Nothing happens without --yes or RESTORE_CONFIRM=yes.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

parse_args "usage: $(basename -- "$0") [--yes] FILE|latest
Decrypts FILE (a backup of backup-config.sh; 'latest': the newest in
\$BACKUP_DIR/config) with the age identity file BACKUP_AGE_IDENTITY and
restores its files under RESTORE_CONFIG_TARGET (default /).
Needs --yes or RESTORE_CONFIRM=yes." "$@"
((${#ARGS[@]} == 1)) || die "give one backup file, or latest (see --help)"

need_cmd tar gzip age sha256sum flock
[[ -n ${BACKUP_AGE_IDENTITY:-} ]] || die "BACKUP_AGE_IDENTITY (the age identity file whose public key the backup was encrypted to) is required"
[[ -r $BACKUP_AGE_IDENTITY ]] || die "cannot read the age identity ${BACKUP_AGE_IDENTITY}"
default RESTORE_CONFIG_TARGET /
file=${ARGS[0]}
[[ $file != latest ]] || file=$(latest "${BACKUP_DIR%/}/config" config)
[[ $file == *.tar.gz.age ]] || die "${file}: not a backup of backup-config.sh (.tar.gz.age)"

lock config
verify "$file"
stage=$(mktemp -d "${TMPDIR:-/tmp}/shipmentapp-config-restore.XXXXXX")
cleanup_later "$stage"
age --decrypt --identity="$BACKUP_AGE_IDENTITY" -- "$file" |
	tar --extract --gzip --file=- --directory="$stage" --preserve-permissions --numeric-owner ||
	die "${file} does not decrypt with ${BACKUP_AGE_IDENTITY} or does not extract; refusing to restore it (nothing was written)"
listing=$(cd "$stage" && find . -type f | sed 's|^\./|/|' | sort)
count=$(grep -c . <<<"$listing" || true)
log "the backup holds ${count} file(s):"
while IFS= read -r f; do
	[[ -z $f ]] || log "  ${f}"
done <<<"$listing"
confirm "those file(s) under ${RESTORE_CONFIG_TARGET}"
mkdir -p -- "$RESTORE_CONFIG_TARGET"
# --no-overwrite-dir: directories that exist (/, /etc) keep their owner and
# mode; files get the backup's (and, as root, their owner).
(cd "$stage" && tar --create --file=- --numeric-owner .) |
	tar --extract --file=- --directory="$RESTORE_CONFIG_TARGET" --no-overwrite-dir --preserve-permissions --numeric-owner ||
	die "writing the restored files under ${RESTORE_CONFIG_TARGET} failed; some may have been written"
log "restored ${count} file(s) of ${file} under ${RESTORE_CONFIG_TARGET}"
